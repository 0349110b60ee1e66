#include "actors/queue_core.hpp"

#include <catch2/catch.hpp>

#include <map>
#include <string>

using namespace actormq::actors;

namespace {

queued_message grouped(uint64_t seq, std::string group = {}, int32_t group_sequence = 0) {
  queued_message m;
  m.sequence = seq;
  m.size = 10;
  m.body = std::make_shared<const std::string>(10, 'x');
  m.group = std::move(group);
  m.group_sequence = group_sequence;
  return m;
}

std::vector<dispatch_decision> drain(queue_core& q, int64_t now = 1) {
  std::vector<dispatch_decision> out;
  std::vector<uint64_t> expired;
  while (auto d = q.next_dispatch(now, expired))
    out.push_back(*d);
  return out;
}

std::vector<uint64_t> keys_of(const std::vector<dispatch_decision>& ds, uint64_t sub) {
  std::vector<uint64_t> out;
  for (auto& d : ds)
    if (d.subscription == sub)
      out.push_back(d.message.sequence);
  return out;
}

} // namespace

TEST_CASE("a group sticks to the consumer that took its first message") {
  queue_core q(1 << 20);
  auto a = q.add_consumer(1, 1, 100, 0);
  auto b = q.add_consumer(2, 1, 100, 0);
  for (uint64_t i = 1; i <= 12; ++i)
    q.enqueue(grouped(i, i % 2 ? "odd" : "even"));
  auto all = drain(q);
  REQUIRE(all.size() == 12);
  auto to_a = keys_of(all, a);
  auto to_b = keys_of(all, b);
  REQUIRE(to_a.size() == 6);
  REQUIRE(to_b.size() == 6);
  // Each consumer got one group, in order.
  for (size_t i = 1; i < to_a.size(); ++i) {
    CHECK(to_a[i] % 2 == to_a[0] % 2);
    CHECK(to_a[i] > to_a[i - 1]);
  }
  CHECK(to_a[0] % 2 != to_b[0] % 2);
  CHECK(q.owned_groups() == 2);
  CHECK(q.group_owner(to_a[0] % 2 ? "odd" : "even") == a);
}

TEST_CASE("a group whose owner has no credit does not hold up the other messages") {
  queue_core q(1 << 20);
  auto a = q.add_consumer(1, 1, 1, 0);
  q.enqueue(grouped(1, "g"));
  auto first = drain(q);
  REQUIRE(first.size() == 1);
  CHECK(first[0].subscription == a);
  auto b = q.add_consumer(2, 1, 100, 0);
  for (uint64_t i = 2; i <= 1001; ++i)
    q.enqueue(grouped(i, "g"));
  for (uint64_t i = 1002; i <= 1010; ++i)
    q.enqueue(grouped(i));
  auto rest = drain(q);
  // b gets every ungrouped message though 1000 of the group's wait ahead of them for a.
  REQUIRE(rest.size() == 9);
  for (auto& d : rest) {
    CHECK(d.subscription == b);
    CHECK(d.message.sequence >= 1002);
  }
  CHECK(q.pending() == 1000);
  REQUIRE(q.add_credit(a, 2000));
  auto group = drain(q);
  REQUIRE(group.size() == 1000);
  CHECK(group.front().message.sequence == 2);
  CHECK(group.back().message.sequence == 1001);
  CHECK(keys_of(group, a).size() == 1000);
}

TEST_CASE("a closed owner's group moves, its in-flight messages first and in order") {
  queue_core q(1 << 20);
  auto a = q.add_consumer(1, 1, 3, 0);
  for (uint64_t i = 1; i <= 6; ++i)
    q.enqueue(grouped(i, "g"));
  auto first = drain(q);
  REQUIRE(first.size() == 3);
  CHECK(keys_of(first, a) == std::vector<uint64_t>{1, 2, 3});
  auto b = q.add_consumer(2, 1, 100, 0);
  CHECK(drain(q).empty()); // the group stays with a
  REQUIRE(q.remove_consumer(a) == 3u);
  auto moved = drain(q);
  REQUIRE(moved.size() == 6);
  CHECK(keys_of(moved, b) == std::vector<uint64_t>{1, 2, 3, 4, 5, 6});
  CHECK(moved[0].message.redelivered);
  CHECK_FALSE(moved[3].message.redelivered);
  CHECK(q.group_owner("g") == b);
}

TEST_CASE("JMSXGroupSeq -1 closes a group") {
  queue_core q(1 << 20);
  auto a = q.add_consumer(1, 1, 100, 0);
  q.enqueue(grouped(1, "g"));
  q.enqueue(grouped(2, "g", -1));
  auto first = drain(q);
  REQUIRE(first.size() == 2);
  CHECK(q.group_owner("g") == 0);
  CHECK(q.owned_groups() == 0);
  // With a closed group, the next message of it goes round robin: b is next after a.
  auto b = q.add_consumer(2, 1, 100, 0);
  q.enqueue(grouped(3, "g"));
  auto next = drain(q);
  REQUIRE(next.size() == 1);
  CHECK(next[0].subscription == b);
  CHECK(q.group_owner("g") == b);
  (void)a;
}

TEST_CASE("closing a group gives its waiting messages back to every consumer") {
  queue_core q(1 << 20);
  auto a = q.add_consumer(1, 1, 1, 0);
  q.enqueue(grouped(1, "g", -1));
  q.enqueue(grouped(2, "g"));
  q.enqueue(grouped(3, "g"));
  auto first = drain(q);
  REQUIRE(first.size() == 1);
  CHECK(first[0].subscription == a);
  auto b = q.add_consumer(2, 1, 100, 0);
  auto rest = drain(q);
  REQUIRE(rest.size() == 2);
  CHECK(keys_of(rest, b) == std::vector<uint64_t>{2, 3});
}

TEST_CASE("expired group messages are dropped when their owner would take them") {
  queue_core q(1 << 20);
  auto a = q.add_consumer(1, 1, 1, 0);
  q.enqueue(grouped(1, "g"));
  REQUIRE(drain(q).size() == 1);
  auto m = grouped(2, "g");
  m.expiration_ms = 5;
  q.enqueue(std::move(m));
  q.enqueue(grouped(3, "g"));
  REQUIRE(q.add_credit(a, 10));
  std::vector<uint64_t> expired;
  auto d = q.next_dispatch(10, expired);
  REQUIRE(d);
  CHECK(d->message.sequence == 3);
  CHECK(expired == std::vector<uint64_t>{2});
  CHECK(q.pending() == 0);
}

TEST_CASE("purge and browse see owned group messages") {
  queue_core q(1 << 20);
  auto a = q.add_consumer(1, 1, 1, 0);
  q.enqueue(grouped(1, "g"));
  REQUIRE(drain(q).size() == 1);
  q.enqueue(grouped(2, "g"));
  q.enqueue(grouped(3));
  q.enqueue(grouped(4, "g"));
  auto seen = q.browse(10);
  REQUIRE(seen.size() == 3);
  CHECK(seen[0].sequence == 2);
  CHECK(seen[1].sequence == 3);
  CHECK(seen[2].sequence == 4);
  auto [keys, total] = q.purge();
  CHECK(total == 3);
  CHECK(q.pending() == 0);
  REQUIRE(q.add_credit(a, 10));
  CHECK(drain(q).empty());
  CHECK(q.group_owner("g") == a);
}

TEST_CASE("an exclusive consumer takes everything; the next one takes over when it goes") {
  queue_core q(1 << 20);
  auto plain = q.add_consumer(1, 1, 100, 0);
  auto first = q.add_consumer(2, 1, 100, 0, false, nullptr, true);
  auto second = q.add_consumer(3, 1, 100, 0, false, nullptr, true);
  CHECK(q.exclusive_owner() == first);
  for (uint64_t i = 1; i <= 5; ++i)
    q.enqueue(grouped(i));
  auto all = drain(q);
  REQUIRE(all.size() == 5);
  CHECK(keys_of(all, first).size() == 5);
  REQUIRE(q.remove_consumer(first) == 5u);
  CHECK(q.exclusive_owner() == second);
  auto again = drain(q);
  REQUIRE(again.size() == 5);
  CHECK(keys_of(again, second) == std::vector<uint64_t>{1, 2, 3, 4, 5});
  CHECK(again[0].message.redelivered);
  REQUIRE(q.remove_consumer(second) == 5u);
  CHECK(q.exclusive_owner() == 0);
  CHECK(keys_of(drain(q), plain).size() == 5);
}

TEST_CASE("an exclusive consumer of a higher priority becomes the owner") {
  queue_core q(1 << 20);
  auto low = q.add_consumer(1, 1, 100, 0, false, nullptr, true);
  CHECK(q.exclusive_owner() == low);
  auto high = q.add_consumer(2, 1, 100, 5, false, nullptr, true);
  CHECK(q.exclusive_owner() == high);
  q.enqueue(grouped(1));
  auto all = drain(q);
  REQUIRE(all.size() == 1);
  CHECK(all[0].subscription == high);
}

TEST_CASE("an exclusive consumer without credit holds the queue") {
  queue_core q(1 << 20);
  auto ex = q.add_consumer(1, 1, 1, 0, false, nullptr, true);
  auto other = q.add_consumer(2, 1, 100, 0);
  q.enqueue(grouped(1));
  q.enqueue(grouped(2));
  auto all = drain(q);
  REQUIRE(all.size() == 1);
  CHECK(all[0].subscription == ex);
  CHECK(q.pending() == 1);
  (void)other;
}
