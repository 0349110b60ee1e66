// The snapshot structs (actors/snapshot.hpp): their fields by name, as the console and
// actormq-debug show them, and their CAF serialisation, which carries them to actormq-debug.
#include "actors/snapshot.hpp"

#include <caf/binary_deserializer.hpp>
#include <caf/binary_serializer.hpp>
#include <catch2/catch.hpp>

#include <limits>
#include <vector>

using namespace actormq::actors;

namespace {

inspector_snapshot sample() {
  inspector_snapshot t;
  snapshot_entry<node_snapshot> node;
  node.actor_id = 6;
  node.answer = node_snapshot{};
  node.answer->name = "n1";
  node.answer->role = "master";
  node.answer->client_port = 61616;
  t.node = node;
  snapshot_entry<store_snapshot> store;
  store.actor_id = 8;
  store.answer = store_snapshot{};
  store.answer->mean_batch = 1.5;
  store.answer->oldest_reader_pid = 42;
  store.answer->oldest_reader_txn = 7;
  store.answer->oldest_reader_lag = 3;
  t.store = store;
  snapshot_entry<broker_snapshot> stuck;
  stuck.actor_id = 9;
  stuck.error = "request_timeout";
  t.broker = stuck;
  snapshot_entry<queue_snapshot> queue;
  queue.actor_id = 17;
  queue.answer = queue_snapshot{};
  queue.answer->name = "queue://q";
  queue.answer->pending = 3;
  t.queues["17"] = queue;
  snapshot_entry<session_snapshot> session;
  session.actor_id = 20;
  session.answer = session_snapshot{};
  session.answer->reading_halted = true;
  session.answer->listener = "ws";
  t.sessions["20"] = session;
  snapshot_entry<acceptor_snapshot> stomp;
  stomp.actor_id = 21;
  stomp.answer = acceptor_snapshot{};
  stomp.answer->listener = "stomp";
  stomp.answer->protocol = "stomp";
  stomp.answer->port = 61613;
  t.acceptors["21"] = stomp;
  return t;
}

} // namespace

TEST_CASE("an entry's fields carry its kind and actor id, sorted by name", "[snapshot]") {
  auto t = sample();
  auto fields = fields_of(*t.node);
  CHECK(std::get<std::string>(fields.at("kind")) == "node");
  CHECK(std::get<int64_t>(fields.at("actor-id")) == 6);
  CHECK(std::get<int64_t>(fields.at("client-port")) == 61616);
  CHECK(std::get<std::string>(fields.at("role")) == "master");
  CHECK(fields.begin()->first == "actor-id");
  CHECK(std::get<bool>(fields_of(t.sessions.at("20")).at("reading-halted")));
}

TEST_CASE("an actor that did not answer shows as unanswered, with the error", "[snapshot]") {
  auto fields = fields_of(*sample().broker);
  CHECK(fields.size() == 3);
  CHECK(std::get<std::string>(fields.at("kind")) == "unanswered");
  CHECK(std::get<std::string>(fields.at("error")) == "request_timeout");
  CHECK(std::get<int64_t>(fields.at("actor-id")) == 9);
}

TEST_CASE("the store's oldest reader shows only when there is one", "[snapshot]") {
  auto t = sample();
  CHECK(std::get<int64_t>(fields_of(*t.store).at("oldest-reader-lag")) == 3);
  CHECK(std::get<double>(fields_of(*t.store).at("mean-batch")) == 1.5);
  t.store->answer->oldest_reader_pid.reset();
  t.store->answer->oldest_reader_txn.reset();
  t.store->answer->oldest_reader_lag.reset();
  auto fields = fields_of(*t.store);
  CHECK(fields.count("oldest-reader-pid") == 0);
  CHECK(fields.count("oldest-reader-lag") == 0);
}

TEST_CASE("a count beyond a signed 64-bit integer is capped", "[snapshot]") {
  snapshot_entry<broker_snapshot> e;
  e.answer = broker_snapshot{};
  e.answer->destinations = std::numeric_limits<uint64_t>::max();
  CHECK(std::get<int64_t>(fields_of(e).at("destinations")) == std::numeric_limits<int64_t>::max());
}

TEST_CASE("a node's snapshot survives CAF's serialisation unchanged", "[snapshot]") {
  auto before = sample();
  std::vector<char> buf;
  caf::binary_serializer sink{nullptr, buf};
  REQUIRE(!sink(before));
  inspector_snapshot after;
  caf::binary_deserializer source{nullptr, buf};
  REQUIRE(!source(after));
  CHECK(fields_of(*after.node) == fields_of(*before.node));
  CHECK(fields_of(*after.store) == fields_of(*before.store));
  CHECK(fields_of(*after.broker) == fields_of(*before.broker));
  CHECK(!after.lock_holder);
  CHECK(!after.acceptor);
  REQUIRE(after.queues.size() == 1);
  CHECK(fields_of(after.queues.at("17")) == fields_of(before.queues.at("17")));
  CHECK(fields_of(after.sessions.at("20")) == fields_of(before.sessions.at("20")));
  CHECK(after.bridges.empty());
  REQUIRE(after.acceptors.size() == 1);
  CHECK(fields_of(after.acceptors.at("21")) == fields_of(before.acceptors.at("21")));
  CHECK(std::get<std::string>(fields_of(after.acceptors.at("21")).at("listener")) == "stomp");
  CHECK(std::get<std::string>(fields_of(after.sessions.at("20")).at("listener")) == "ws");
}
