// Cron expressions of ActiveMQ's AMQ_SCHEDULED_CRON (docs/scheduled.md): five fields, minute
// (0-59), hour (0-23), day of month (1-31), month (1-12) and day of week (0-7, 0 and 7 Sunday),
// each '*', a number, a range a-b, any of these with a step /n, or a comma-separated list of
// them. As in cron, when both day fields are restricted a day matching either one is due.
// Times are UTC. Plain C++ (no CAF).
#pragma once

#include "common/result.hpp"

#include <bitset>
#include <cstdint>
#include <optional>
#include <string_view>

namespace actormq::protocol {

struct cron_schedule {
  std::bitset<60> minutes;
  std::bitset<24> hours;
  std::bitset<32> days_of_month; // 1..31
  std::bitset<13> months;        // 1..12
  std::bitset<7> days_of_week;   // 0..6, Sunday 0
  bool any_day_of_month = true;  // the field was '*'
  bool any_day_of_week = true;
};

// Parses an expression. Errors (uri_errc::malformed, uri.hpp): the message names the field and
// what is wrong with it.
result<cron_schedule> parse_cron(std::string_view text);

// The first due time strictly after `after_ms` (milliseconds since the epoch), on a whole
// minute; nothing if none comes within the next five years (e.g. "0 0 31 2 *").
std::optional<int64_t> next_cron_time(const cron_schedule& cron, int64_t after_ms);

} // namespace actormq::protocol
