// queue_core's redelivery policy, dead letters and expiry: returned messages wait their delay,
// go dead past the limit, expired ones become dead letters at dispatch and in bounded sweeps.
#include "actors/queue_core.hpp"

#include <catch2/catch.hpp>

using namespace actormq::actors;
using actormq::protocol::redelivery_policy;

namespace {

queued_message msg(uint64_t seq, bool persistent = true, int64_t expiration = 0) {
  queued_message m;
  m.sequence = seq;
  m.persistent = persistent;
  m.size = 10;
  m.expiration_ms = expiration;
  m.body = std::make_shared<const std::string>(10, 'x');
  return m;
}

struct fixture {
  int64_t now = 1000;
  queue_core q{1 << 20};
  fixture(redelivery_policy p) {
    q.set_redelivery_policy(p);
    q.set_clock([this] { return now; });
  }
  std::optional<dispatch_decision> next() {
    std::vector<uint64_t> expired;
    return q.next_dispatch(now, expired);
  }
};

redelivery_policy quick(int32_t max, int64_t initial, int64_t later) {
  redelivery_policy p;
  p.maximum_redeliveries = max;
  p.initial_redelivery_delay_ms = initial;
  p.redelivery_delay_ms = later;
  return p;
}

} // namespace

TEST_CASE("a refused message waits its redelivery delay, then comes back marked") {
  fixture f(quick(6, 100, 300));
  f.q.enqueue(msg(1));
  auto sub = f.q.add_consumer(7, 1, 10, 0);
  auto d = f.next();
  REQUIRE(d);
  REQUIRE(f.q.return_deliveries(sub, {1}) == std::optional<uint64_t>{1});
  CHECK(f.q.pending() == 1); // counted, but waiting
  CHECK(f.q.waiting_redelivery() == 1);
  CHECK(f.q.browse(10).size() == 1); // and shown
  CHECK_FALSE(f.next());
  CHECK(f.q.next_due() == std::optional<int64_t>{1100});
  f.now = 1099;
  CHECK(f.q.release_due(f.now) == 0);
  f.now = 1100;
  CHECK(f.q.release_due(f.now) == 1);
  CHECK_FALSE(f.q.next_due());
  auto again = f.next();
  REQUIRE(again);
  CHECK(again->message.redelivered);
  CHECK(again->message.delivery_count == 2);
  // The second redelivery waits redeliveryDelay.
  f.q.return_deliveries(sub, {1});
  CHECK(f.q.next_due() == std::optional<int64_t>{1400});
}

TEST_CASE("without a policy a returned message is pending again at once, without limit") {
  queue_core q(1 << 20);
  q.enqueue(msg(1));
  auto sub = q.add_consumer(7, 1, 100, 0);
  std::vector<uint64_t> expired;
  for (int i = 0; i < 20; ++i) {
    REQUIRE(q.next_dispatch(1, expired));
    q.return_deliveries(sub, {1});
  }
  CHECK(q.take_dead_letters().empty());
  CHECK(q.next_dispatch(1, expired)->message.delivery_count == 21);
}

TEST_CASE("a message over maximumRedeliveries is a dead letter with ActiveMQ's cause") {
  fixture f(quick(2, 0, 0));
  f.q.enqueue(msg(1));
  auto sub = f.q.add_consumer(7, 1, 100, 0);
  for (int delivery = 1; delivery <= 3; ++delivery) {
    auto d = f.next();
    REQUIRE(d);
    CHECK(d->message.delivery_count == static_cast<uint32_t>(delivery));
    CHECK(f.q.take_dead_letters().empty());
    f.q.return_deliveries(sub, {1});
  }
  CHECK_FALSE(f.next());
  CHECK(f.q.pending() == 0);
  auto dead = f.q.take_dead_letters();
  REQUIRE(dead.size() == 1);
  CHECK(dead[0].message.sequence == 1);
  CHECK(dead[0].message.delivery_count == 3);
  CHECK_FALSE(dead[0].expired);
  CHECK(dead[0].cause.rfind("Delivery[3] exceeds redelivery policy limit:RedeliveryPolicy "
                            "{maximumRedeliveries=2",
                            0) == 0);
  CHECK_FALSE(dead[0].message.body); // persistent: read from the store when it moves
  CHECK(f.q.memory_bytes() == 0);
  CHECK(f.q.take_dead_letters().empty());
}

TEST_CASE("a closed consumer's messages follow its policy; a recovered count counts") {
  fixture f(quick(3, 50, 50));
  auto m = msg(1);
  m.delivery_count = 3; // delivered three times before a restart
  m.recorded_deliveries = 3;
  f.q.enqueue(m);
  auto a = f.q.add_consumer(7, 1, 10, 0);
  REQUIRE(f.next()->message.delivery_count == 4);
  REQUIRE(f.q.remove_consumer(a) == std::optional<uint64_t>{1});
  CHECK(f.q.take_dead_letters().size() == 1);
}

TEST_CASE("a closed consumer's messages are pending again at once, ahead of fresh ones") {
  // ActiveMQ applies redelivery delays in the consumer's session (rollback, recover); what a
  // consumer leaves behind when it goes is redelivered at once, counted.
  fixture f(quick(6, 1000, 1000));
  f.q.enqueue(msg(1));
  f.q.enqueue(msg(2));
  auto a = f.q.add_consumer(7, 1, 1, 0);
  REQUIRE(f.next()->message.sequence == 1);
  REQUIRE(f.q.remove_consumer(a) == std::optional<uint64_t>{1});
  CHECK_FALSE(f.q.next_due());
  f.q.add_consumer(8, 2, 10, 0);
  auto again = f.next();
  REQUIRE(again);
  CHECK(again->message.sequence == 1);
  CHECK(again->message.redelivered);
  CHECK(again->message.delivery_count == 2);
}

TEST_CASE("a consumer's own policy replaces the queue's for what it returns") {
  fixture f(quick(6, 0, 0));
  f.q.enqueue(msg(1));
  auto a = f.q.add_consumer(7, 1, 10, 0);
  REQUIRE(f.q.set_consumer_policy(a, quick(0, 0, 0)));
  CHECK_FALSE(f.q.set_consumer_policy(99, quick(0, 0, 0)));
  REQUIRE(f.next());
  f.q.return_deliveries(a, {1});
  CHECK(f.q.take_dead_letters().size() == 1);
}

TEST_CASE("a non-persistent dead letter keeps its body, the only copy") {
  fixture f(quick(0, 0, 0));
  f.q.enqueue(msg(1, false));
  auto a = f.q.add_consumer(7, 1, 10, 0);
  REQUIRE(f.next());
  f.q.remove_consumer(a);
  auto dead = f.q.take_dead_letters();
  REQUIRE(dead.size() == 1);
  REQUIRE(dead[0].message.body);
  CHECK(dead[0].message.body->size() == 10);
  CHECK(f.q.memory_bytes() == 0);
}

TEST_CASE("expired messages met at dispatch become dead letters") {
  fixture f(quick(6, 0, 0));
  f.q.enqueue(msg(1, true, 500));
  f.q.enqueue(msg(2, false, 600));
  f.q.enqueue(msg(3));
  f.q.add_consumer(7, 1, 10, 0);
  auto d = f.next();
  REQUIRE(d);
  CHECK(d->message.sequence == 3);
  auto dead = f.q.take_dead_letters();
  REQUIRE(dead.size() == 2);
  CHECK(dead[0].expired);
  CHECK(dead[0].cause == "expired");
  CHECK(dead[0].message.persistent);
  CHECK_FALSE(dead[1].message.persistent);
}

TEST_CASE("the sweep takes expired messages in bounded steps, leaving the others") {
  fixture f(quick(6, 0, 0));
  for (uint64_t i = 1; i <= 10; ++i)
    f.q.enqueue(msg(i, true, i % 2 == 0 ? 0 : 100 + static_cast<int64_t>(i)));
  CHECK(f.q.sweep_expired(50, 100) == 0); // nothing due yet
  CHECK(f.q.sweep_expired(200, 2) == 2);
  CHECK(f.q.sweep_expired(200, 2) == 2);
  CHECK(f.q.sweep_expired(200, 2) == 1);
  CHECK(f.q.sweep_expired(200, 2) == 0);
  CHECK(f.q.pending() == 5);
  auto dead = f.q.take_dead_letters();
  REQUIRE(dead.size() == 5);
  CHECK(dead[0].message.sequence == 1);
  CHECK(dead[4].message.sequence == 9);
  // A message dispatched or purged leaves the sweep's index with it.
  f.q.enqueue(msg(20, true, 300));
  f.q.enqueue(msg(21, true, 300));
  f.q.add_consumer(7, 1, 10, 0);
  std::vector<uint64_t> expired;
  while (f.q.next_dispatch(250, expired)) {
  }
  CHECK(f.q.sweep_expired(400, 100) == 0);
  f.q.enqueue(msg(22, true, 300));
  f.q.purge();
  CHECK(f.q.sweep_expired(400, 100) == 0);
}

TEST_CASE("taken pending messages wait for the outcome of their move") {
  fixture f(quick(6, 0, 0));
  for (uint64_t i = 1; i <= 3; ++i)
    f.q.enqueue(msg(i));
  auto taken = f.q.take_pending(2);
  REQUIRE(taken.size() == 2);
  CHECK(taken[0].sequence == 1);
  CHECK(f.q.pending() == 1);
  CHECK(f.q.deleting() == 2);
  // One moved, one did not: that one is pending again.
  CHECK(f.q.settle_deletes({1, 2}, {2}) == 1);
  CHECK(f.q.pending() == 2);
  CHECK(f.q.deleting() == 0);
}

TEST_CASE("a purge takes the messages waiting for redelivery too") {
  fixture f(quick(6, 1000, 1000));
  f.q.enqueue(msg(1));
  auto a = f.q.add_consumer(7, 1, 10, 0);
  REQUIRE(f.next());
  f.q.return_deliveries(a, {1});
  CHECK(f.q.pending() == 1);
  REQUIRE(f.q.next_due());
  auto [keys, total] = f.q.purge();
  CHECK(total == 1);
  CHECK(keys == std::vector<uint64_t>{1});
  CHECK(f.q.pending() == 0);
  CHECK_FALSE(f.q.next_due());
}
