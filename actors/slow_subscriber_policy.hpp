// What a topic does with a non-durable subscriber that has more than its pending limit waiting
// for credit (limits.slow_topic_subscriber, docs/topics.md "A slow subscriber"): hold the
// publishers until it is back under the limit (ActiveMQ's producer flow control), or drop that
// subscriber's oldest pending messages and count them (ActiveMQ's
// constantPendingMessageLimitStrategy with the oldestMessageEvictionStrategy). Durable
// subscriptions are queues and never drop. Plain C++ (no CAF).
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

namespace actormq::actors {

enum class slow_subscriber_policy { block, drop_oldest };

// "block" or "drop_oldest"; nothing for any other text.
std::optional<slow_subscriber_policy> parse_slow_subscriber_policy(std::string_view text);

const char* to_string(slow_subscriber_policy policy);

// Whether a subscriber with `pending` messages waiting holds the publishers.
bool holds_publishers(slow_subscriber_policy policy, uint64_t pending, uint64_t limit);

// How many of its oldest pending messages a subscriber with `pending` waiting drops now.
uint64_t messages_to_drop(slow_subscriber_policy policy, uint64_t pending, uint64_t limit);

} // namespace actormq::actors
