#include "actors/topic_core.hpp"

#include <catch2/catch.hpp>

#include <memory>
#include <string>

using actormq::actors::topic_core;
using actormq::actors::topic_message;

namespace {

topic_message message(uint64_t sequence, std::string body = "body", int64_t expiration_ms = 0) {
  return topic_message{sequence, true, 4, expiration_ms,
                       std::make_shared<const std::string>(std::move(body))};
}

} // namespace

TEST_CASE("topic: a message goes to every current subscriber once, in order", "[topic]") {
  topic_core t(100, 1 << 20);
  auto a = t.add_subscriber(1, 10, 100);
  auto b = t.add_subscriber(2, 20, 100);
  CHECK(t.publish(message(1)) == 2);
  CHECK(t.publish(message(2)) == 2);
  auto out = t.take_dispatches(0);
  REQUIRE(out.size() == 4);
  std::vector<uint64_t> to_a, to_b;
  for (auto& d : out)
    (d.subscription == a ? to_a : to_b).push_back(d.message.sequence);
  CHECK(to_a == std::vector<uint64_t>{1, 2});
  CHECK(to_b == std::vector<uint64_t>{1, 2});
  CHECK(out.front().consumer_id == (out.front().subscription == a ? 10u : 20u));
  (void)b;
  CHECK(t.take_dispatches(0).empty());
  CHECK(t.in_flight() == 4);
  CHECK(t.pending() == 0);
}

TEST_CASE("topic: without subscribers a message goes nowhere", "[topic]") {
  topic_core t(100, 1 << 20);
  CHECK(t.publish(message(1)) == 0);
  CHECK(t.memory_bytes() == 0);
  CHECK(t.pending() == 0);
}

TEST_CASE("topic: a late subscriber gets only what is published after it came", "[topic]") {
  topic_core t(100, 1 << 20);
  t.add_subscriber(1, 10, 100);
  t.publish(message(1));
  auto late = t.add_subscriber(2, 20, 100);
  t.publish(message(2));
  uint64_t to_late = 0;
  for (auto& d : t.take_dispatches(0))
    if (d.subscription == late) {
      CHECK(d.message.sequence == 2);
      ++to_late;
    }
  CHECK(to_late == 1);
}

TEST_CASE("topic: credit bounds deliveries, and acknowledgements free the window", "[topic]") {
  topic_core t(100, 1 << 20);
  auto s = t.add_subscriber(1, 10, 2);
  for (uint64_t i = 1; i <= 5; ++i)
    t.publish(message(i));
  CHECK(t.take_dispatches(0).size() == 2);
  CHECK(t.pending() == 3);
  CHECK(t.acknowledge(s, {1, 2, 99}) == 2u);
  CHECK(t.in_flight() == 0);
  CHECK_FALSE(t.acknowledge(999, {1}).has_value());
  CHECK(t.add_credit(s, 10));
  auto out = t.take_dispatches(0);
  REQUIRE(out.size() == 3);
  CHECK(out[0].message.sequence == 3);
  CHECK(out[2].message.sequence == 5);
  CHECK_FALSE(t.add_credit(999, 1));
}

TEST_CASE("topic: a body shared by subscribers is held once, until the last took it", "[topic]") {
  topic_core t(100, 1 << 20);
  auto a = t.add_subscriber(1, 10, 0);
  t.add_subscriber(2, 20, 0);
  t.publish(message(1, std::string(100, 'x')));
  CHECK(t.memory_bytes() == 100);
  CHECK(t.pending() == 2);
  t.add_credit(a, 1);
  CHECK(t.take_dispatches(0).size() == 1);
  CHECK(t.memory_bytes() == 100); // the other subscriber still waits for it
  CHECK(t.remove_subscriber(2) == 1u);
  CHECK(t.memory_bytes() == 0);
  CHECK(t.pending() == 0);
}

TEST_CASE("topic: a slow subscriber over its pending limit holds the publisher", "[topic]") {
  topic_core t(3, 1 << 20);
  auto fast = t.add_subscriber(1, 10, 1000);
  auto slow = t.add_subscriber(2, 20, 0);
  for (uint64_t i = 1; i <= 3; ++i)
    t.publish(message(i));
  t.take_dispatches(0);
  CHECK_FALSE(t.over_limit());
  t.publish(message(4));
  CHECK(t.over_limit());
  CHECK(t.most_pending() == 4);
  t.add_credit(slow, 1);
  t.take_dispatches(0);
  CHECK_FALSE(t.over_limit());
  // A subscriber that leaves takes its backlog with it.
  t.publish(message(5));
  CHECK(t.over_limit());
  CHECK(t.remove_subscriber(slow) == 5u); // 4 pending, 1 in flight
  CHECK_FALSE(t.over_limit());
  CHECK_FALSE(t.remove_subscriber(slow).has_value());
  (void)fast;
}

TEST_CASE("topic: the memory limit holds the publisher too", "[topic]") {
  topic_core t(1000, 150);
  t.add_subscriber(1, 10, 0);
  t.publish(message(1, std::string(100, 'x')));
  CHECK_FALSE(t.over_limit());
  t.publish(message(2, std::string(100, 'x')));
  CHECK(t.over_limit());
}

TEST_CASE("topic: expired messages are dropped at dispatch and counted", "[topic]") {
  topic_core t(100, 1 << 20);
  t.add_subscriber(1, 10, 10);
  t.publish(message(1, "old", 1000));
  t.publish(message(2, "new", 0));
  auto out = t.take_dispatches(2000);
  REQUIRE(out.size() == 1);
  CHECK(out[0].message.sequence == 2);
  CHECK(t.expired() == 1);
  CHECK(t.memory_bytes() == 0);
}

TEST_CASE("topic: subscriptions of an owner", "[topic]") {
  topic_core t(100, 1 << 20);
  auto a = t.add_subscriber(7, 1, 1);
  auto b = t.add_subscriber(7, 2, 1);
  t.add_subscriber(8, 1, 1);
  CHECK(t.subscriptions_of(7) == std::vector<uint64_t>{a, b});
  CHECK(t.subscribers() == 3);
}

TEST_CASE("topic: a subscriber with a selector gets only what it selects", "[topic]") {
  auto colored = [](uint64_t sequence, const std::string& color) {
    actormq::protocol::envelope e;
    (*e.mutable_properties())["color"] = color;
    std::string bytes;
    actormq::protocol::encode_envelope(e, bytes);
    return topic_message{sequence, true, 4, 0,
                         std::make_shared<const std::string>(std::move(bytes))};
  };
  topic_core t(100, 1 << 20);
  auto red = t.add_subscriber(1, 10, 100, *actormq::protocol::selector::parse("color = 'red'"));
  auto all = t.add_subscriber(2, 20, 100);
  CHECK(t.publish(colored(1, "red")) == 2);
  CHECK(t.publish(colored(2, "blue")) == 1);
  CHECK(t.publish(message(3, "not an envelope")) == 1); // matches no selector
  std::vector<uint64_t> to_red, to_all;
  for (auto& d : t.take_dispatches(0))
    (d.subscription == red ? to_red : to_all).push_back(d.message.sequence);
  CHECK(to_red == std::vector<uint64_t>{1});
  CHECK(to_all == std::vector<uint64_t>{1, 2, 3});
  (void)all;
  // Only the red one's body is held for two.
  CHECK(t.pending() == 0);
}
