#include "protocol/cron.hpp"

#include <catch2/catch.hpp>

#include <ctime>

using namespace actormq::protocol;

namespace {

// Milliseconds of a UTC date and time.
int64_t utc(int year, int month, int day, int hour, int minute) {
  std::tm tm{};
  tm.tm_year = year - 1900;
  tm.tm_mon = month - 1;
  tm.tm_mday = day;
  tm.tm_hour = hour;
  tm.tm_min = minute;
  return static_cast<int64_t>(timegm(&tm)) * 1000;
}

int64_t next(const char* text, int64_t after) {
  auto cron = parse_cron(text);
  REQUIRE(cron);
  auto t = next_cron_time(*cron, after);
  REQUIRE(t);
  return *t;
}

} // namespace

TEST_CASE("every minute is due at the next whole minute") {
  CHECK(next("* * * * *", utc(2026, 12, 6, 16, 30) + 1) == utc(2026, 12, 6, 16, 31));
  CHECK(next("* * * * *", utc(2026, 12, 6, 16, 30)) == utc(2026, 12, 6, 16, 31));
}

TEST_CASE("steps, ranges and lists") {
  auto base = utc(2026, 12, 6, 16, 31);
  CHECK(next("*/15 * * * *", base) == utc(2026, 12, 6, 16, 45));
  CHECK(next("5,10 * * * *", base) == utc(2026, 12, 6, 17, 5));
  CHECK(next("0 9-17/4 * * *", base) == utc(2026, 12, 6, 17, 0));
  CHECK(next("30 2 * * *", base) == utc(2026, 12, 7, 2, 30));
  CHECK(next("0 0 1 1 *", base) == utc(2027, 1, 1, 0, 0));
  CHECK(next("10/20 * * * *", base) == utc(2026, 12, 6, 16, 50));
}

TEST_CASE("days of week, Sunday as 0 or 7, and either day field when both are given") {
  // 2026-12-06 is a Sunday.
  auto base = utc(2026, 12, 6, 16, 31);
  CHECK(next("0 12 * * 1", base) == utc(2026, 12, 7, 12, 0));
  CHECK(next("0 12 * * 7", base) == utc(2026, 12, 13, 12, 0));
  CHECK(next("0 12 * * 0", base) == utc(2026, 12, 13, 12, 0));
  CHECK(next("0 12 25 * 3", base) == utc(2026, 12, 9, 12, 0)); // Wednesday the 9th first
  CHECK(next("0 12 8 * 3", base) == utc(2026, 12, 8, 12, 0));  // the 8th first
  CHECK(next("0 0 29 2 *", base) == utc(2028, 2, 29, 0, 0));   // the next leap day
}

TEST_CASE("expressions that do not parse name the field") {
  for (auto text : {"", "* * * *", "* * * * * *", "60 * * * *", "* 24 * * *", "* * 0 * *",
                    "* * * 13 *", "* * * * 8", "*/0 * * * *", "a * * * *", "5-1 * * * *",
                    "1,,2 * * * *", "-1 * * * *", "1-x * * * *"}) {
    INFO(text);
    CHECK_FALSE(parse_cron(text));
  }
  auto bad = parse_cron("0 25 * * *");
  REQUIRE_FALSE(bad);
  CHECK(bad.message().find("hour") != std::string::npos);
}

TEST_CASE("a date that never comes has no next time") {
  auto cron = parse_cron("0 0 31 2 *");
  REQUIRE(cron);
  CHECK_FALSE(next_cron_time(*cron, utc(2026, 12, 6, 0, 0)));
}
