#include "actors/scheduled_request.hpp"

#include "protocol/cron.hpp"
#include "protocol/uri.hpp"

#include <algorithm>
#include <charconv>

namespace actormq::actors {

namespace {

// A numeric property: nothing if absent, false in `ok` if it is not a whole number.
std::optional<int64_t> number_property(const protocol::envelope& e, const std::string& name,
                                       bool& ok) {
  auto typed = e.typed_properties().find(name);
  if (typed != e.typed_properties().end()) {
    switch (typed->second.value_case()) {
    case actormq::store::PropertyValue::kIntValue:
      return typed->second.int_value();
    case actormq::store::PropertyValue::kLongValue:
      return typed->second.long_value();
    case actormq::store::PropertyValue::kShortValue:
      return typed->second.short_value();
    case actormq::store::PropertyValue::kByteValue:
      return typed->second.byte_value();
    default:
      ok = false;
      return std::nullopt;
    }
  }
  auto text = e.properties().find(name);
  if (text == e.properties().end())
    return std::nullopt;
  int64_t n = 0;
  auto& s = text->second;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), n);
  if (ec != std::errc{} || end != s.data() + s.size()) {
    ok = false;
    return std::nullopt;
  }
  return n;
}

failure bad(const std::string& what) {
  return failure{protocol::uri_errc::bad_option, what};
}

} // namespace

std::optional<result<schedule_request>> schedule_request_of(const protocol::envelope& e) {
  bool ok = true;
  auto delay = number_property(e, "AMQ_SCHEDULED_DELAY", ok);
  if (!ok)
    return bad("AMQ_SCHEDULED_DELAY is not a number of milliseconds");
  auto period = number_property(e, "AMQ_SCHEDULED_PERIOD", ok);
  if (!ok)
    return bad("AMQ_SCHEDULED_PERIOD is not a number of milliseconds");
  auto repeat = number_property(e, "AMQ_SCHEDULED_REPEAT", ok);
  if (!ok)
    return bad("AMQ_SCHEDULED_REPEAT is not a number");
  auto cron = e.properties().find("AMQ_SCHEDULED_CRON");
  schedule_request r;
  r.delay_ms = delay.value_or(0);
  r.period_ms = period.value_or(0);
  r.repeat = static_cast<int32_t>(std::clamp<int64_t>(repeat.value_or(0), -1, INT32_MAX));
  if (cron != e.properties().end())
    r.cron = cron->second;
  if (r.delay_ms < 0 || r.period_ms < 0)
    return bad("AMQ_SCHEDULED_DELAY and AMQ_SCHEDULED_PERIOD cannot be negative");
  if (!r.cron.empty()) {
    if (auto parsed = protocol::parse_cron(r.cron); !parsed)
      return bad("AMQ_SCHEDULED_CRON: " + parsed.message());
    // A cron without a repeat count runs until it is cancelled (ActiveMQ's).
    if (!repeat)
      r.repeat = -1;
    return r;
  }
  if (r.delay_ms == 0 && r.period_ms == 0 && r.repeat == 0)
    return std::nullopt;
  return r;
}

std::optional<int64_t> first_due(const schedule_request& r, int64_t now_ms) {
  int64_t due = now_ms + r.delay_ms;
  if (r.cron.empty())
    return due;
  auto cron = protocol::parse_cron(r.cron);
  if (!cron)
    return std::nullopt;
  return protocol::next_cron_time(*cron, due);
}

std::optional<int64_t> next_due(int64_t due_ms, int64_t period_ms, const std::string& cron,
                                int64_t now_ms) {
  if (cron.empty())
    return std::max(due_ms + period_ms, now_ms);
  auto parsed = protocol::parse_cron(cron);
  if (!parsed)
    return std::nullopt;
  return protocol::next_cron_time(*parsed, std::max(due_ms, now_ms));
}

} // namespace actormq::actors
