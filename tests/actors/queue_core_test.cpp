#include "actors/queue_core.hpp"

#include <catch2/catch.hpp>

#include <map>
#include <set>

using namespace actormq::actors;

namespace {

queued_message msg(uint64_t seq, bool persistent = true, size_t size = 10) {
  queued_message m;
  m.sequence = seq;
  m.persistent = persistent;
  m.size = static_cast<uint32_t>(size);
  m.body = std::make_shared<const std::string>(size, 'x');
  return m;
}

std::vector<dispatch_decision> drain(queue_core& q, int64_t now = 1) {
  std::vector<dispatch_decision> out;
  std::vector<uint64_t> expired;
  while (auto d = q.next_dispatch(now, expired))
    out.push_back(*d);
  return out;
}

} // namespace

TEST_CASE("dispatch respects credit and keeps arrival order") {
  queue_core q(1 << 20);
  for (uint64_t i = 1; i <= 5; ++i)
    q.enqueue(msg(i));
  auto sub = q.add_consumer(7, 1, 3, 0);
  auto first = drain(q);
  REQUIRE(first.size() == 3);
  CHECK(first[0].message.sequence == 1);
  CHECK(first[2].message.sequence == 3);
  CHECK(first[0].message.delivery_count == 1);
  CHECK(q.pending() == 2);
  CHECK(q.in_flight() == 3);
  REQUIRE(q.add_credit(sub, 10));
  auto rest = drain(q);
  REQUIRE(rest.size() == 2);
  CHECK(rest[1].message.sequence == 5);
  CHECK_FALSE(q.add_credit(999, 1));
}

TEST_CASE("competing consumers of one priority share round robin") {
  queue_core q(1 << 20);
  auto a = q.add_consumer(1, 1, 100, 0);
  auto b = q.add_consumer(2, 1, 100, 0);
  for (uint64_t i = 1; i <= 10; ++i)
    q.enqueue(msg(i));
  auto all = drain(q);
  REQUIRE(all.size() == 10);
  size_t to_a = 0;
  for (auto& d : all)
    to_a += d.subscription == a ? 1 : 0;
  CHECK(to_a == 5);
  CHECK(all[0].subscription != all[1].subscription);
  (void)b;
}

TEST_CASE("a higher-priority consumer is served first while it has credit") {
  queue_core q(1 << 20);
  auto low = q.add_consumer(1, 1, 100, -1);
  auto high = q.add_consumer(2, 1, 2, 0);
  for (uint64_t i = 1; i <= 5; ++i)
    q.enqueue(msg(i));
  auto all = drain(q);
  REQUIRE(all.size() == 5);
  CHECK(all[0].subscription == high);
  CHECK(all[1].subscription == high);
  CHECK(all[2].subscription == low);
}

TEST_CASE("acknowledgements name keys; unknown keys are reported") {
  queue_core q(1 << 20);
  q.enqueue(msg(1));
  q.enqueue(msg(2, false));
  auto sub = q.add_consumer(1, 1, 10, 0);
  REQUIRE(drain(q).size() == 2);
  auto out = q.acknowledge(sub, {1, 2, 3});
  REQUIRE(out);
  CHECK(out->acknowledged == 2);
  CHECK(out->persistent_keys == std::vector<uint64_t>{1});
  CHECK(out->unknown_keys == std::vector<uint64_t>{3});
  CHECK(q.in_flight() == 0);
  CHECK_FALSE(q.acknowledge(42, {1}));
}

TEST_CASE("refused deliveries return first, marked redelivered, to the same consumer") {
  queue_core q(1 << 20);
  for (uint64_t i = 1; i <= 3; ++i)
    q.enqueue(msg(i));
  auto a = q.add_consumer(1, 1, 2, 0);
  REQUIRE(drain(q).size() == 2);
  // Key 3 is not in flight (still pending), key 7 unknown: both skipped.
  REQUIRE(q.return_deliveries(a, {2, 3, 7}) == std::optional<uint64_t>{1});
  CHECK(q.in_flight() == 1);
  CHECK(q.pending() == 2);
  CHECK_FALSE(q.return_deliveries(42, {1}));
  // The refused delivery's credit comes back as the client's credit does.
  REQUIRE(q.add_credit(a, 1));
  auto again = drain(q);
  REQUIRE(again.size() == 1);
  CHECK(again[0].message.sequence == 2);
  CHECK(again[0].message.redelivered);
  CHECK(again[0].message.delivery_count == 2);
  CHECK(again[0].subscription == a);
}

TEST_CASE("a closed consumer's deliveries return first, marked redelivered") {
  queue_core q(1 << 20);
  for (uint64_t i = 1; i <= 4; ++i)
    q.enqueue(msg(i));
  auto a = q.add_consumer(1, 1, 2, 0);
  REQUIRE(drain(q).size() == 2);
  REQUIRE(q.remove_consumer(a) == std::optional<uint64_t>{2});
  CHECK_FALSE(q.remove_consumer(a));
  q.add_consumer(2, 9, 10, 0);
  auto again = drain(q);
  REQUIRE(again.size() == 4);
  CHECK(again[0].message.sequence == 1);
  CHECK(again[0].message.redelivered);
  CHECK(again[0].message.delivery_count == 2);
  CHECK(again[0].consumer_id == 9);
  CHECK_FALSE(again[2].message.redelivered);
  CHECK(again[2].message.sequence == 3);
}

TEST_CASE("subscriptions of an owner are found for a vanished session") {
  queue_core q(1 << 20);
  auto a = q.add_consumer(5, 1, 1, 0);
  auto b = q.add_consumer(5, 2, 1, 0);
  q.add_consumer(6, 1, 1, 0);
  CHECK(q.subscriptions_of(5) == std::vector<uint64_t>{a, b});
}

TEST_CASE("memory: persistent bodies beyond the limit are dropped, non-persistent ones count") {
  queue_core q(100);
  q.enqueue(msg(1, true, 60));
  q.enqueue(msg(2, true, 60)); // would exceed: body dropped, read from the store later
  CHECK(q.memory_bytes() == 60);
  CHECK_FALSE(q.over_memory_limit());
  auto listed = q.browse(10);
  REQUIRE(listed.size() == 2);
  CHECK(listed[0].body);
  CHECK_FALSE(listed[1].body);
  q.enqueue(msg(3, false, 60)); // non-persistent: the only copy, always kept
  CHECK(q.memory_bytes() == 120);
  CHECK(q.over_memory_limit());
  auto sub = q.add_consumer(1, 1, 10, 0);
  auto all = drain(q);
  REQUIRE(all.size() == 3);
  // In flight: the persistent body is released, the non-persistent one stays until acked.
  CHECK(q.memory_bytes() == 60);
  REQUIRE(q.acknowledge(sub, {3}));
  CHECK(q.memory_bytes() == 0);
}

TEST_CASE("expired messages are skipped and reported") {
  queue_core q(1 << 20);
  auto m = msg(1);
  m.expiration_ms = 100;
  q.enqueue(m);
  q.enqueue(msg(2));
  q.add_consumer(1, 1, 10, 0);
  std::vector<uint64_t> expired;
  auto d = q.next_dispatch(200, expired);
  REQUIRE(d);
  CHECK(d->message.sequence == 2);
  CHECK(expired == std::vector<uint64_t>{1});
}

TEST_CASE("purge removes pending messages but not in-flight ones") {
  queue_core q(1 << 20);
  for (uint64_t i = 1; i <= 4; ++i)
    q.enqueue(msg(i, i != 4));
  q.add_consumer(1, 1, 1, 0);
  REQUIRE(drain(q).size() == 1);
  auto [keys, total] = q.purge();
  CHECK(total == 3);
  CHECK(keys == std::vector<uint64_t>{2, 3});
  CHECK(q.pending() == 0);
  CHECK(q.in_flight() == 1);
}

TEST_CASE("undo_dispatch gives the message and the credit back") {
  queue_core q(1 << 20);
  q.enqueue(msg(1));
  auto sub = q.add_consumer(1, 1, 1, 0);
  std::vector<uint64_t> expired;
  auto d = q.next_dispatch(1, expired);
  REQUIRE(d);
  q.undo_dispatch(*d);
  CHECK(q.in_flight() == 0);
  auto again = q.next_dispatch(1, expired);
  REQUIRE(again);
  CHECK(again->message.sequence == 1);
  CHECK(again->message.delivery_count == 1);
  CHECK(again->subscription == sub);
}

TEST_CASE("network consumers get forwarded messages only on replay") {
  queue_core q(1 << 20);
  auto fwd = msg(1);
  fwd.forwarded = true;
  q.enqueue(fwd);
  q.enqueue(msg(2));
  auto bridge = q.add_consumer(9, 1, 10, -1, true);
  CHECK(q.local_consumers() == 0);
  CHECK(q.holds_forwarded());
  std::vector<uint64_t> expired;
  // The forwarded head waits: no bouncing back while replay is off.
  CHECK_FALSE(q.next_dispatch(1, expired, false));
  auto d = q.next_dispatch(1, expired, true);
  REQUIRE(d);
  CHECK(d->message.sequence == 1);
  CHECK(d->subscription == bridge);
  auto local = q.add_consumer(3, 1, 10, 0);
  CHECK(q.local_consumers() == 1);
  auto next = q.next_dispatch(1, expired, false);
  REQUIRE(next);
  CHECK(next->subscription == local); // local consumers first
  CHECK(q.hand_over(bridge, {1}) == 1);
  CHECK(q.in_flight() == 1);
}

TEST_CASE("an acknowledged message whose delete failed is pending again, marked redelivered") {
  queue_core q(1 << 20);
  for (uint64_t i = 1; i <= 3; ++i)
    q.enqueue(msg(i));
  auto sub = q.add_consumer(1, 1, 10, 0);
  REQUIRE(drain(q).size() == 3);
  auto out = q.acknowledge(sub, {1, 2, 3});
  REQUIRE(out);
  CHECK(out->persistent_keys == std::vector<uint64_t>{1, 2, 3});
  CHECK(q.pending() == 0);
  CHECK(q.in_flight() == 0);
  CHECK(q.deleting() == 3);
  // Message 2's delete did not commit (a full store): it is not forgotten.
  CHECK(q.settle_deletes(out->persistent_keys, {2}) == 1);
  CHECK(q.deleting() == 0);
  CHECK(q.pending() == 1);
  auto again = drain(q);
  REQUIRE(again.size() == 1);
  CHECK(again[0].message.sequence == 2);
  CHECK(again[0].message.redelivered);
  CHECK(again[0].message.delivery_count == 2);
  // Settling keys again, or keys the queue never had, changes nothing.
  CHECK(q.settle_deletes({1, 2, 3, 9}, {1, 9}) == 0);
  CHECK(q.in_flight() == 1);
  CHECK(q.pending() == 0);
}

TEST_CASE("a purged message whose delete failed is pending again, not marked redelivered") {
  queue_core q(1 << 20);
  for (uint64_t i = 1; i <= 3; ++i)
    q.enqueue(msg(i));
  auto [keys, total] = q.purge();
  CHECK(total == 3);
  CHECK(q.deleting() == 3);
  CHECK(q.settle_deletes(keys, keys) == 3);
  CHECK(q.pending() == 3);
  q.add_consumer(1, 1, 10, 0);
  auto all = drain(q);
  REQUIRE(all.size() == 3);
  CHECK(all[0].message.sequence == 1);
  CHECK_FALSE(all[0].message.redelivered);
  CHECK(all[0].message.delivery_count == 1);
}

TEST_CASE("a recorded delivery count stays with the message when it returns") {
  queue_core q(1 << 20);
  q.enqueue(msg(1));
  auto local = q.add_consumer(7, 1, 5, 0);
  auto bridge = q.add_consumer(8, 2, 3, -1, true);
  // Only local consumers' credit counts: it says whether a new message will go out at once.
  CHECK(q.local_credit() == 5);
  auto first = drain(q);
  REQUIRE(first.size() == 1);
  CHECK(first[0].subscription == local);
  CHECK_FALSE(first[0].network);
  CHECK(first[0].message.recorded_deliveries == 0); // the queue must record it before sending
  CHECK(q.in_flight_to(local, 1));
  CHECK_FALSE(q.in_flight_to(bridge, 1));
  q.set_recorded(local, 1, first[0].message.delivery_count);
  q.set_recorded(local, 1, 0); // never lowered
  REQUIRE(q.remove_consumer(local) == 1u);
  CHECK_FALSE(q.in_flight_to(local, 1));
  // The bridge gets it next, marked, with the count the store already holds.
  auto again = drain(q);
  REQUIRE(again.size() == 1);
  CHECK(again[0].network);
  CHECK(again[0].message.redelivered);
  CHECK(again[0].message.delivery_count == 2);
  CHECK(again[0].message.recorded_deliveries == 1);
}

namespace {

queued_message prio(uint64_t seq, int32_t priority) {
  auto m = msg(seq);
  m.priority = priority;
  return m;
}

// A message whose body is an envelope with one string property and one int property.
queued_message with_props(uint64_t seq, const std::string& color, int32_t weight,
                          int32_t priority = 4) {
  actormq::protocol::envelope e;
  e.set_priority(priority);
  (*e.mutable_properties())["color"] = color;
  (*e.mutable_typed_properties())["weight"].set_int_value(weight);
  std::string bytes;
  actormq::protocol::encode_envelope(e, bytes);
  queued_message m;
  m.sequence = seq;
  m.priority = priority;
  m.size = static_cast<uint32_t>(bytes.size());
  m.body = std::make_shared<const std::string>(std::move(bytes));
  return m;
}

std::shared_ptr<const actormq::protocol::selector> selector(const std::string& text) {
  auto s = actormq::protocol::selector::parse(text);
  REQUIRE(s.ok());
  return *s;
}

std::vector<uint64_t> sequences(const std::vector<dispatch_decision>& ds) {
  std::vector<uint64_t> out;
  for (auto& d : ds)
    out.push_back(d.message.sequence);
  return out;
}

} // namespace

TEST_CASE("higher message priority is dispatched first, FIFO within a priority") {
  queue_core q(1 << 20);
  q.enqueue(prio(1, 4));
  q.enqueue(prio(2, 9));
  q.enqueue(prio(3, 0));
  q.enqueue(prio(4, 9));
  q.enqueue(prio(5, 4));
  q.enqueue(prio(6, 7));
  auto browsed = q.browse(10);
  REQUIRE(browsed.size() == 6);
  CHECK(browsed[0].sequence == 2);
  q.add_consumer(1, 1, 100, 0);
  CHECK(sequences(drain(q)) == std::vector<uint64_t>{2, 4, 6, 1, 5, 3});
}

TEST_CASE("a redelivered message goes ahead of fresh ones of its priority, not of higher ones") {
  queue_core q(1 << 20);
  auto a = q.add_consumer(1, 1, 1, 0);
  q.enqueue(prio(1, 4));
  REQUIRE(drain(q).size() == 1);
  q.enqueue(prio(2, 4));
  q.enqueue(prio(3, 9));
  REQUIRE(q.remove_consumer(a) == 1u);
  q.add_consumer(2, 1, 10, 0);
  auto all = drain(q);
  CHECK(sequences(all) == std::vector<uint64_t>{3, 1, 2});
  CHECK(all[1].message.redelivered);
}

TEST_CASE("priorities out of range count as the nearest valid one") {
  queue_core q(1 << 20);
  q.enqueue(prio(1, -5));
  q.enqueue(prio(2, 0));
  q.enqueue(prio(3, 42));
  q.enqueue(prio(4, 9));
  q.add_consumer(1, 1, 10, 0);
  CHECK(sequences(drain(q)) == std::vector<uint64_t>{3, 4, 1, 2});
}

TEST_CASE("a selector consumer gets only what it matches; the rest stays for others") {
  queue_core q(1 << 20);
  auto red = q.add_consumer(1, 1, 100, 0, false, selector("color = 'red' AND weight > 10"));
  q.enqueue(with_props(1, "blue", 50));
  q.enqueue(with_props(2, "red", 50));
  q.enqueue(with_props(3, "red", 5));
  q.enqueue(with_props(4, "red", 11));
  auto first = drain(q);
  CHECK(sequences(first) == std::vector<uint64_t>{2, 4});
  for (auto& d : first)
    CHECK(d.subscription == red);
  CHECK(q.pending() == 2);
  auto plain = q.add_consumer(2, 1, 100, 0);
  auto rest = drain(q);
  CHECK(sequences(rest) == std::vector<uint64_t>{1, 3});
  for (auto& d : rest)
    CHECK(d.subscription == plain);
}

TEST_CASE("a selector consumer added later sees what is already pending") {
  queue_core q(1 << 20);
  for (uint64_t i = 1; i <= 10; ++i)
    q.enqueue(with_props(i, i % 5 == 0 ? "red" : "blue", 1));
  q.add_consumer(1, 1, 100, 0, false, selector("color = 'red'"));
  CHECK(sequences(drain(q)) == std::vector<uint64_t>{5, 10});
  CHECK(q.pending() == 8);
}

TEST_CASE("a returned message is matched again against the selectors") {
  queue_core q(1 << 20);
  auto plain = q.add_consumer(1, 1, 1, 0);
  auto m = with_props(1, "red", 1);
  m.persistent = false; // keeps its body in flight (no reader here)
  q.enqueue(m);
  REQUIRE(drain(q).size() == 1);
  auto red = q.add_consumer(2, 1, 10, 0, false, selector("color = 'red'"));
  REQUIRE(q.remove_consumer(plain) == 1u);
  auto again = drain(q);
  REQUIRE(again.size() == 1);
  CHECK(again[0].subscription == red);
  CHECK(again[0].message.redelivered);
}

TEST_CASE("selector consumers read bodies that are not in memory through the reader") {
  std::map<uint64_t, std::string> store;
  queue_core q(0, [&](uint64_t seq) -> std::optional<std::string> {
    auto i = store.find(seq);
    if (i == store.end())
      return std::nullopt;
    return i->second;
  });
  for (uint64_t i = 1; i <= 4; ++i) {
    auto m = with_props(i, i == 3 ? "red" : "blue", 1);
    store[i] = *m.body;
    q.enqueue(m); // memory limit 0: the persistent body is dropped
  }
  CHECK(q.memory_bytes() == 0);
  q.add_consumer(1, 1, 10, 0, false, selector("color = 'red'"));
  CHECK(sequences(drain(q)) == std::vector<uint64_t>{3});
}

TEST_CASE("plain consumers are not held up by a selector consumer's scan") {
  // 100,000 pending messages, a selector that matches one in 1,000, and a plain consumer: each
  // message is evaluated once per selector consumer, never once per dispatch.
  queue_core q(1 << 30);
  const uint64_t total = 100000;
  for (uint64_t i = 1; i <= total; ++i)
    q.enqueue(with_props(i, i % 1000 == 0 ? "red" : "blue", 1));
  auto red = q.add_consumer(1, 1, 1000, 0, false, selector("color = 'red'"));
  CHECK(q.selector_evaluations() == total);
  auto plain = q.add_consumer(2, 1, 0, 0);
  // The plain consumer takes messages one credit at a time.
  std::vector<uint64_t> expired;
  uint64_t to_red = 0, to_plain = 0;
  for (int round = 0; round < 200; ++round) {
    REQUIRE(q.add_credit(plain, 1));
    while (auto d = q.next_dispatch(1, expired))
      (d->subscription == red ? to_red : to_plain) += 1;
  }
  CHECK(to_red == 100);
  CHECK(to_plain == 200);
  for (uint64_t i = total + 1; i <= total + 1000; ++i)
    q.enqueue(with_props(i, "blue", 1));
  CHECK(q.selector_evaluations() == total + 1000);
}

TEST_CASE("expired messages a selector matched are dropped, not dispatched") {
  queue_core q(1 << 20);
  auto m = with_props(1, "red", 1);
  m.expiration_ms = 5;
  q.enqueue(m);
  q.enqueue(with_props(2, "blue", 1));
  q.enqueue(with_props(3, "red", 1));
  q.add_consumer(1, 1, 10, 0, false, selector("color = 'red'"));
  std::vector<uint64_t> expired;
  std::vector<uint64_t> got;
  while (auto d = q.next_dispatch(10, expired))
    got.push_back(d->message.sequence);
  CHECK(got == std::vector<uint64_t>{3});
  CHECK(expired == std::vector<uint64_t>{1});
  CHECK(q.pending() == 1);
}

TEST_CASE("purge clears what selectors matched") {
  queue_core q(1 << 20);
  auto red = q.add_consumer(1, 1, 0, 0, false, selector("color = 'red'"));
  q.enqueue(with_props(1, "red", 1));
  auto [keys, total] = q.purge();
  CHECK(total == 1);
  REQUIRE(q.add_credit(red, 5));
  CHECK(drain(q).empty());
  q.enqueue(with_props(2, "red", 1));
  CHECK(sequences(drain(q)) == std::vector<uint64_t>{2});
}
