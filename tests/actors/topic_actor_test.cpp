// The topic actor alone: subscription order, fan-out, and publishers held by a slow subscriber.
#include "actors/topic.hpp"

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
