#include "actors/slow_subscriber_policy.hpp"
#include "actors/topic_core.hpp"

#include <catch2/catch.hpp>

#include <memory>
#include <string>

using actormq::actors::slow_subscriber_policy;
using actormq::actors::topic_core;
using actormq::actors::topic_message;

namespace {

topic_message message(uint64_t sequence, std::string body = "body") {
  return topic_message{sequence, false, 4, 0, std::make_shared<const std::string>(std::move(body))};
}

} // namespace

TEST_CASE("slow subscriber policy: names, holding and dropping", "[topic][slow]") {
  using actormq::actors::holds_publishers;
  using actormq::actors::messages_to_drop;
  using actormq::actors::parse_slow_subscriber_policy;
  CHECK(parse_slow_subscriber_policy("block") == slow_subscriber_policy::block);
  CHECK(parse_slow_subscriber_policy("drop_oldest") == slow_subscriber_policy::drop_oldest);
  CHECK_FALSE(parse_slow_subscriber_policy("drop-oldest"));
  CHECK_FALSE(parse_slow_subscriber_policy(""));
  CHECK(std::string(to_string(slow_subscriber_policy::drop_oldest)) == "drop_oldest");
  CHECK(std::string(to_string(slow_subscriber_policy::block)) == "block");
  CHECK_FALSE(holds_publishers(slow_subscriber_policy::block, 5, 5));
  CHECK(holds_publishers(slow_subscriber_policy::block, 6, 5));
  CHECK_FALSE(holds_publishers(slow_subscriber_policy::drop_oldest, 600, 5));
  CHECK(messages_to_drop(slow_subscriber_policy::block, 600, 5) == 0);
  CHECK(messages_to_drop(slow_subscriber_policy::drop_oldest, 5, 5) == 0);
  CHECK(messages_to_drop(slow_subscriber_policy::drop_oldest, 7, 5) == 2);
}

TEST_CASE("topic: drop_oldest keeps a slow subscriber's newest messages and counts the rest",
          "[topic][slow]") {
  topic_core t(3, 1 << 20, slow_subscriber_policy::drop_oldest);
  auto slow = t.add_subscriber(1, 10, 0);   // no credit: everything stays pending
  auto fast = t.add_subscriber(2, 20, 100); // takes everything at once
  for (uint64_t s = 1; s <= 10; ++s) {
    CHECK(t.publish(message(s)) == 2);
    for (auto& d : t.take_dispatches(0))
      CHECK(d.subscription == fast);
    CHECK_FALSE(t.over_limit()); // the publisher never waits
  }
  CHECK(t.pending() == 3);
  CHECK(t.discarded() == 7);
  auto discards = t.discards();
  REQUIRE(discards.size() == 1);
  CHECK(discards.front().owner == 1);
  CHECK(discards.front().consumer_id == 10);
  CHECK(discards.front().discarded == 7);
  // The bodies of dropped messages are no longer held: only the three pending ones are.
  CHECK(t.memory_bytes() == 3 * std::string("body").size());
  REQUIRE(t.add_credit(slow, 10));
  std::vector<uint64_t> got;
  for (auto& d : t.take_dispatches(0))
    got.push_back(d.message.sequence);
  CHECK(got == std::vector<uint64_t>{8, 9, 10});
  CHECK(t.in_flight() == 10 + 3);
  // The count stays after the subscriber left.
  REQUIRE(t.remove_subscriber(slow));
  CHECK(t.discarded() == 7);
  CHECK(t.discards().empty());
}

TEST_CASE("topic: block keeps every message and holds the publisher instead", "[topic][slow]") {
  topic_core t(3, 1 << 20, slow_subscriber_policy::block);
  t.add_subscriber(1, 10, 0);
  for (uint64_t s = 1; s <= 4; ++s)
    t.publish(message(s));
  CHECK(t.over_limit());
  CHECK(t.pending() == 4);
  CHECK(t.discarded() == 0);
  CHECK(t.discards().empty());
}

TEST_CASE("topic: drop_oldest still holds the publisher at the memory limit", "[topic][slow]") {
  topic_core t(100, 10, slow_subscriber_policy::drop_oldest);
  t.add_subscriber(1, 10, 0);
  t.publish(message(1, "0123456789"));
  CHECK_FALSE(t.over_limit());
  t.publish(message(2, "x"));
  CHECK(t.over_limit());
  CHECK(t.discarded() == 0);
}
