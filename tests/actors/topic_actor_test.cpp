// The topic actor alone: subscription order, fan-out, publishers held by a slow subscriber, and
// persistent messages stored once for its durable subscriptions.
#include "actors/topic.hpp"
#include "storage/memory_backend.hpp"

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/scoped_actor.hpp>
#include <catch2/catch.hpp>

#include <algorithm>
#include <chrono>
#include <string>
#include <vector>

using namespace actormq;
using namespace actormq::actors;

namespace {

incoming_message published(const std::string& body) {
  incoming_message m;
  m.persistent = true;
  m.payload = body;
  return m;
}

} // namespace

TEST_CASE("a topic answers a subscription, then delivers what is published after it") {
  caf::actor_system_config cfg;
  caf::actor_system sys{cfg};
  topic_settings settings;
  settings.name = "topic://t";
  settings.store_id = "store";
  auto topic = sys.spawn(topic_behavior, settings);
  caf::scoped_actor self{sys};
  // Published before anyone subscribed: dropped.
  self->request(topic, std::chrono::seconds(10), send_atom::value, published("early"))
      .receive([](send_result&) {}, [](caf::error& err) { FAIL(caf::to_string(err)); });
  self->send(topic, subscribe_atom::value, caf::actor_cast<consumer_actor>(self),
             subscription{1, 10, 0, false, {}, false});
  self->send(topic, subscribe_atom::value, caf::actor_cast<consumer_actor>(self),
             subscription{2, 10, 0, false, {}, false});
  self->send(topic, send_atom::value, published("m"));
  std::vector<std::string> seen;
  std::vector<uint64_t> consumers;
  for (int i = 0; i < 5; ++i)
    self->receive([&](uint64_t) { seen.emplace_back("answer"); },
                  [&](send_result&) { seen.emplace_back("receipt"); },
                  [&](dispatch_atom, delivery& d) {
                    seen.emplace_back("delivery");
                    consumers.push_back(d.consumer_id);
                  },
                  caf::after(std::chrono::seconds(10)) >> [&] { seen.emplace_back("nothing"); });
  CHECK(seen == std::vector<std::string>{"answer", "answer", "delivery", "delivery", "receipt"});
  CHECK(consumers == std::vector<uint64_t>{1, 2});
  self->request(topic, std::chrono::seconds(10), stats_atom::value)
      .receive(
          [](destination_stats& s) {
            CHECK(s.name == "topic://t");
            CHECK(s.consumers == 2);
            CHECK(s.enqueued == 2);
            CHECK(s.in_flight == 2);
          },
          [](caf::error& err) { FAIL(caf::to_string(err)); });
  self->send_exit(topic, caf::exit_reason::user_shutdown);
}

TEST_CASE("a topic holds a publisher while a subscriber is over its pending limit") {
  caf::actor_system_config cfg;
  caf::actor_system sys{cfg};
  topic_settings settings;
  settings.name = "topic://slow";
  settings.subscriber_pending_limit = 1;
  auto topic = sys.spawn(topic_behavior, settings);
  caf::scoped_actor self{sys};
  uint64_t sub = 0;
  self->request(topic, std::chrono::seconds(10), subscribe_atom::value,
                caf::actor_cast<consumer_actor>(self), subscription{1, 0, 0, false, {}, false})
      .receive([&](uint64_t id) { sub = id; }, [](caf::error& err) { FAIL(caf::to_string(err)); });
  self->request(topic, std::chrono::seconds(10), send_atom::value, published("a"))
      .receive([](send_result&) {}, [](caf::error& err) { FAIL(caf::to_string(err)); });
  // The second message makes two waiting for a subscriber without credit: no answer yet.
  self->send(topic, send_atom::value, published("b"));
  bool answered = false;
  self->receive([&](send_result&) { answered = true; },
                caf::after(std::chrono::milliseconds(300)) >> [] {});
  CHECK_FALSE(answered);
  // Credit for one delivery brings the subscriber back to its limit: the send is answered.
  self->send(topic, credit_atom::value, sub, uint32_t{1});
  std::vector<std::string> seen;
  for (int i = 0; i < 2; ++i)
    self->receive([&](send_result&) { seen.emplace_back("receipt"); },
                  [&](dispatch_atom, delivery& d) { seen.emplace_back(d.payload); },
                  caf::after(std::chrono::seconds(10)) >> [&] { seen.emplace_back("nothing"); });
  CHECK(seen.size() == 2);
  CHECK(std::find(seen.begin(), seen.end(), "receipt") != seen.end());
  self->send_exit(topic, caf::exit_reason::user_shutdown);
}

TEST_CASE("a topic stores a persistent message once for its durable subscriptions") {
  std::shared_ptr<storage::backend> db = std::make_shared<storage::memory_backend>();
  std::vector<storage::operation> create{
      storage::create_destination_op{"topic://t"},
      storage::create_destination_op{"durable://a:s1@topic://t"},
      storage::create_destination_op{"durable://b:s2@topic://t"}};
  auto created = db->apply(create);
  for (auto& r : created)
    REQUIRE_FALSE(r.error);
  caf::actor_system_config cfg;
  caf::actor_system sys{cfg};
  auto store =
      sys.spawn<caf::detached>(store_behavior, db, size_t{1024}, std::chrono::milliseconds(0),
                               std::chrono::milliseconds(500), store_flow_settings{});
  topic_settings settings;
  settings.name = "topic://t";
  settings.store_id = "store";
  settings.store = store;
  settings.destination_id = created[0].destination_id;
  auto topic = sys.spawn(topic_behavior, settings);
  caf::scoped_actor self{sys};
  // The subscriptions' queues are this test: it sees what the topic hands them.
  for (size_t i = 1; i < 3; ++i)
    self->send(topic, durable_atom::value,
               durable_link{"s" + std::to_string(i), created[i].destination_id, 0,
                            created[0].destination_id, caf::actor_cast<caf::actor>(self)});
  auto m = published("once");
  m.producer_id = "p1";
  m.producer_sequence = 1;
  self->send(topic, send_atom::value, m);
  std::vector<uint64_t> sequences;
  int receipts = 0;
  for (int i = 0; i < 3; ++i)
    self->receive(
        [&](enqueue_atom, uint64_t sequence, incoming_message& in) {
          sequences.push_back(sequence);
          // The stored body (origin-stamped) comes with the key; the queue keeps it while
          // memory allows.
          CHECK(in.payload.rfind(m.payload, 0) == 0);
          CHECK(in.payload.size() > m.payload.size());
        },
        [&](send_result& r) {
          CHECK_FALSE(r.duplicate);
          ++receipts;
        },
        caf::after(std::chrono::seconds(10)) >> [] { FAIL("nothing from the topic"); });
  CHECK(receipts == 1);
  CHECK(sequences == std::vector<uint64_t>{1, 1});
  auto bodies = db->bodies();
  REQUIRE(bodies);
  REQUIRE(bodies->size() == 1);
  CHECK(bodies->front().references == 2);
  auto first = db->read_payload(created[1].destination_id, 1);
  auto second = db->read_payload(created[2].destination_id, 1);
  REQUIRE(first);
  REQUIRE(second);
  CHECK(*first == *second);
  // The producer's resend is recognised once for the topic: nothing more stored or handed on.
  self->request(topic, std::chrono::seconds(10), send_atom::value, m)
      .receive([](send_result& r) { CHECK(r.duplicate); },
               [](caf::error& err) { FAIL(caf::to_string(err)); });
  CHECK(db->bodies()->size() == 1);
  // A subscription that leaves gets nothing more.
  self->request(topic, std::chrono::seconds(10), remove_atom::value, std::string{"s1"})
      .receive([](bool removed) { CHECK(removed); },
               [](caf::error& err) { FAIL(caf::to_string(err)); });
  auto next = published("next");
  self->send(topic, send_atom::value, next);
  sequences.clear();
  for (int i = 0; i < 2; ++i)
    self->receive(
        [&](enqueue_atom, uint64_t sequence, incoming_message&) { sequences.push_back(sequence); },
        [](send_result&) {},
        caf::after(std::chrono::seconds(10)) >> [] { FAIL("nothing from the topic"); });
  // One delivery, for s2 alone (its sequences may skip the one the resend took).
  CHECK(sequences.size() == 1);
  CHECK(db->bodies()->size() == 2);
  self->send_exit(topic, caf::exit_reason::user_shutdown);
  self->send_exit(store, caf::exit_reason::user_shutdown);
}
