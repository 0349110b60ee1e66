// What a producer's message asks of the scheduler (ActiveMQ's AMQ_SCHEDULED_DELAY,
// AMQ_SCHEDULED_PERIOD, AMQ_SCHEDULED_REPEAT and AMQ_SCHEDULED_CRON properties;
// docs/scheduled.md), read from its envelope. No CAF.
#pragma once

#include "common/result.hpp"
#include "protocol/envelope.hpp"

#include <cstdint>
#include <optional>
#include <string>

namespace actormq::actors {

struct schedule_request {
  int64_t delay_ms = 0;
  int64_t period_ms = 0;
  int32_t repeat = 0; // deliveries after the first; -1: no end
  std::string cron;
};

// Nothing if the message asks for no scheduling (no such property, or a delay, period and
// repeat of 0 without a cron); an error (uri_errc::bad_option) for a value that is not a
// number, a negative delay or period, or a cron expression that does not parse. Numbers may be
// int or long properties, or strings of digits (STOMP's properties are strings).
std::optional<result<schedule_request>> schedule_request_of(const protocol::envelope& e);

// The first due time of a request sent at `now_ms`: the delay, then the next cron time if it
// has one; nothing if its cron has no next time.
std::optional<int64_t> first_due(const schedule_request& r, int64_t now_ms);

// After a delivery due at `due_ms`, made at `now_ms`: the next due time of a message with this
// period or cron (at least `now_ms`); nothing if its cron has no next time.
std::optional<int64_t> next_due(int64_t due_ms, int64_t period_ms, const std::string& cron,
                                int64_t now_ms);

} // namespace actormq::actors
