#include "protocol/cron.hpp"

#include "protocol/uri.hpp"

#include <charconv>
#include <ctime>
#include <string>
#include <vector>

namespace actormq::protocol {

namespace {

struct field_spec {
  const char* name;
  int low;
  int high;
};

constexpr field_spec fields[] = {{"minute", 0, 59},
                                 {"hour", 0, 23},
                                 {"day of month", 1, 31},
                                 {"month", 1, 12},
                                 {"day of week", 0, 7}};

failure bad(const field_spec& f, std::string_view part, const std::string& why) {
  return failure{uri_errc::malformed,
                 std::string("cron ") + f.name + " '" + std::string(part) + "': " + why};
}

bool number(std::string_view s, int& out) {
  if (s.empty() || s.size() > 4)
    return false;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc{} && end == s.data() + s.size();
}

// Sets in `bits` (indexed by value) the values one field allows; false with `why` on an error.
result<std::vector<bool>> parse_field(const field_spec& f, std::string_view text) {
  std::vector<bool> bits(static_cast<size_t>(f.high + 1), false);
  while (true) {
    auto comma = text.find(',');
    auto part = text.substr(0, comma);
    auto slash = part.find('/');
    auto range = part.substr(0, slash);
    int step = 1;
    if (slash != std::string_view::npos &&
        (!number(part.substr(slash + 1), step) || step < 1 || step > f.high))
      return bad(f, part, "the step after '/' is not a number from 1 to " + std::to_string(f.high));
    int from = f.low;
    int to = f.high;
    if (range != "*") {
      auto dash = range.find('-');
      if (!number(range.substr(0, dash), from))
        return bad(f, part, "not '*', a number or a range a-b");
      to = from;
      if (dash != std::string_view::npos && !number(range.substr(dash + 1), to))
        return bad(f, part, "the end of the range is not a number");
      // "a/n" is "a-high/n", as in cron.
      if (dash == std::string_view::npos && slash != std::string_view::npos)
        to = f.high;
      if (from < f.low || to > f.high || from > to)
        return bad(f, part, "outside " + std::to_string(f.low) + "-" + std::to_string(f.high));
    }
    for (int v = from; v <= to; v += step)
      bits[static_cast<size_t>(v)] = true;
    if (comma == std::string_view::npos)
      break;
    text = text.substr(comma + 1);
  }
  return bits;
}

} // namespace

result<cron_schedule> parse_cron(std::string_view text) {
  std::vector<std::string_view> parts;
  size_t i = 0;
  while (i < text.size()) {
    while (i < text.size() && (text[i] == ' ' || text[i] == '\t'))
      ++i;
    size_t start = i;
    while (i < text.size() && text[i] != ' ' && text[i] != '\t')
      ++i;
    if (i > start)
      parts.push_back(text.substr(start, i - start));
  }
  if (parts.size() != 5)
    return failure{uri_errc::malformed, "a cron expression has 5 fields (minute hour "
                                        "day-of-month month day-of-week), not " +
                                            std::to_string(parts.size())};
  cron_schedule out;
  for (size_t f = 0; f < 5; ++f) {
    auto bits = parse_field(fields[f], parts[f]);
    if (!bits)
      return bits.error();
    for (size_t v = 0; v < bits->size(); ++v) {
      if (!(*bits)[v])
        continue;
      switch (f) {
      case 0:
        out.minutes.set(v);
        break;
      case 1:
        out.hours.set(v);
        break;
      case 2:
        out.days_of_month.set(v);
        break;
      case 3:
        out.months.set(v);
        break;
      default:
        out.days_of_week.set(v % 7);
        break;
      }
    }
  }
  out.any_day_of_month = parts[2] == "*";
  out.any_day_of_week = parts[4] == "*";
  return out;
}

std::optional<int64_t> next_cron_time(const cron_schedule& cron, int64_t after_ms) {
  if (after_ms < 0)
    after_ms = -1;
  // From the next whole minute, skipping whole months, days and hours that cannot match.
  time_t t = static_cast<time_t>(after_ms / 60000 + 1) * 60;
  const time_t limit = t + time_t{5} * 366 * 24 * 3600;
  while (t < limit) {
    std::tm tm{};
    if (!gmtime_r(&t, &tm))
      return std::nullopt;
    if (!cron.months.test(static_cast<size_t>(tm.tm_mon + 1))) {
      tm.tm_mon += 1;
      tm.tm_mday = 1;
      tm.tm_hour = 0;
      tm.tm_min = 0;
      t = timegm(&tm);
      continue;
    }
    bool dom = cron.days_of_month.test(static_cast<size_t>(tm.tm_mday));
    bool dow = cron.days_of_week.test(static_cast<size_t>(tm.tm_wday));
    bool day = cron.any_day_of_month ? dow : cron.any_day_of_week ? dom : (dom || dow);
    if (!day) {
      tm.tm_mday += 1;
      tm.tm_hour = 0;
      tm.tm_min = 0;
      t = timegm(&tm);
      continue;
    }
    if (!cron.hours.test(static_cast<size_t>(tm.tm_hour))) {
      tm.tm_hour += 1;
      tm.tm_min = 0;
      t = timegm(&tm);
      continue;
    }
    if (!cron.minutes.test(static_cast<size_t>(tm.tm_min))) {
      t += 60;
      continue;
    }
    return static_cast<int64_t>(t) * 1000;
  }
  return std::nullopt;
}

} // namespace actormq::protocol
