// connection: handshake, URLs, requests, failures. Against a fake broker on loopback.
#include "client/client.hpp"
#include "connect_helpers.hpp"
#include "fake_broker.hpp"

#include <catch2/catch.hpp>

#include <atomic>
#include <future>

using namespace actormq;
using namespace actormq::client;
using namespace std::chrono_literals;
using testing::fake_broker;
using testing::open_ok;
using testing::quick;

TEST_CASE("connect performs the handshake and close sends Disconnect", "[connection]") {
  fake_broker broker;
  auto o = quick();
  o.client_id = "me";
  o.user = "alice";
  o.password = "secret";
  o.heartbeat_ms = 2500;
  auto conn = open_ok(broker.url(), o);
  CHECK(conn->is_open());
  auto info = conn->info();
  CHECK(info.node_name == "fake");
  CHECK(info.store_id == "store-1");
  CHECK(info.session_id == 7);
  CHECK(info.remote == broker.url());

  auto connects = broker.frames(wire::Frame::kConnect);
  REQUIRE(connects.size() == 1);
  CHECK(connects[0].correlation_id() != 0);
  CHECK(connects[0].connect().protocol_version() == wire::PROTOCOL_VERSION_1);
  CHECK(connects[0].connect().client_id() == "me");
  CHECK(connects[0].connect().user() == "alice");
  CHECK(connects[0].connect().password() == "secret");
  CHECK(connects[0].connect().heartbeat_ms() == 2500);

  CHECK(conn->close());
  CHECK_FALSE(conn->is_open());
  CHECK(broker.wait_count(wire::Frame::kDisconnect, 1));
  CHECK(conn->close()); // idempotent
  auto later = conn->stats();
  REQUIRE_FALSE(later);
  CHECK(later.code() == client_errc::closed);
}

TEST_CASE("bad URLs and unreachable brokers are reported", "[connection]") {
  auto bad = connection::open("http://localhost:1", quick());
  REQUIRE_FALSE(bad);
  CHECK(bad.code() == client_errc::bad_argument);

  auto garbage = connection::open("tcp://127.0.0.1:notaport", quick());
  REQUIRE_FALSE(garbage);
  CHECK(garbage.code() == client_errc::bad_argument);

  uint16_t closed_port = 0;
  {
    fake_broker gone;
    closed_port = gone.port();
  }
  auto refused = connection::open("tcp://127.0.0.1:" + std::to_string(closed_port), quick());
  REQUIRE_FALSE(refused);
  CHECK(refused.code() == client_errc::connection_failed);
  CHECK(refused.message().find(std::to_string(closed_port)) != std::string::npos);
}

TEST_CASE("a failover URL uses the first member that answers", "[connection]") {
  uint16_t closed_port = 0;
  {
    fake_broker gone;
    closed_port = gone.port();
  }
  fake_broker broker;
  auto url = "failover:(tcp://127.0.0.1:" + std::to_string(closed_port) + "," + broker.url() + ")";
  auto conn = open_ok(url);
  CHECK(conn->info().remote == broker.url());
}

TEST_CASE("a handshake refused by the node gives the node's error", "[connection]") {
  fake_broker broker;
  broker.set_hook([](fake_broker& b, const wire::Frame& f) {
    if (!f.has_connect())
      return false;
    b.error(f.correlation_id(), wire::ERROR_AUTHENTICATION, "bad credentials for alice");
    return true;
  });
  auto conn = connection::open(broker.url(), quick());
  REQUIRE_FALSE(conn);
  CHECK(is_broker_error(conn.code()));
  CHECK(broker_code(conn.code()) == wire::ERROR_AUTHENTICATION);
  CHECK(conn.message().find("bad credentials for alice") != std::string::npos);
}

TEST_CASE("a node that never answers Connect times out", "[connection]") {
  fake_broker broker;
  broker.set_hook([](fake_broker&, const wire::Frame& f) { return f.has_connect(); });
  auto o = quick();
  o.connect_timeout = 300ms;
  bool told = false;
  o.on_failure = [&](const failure&) { told = true; };
  auto conn = connection::open(broker.url(), o);
  REQUIRE_FALSE(conn);
  CHECK(conn.code() == client_errc::connection_failed);
  CHECK_FALSE(told); // open() reports through its result only
}

TEST_CASE("browse, stats and purge decode their answers", "[connection]") {
  fake_broker broker;
  broker.set_hook([](fake_broker& b, const wire::Frame& f) {
    wire::Frame reply;
    reply.set_correlation_id(f.correlation_id());
    if (f.has_browse()) {
      auto* r = reply.mutable_browse_reply();
      r->set_pending(5);
      for (int i = 0; i < 2; ++i) {
        auto* d = r->add_messages();
        d->set_delivery_key(10 + i);
        d->mutable_message()->set_body("body" + std::to_string(i));
        d->mutable_message()->set_destination(f.browse().destination());
      }
    } else if (f.has_stats_request()) {
      auto* s = reply.mutable_stats_reply()->add_destinations();
      s->set_name("queue://TEST");
      s->set_pending(3);
      s->set_consumers(1);
      s->set_enqueued(10);
      s->set_dequeued(7);
    } else if (f.has_purge()) {
      reply.mutable_receipt()->set_count(42);
    } else {
      return false;
    }
    b.send(reply);
    return true;
  });
  auto conn = open_ok(broker.url());

  auto browsed = conn->browse("TEST", 2);
  REQUIRE(browsed);
  CHECK(browsed->pending == 5);
  REQUIRE(browsed->messages.size() == 2);
  CHECK(browsed->messages[1].body == "body1");
  CHECK(browsed->messages[1].destination == "queue://TEST");
  auto browse_frames = broker.frames(wire::Frame::kBrowse);
  REQUIRE(browse_frames.size() == 1);
  CHECK(browse_frames[0].browse().destination() == "queue://TEST");
  CHECK(browse_frames[0].browse().max_messages() == 2);

  auto stats = conn->stats();
  REQUIRE(stats);
  REQUIRE(stats->size() == 1);
  CHECK((*stats)[0].name == "queue://TEST");
  CHECK((*stats)[0].pending == 3);
  CHECK((*stats)[0].dequeued == 7);

  auto purged = conn->purge("queue://TEST");
  REQUIRE(purged);
  CHECK(*purged == 42);

  auto bad = conn->purge("");
  REQUIRE_FALSE(bad);
  CHECK(bad.code() == client_errc::bad_argument);
}

TEST_CASE("a request without an answer times out", "[connection]") {
  fake_broker broker;
  broker.set_hook([](fake_broker&, const wire::Frame& f) { return f.has_stats_request(); });
  auto o = quick();
  o.request_timeout = 200ms;
  auto conn = open_ok(broker.url(), o);
  auto stats = conn->stats();
  REQUIRE_FALSE(stats);
  CHECK(stats.code() == client_errc::timeout);
  CHECK(conn->is_open());
}

TEST_CASE("a lost connection fails waiting requests and is reported once", "[connection]") {
  fake_broker broker;
  broker.set_hook([](fake_broker& b, const wire::Frame& f) {
    if (!f.has_stats_request())
      return false;
    b.drop();
    return true;
  });
  std::promise<failure> reported;
  std::atomic<int> reports{0};
  auto o = quick();
  o.on_failure = [&](const failure& f) {
    if (reports++ == 0)
      reported.set_value(f);
  };
  auto conn = open_ok(broker.url(), o);
  auto stats = conn->stats();
  REQUIRE_FALSE(stats);
  CHECK(stats.code() == client_errc::connection_lost);
  auto future = reported.get_future();
  REQUIRE(future.wait_for(5s) == std::future_status::ready);
  CHECK(future.get().code == client_errc::connection_lost);
  CHECK_FALSE(conn->is_open());
  REQUIRE(conn->last_failure());
  CHECK(conn->last_failure()->code == client_errc::connection_lost);
  auto again = conn->stats();
  REQUIRE_FALSE(again);
  CHECK(again.code() == client_errc::connection_lost);
  CHECK_FALSE(conn->close()); // close() reports how the connection ended
  CHECK(reports == 1);
}

TEST_CASE("a fatal Error frame from the node ends the connection with its code", "[connection]") {
  fake_broker broker;
  auto conn = open_ok(broker.url());
  broker.error(0, wire::ERROR_SHUTTING_DOWN, "node a is stopping");
  auto deadline = std::chrono::steady_clock::now() + 5s;
  while (conn->is_open() && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(10ms);
  REQUIRE_FALSE(conn->is_open());
  auto why = conn->last_failure();
  REQUIRE(why);
  CHECK(broker_code(why->code) == wire::ERROR_SHUTTING_DOWN);
  CHECK(why->what.find("node a is stopping") != std::string::npos);
  auto stats = conn->stats();
  REQUIRE_FALSE(stats);
  CHECK(broker_code(stats.code()) == wire::ERROR_SHUTTING_DOWN);
}

TEST_CASE("bytes that are not frames end the connection with a protocol error", "[connection]") {
  fake_broker broker;
  auto conn = open_ok(broker.url());
  broker.send_raw(std::string("\xff\xff\xff\xff", 4)); // a length far over the maximum
  auto deadline = std::chrono::steady_clock::now() + 5s;
  while (conn->is_open() && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(10ms);
  REQUIRE_FALSE(conn->is_open());
  REQUIRE(conn->last_failure());
  CHECK(conn->last_failure()->code == client_errc::protocol_error);
}

TEST_CASE("the client sends heartbeats when idle", "[connection][heartbeat]") {
  fake_broker broker;
  auto o = quick();
  o.heartbeat_ms = 100;
  auto conn = open_ok(broker.url(), o);
  CHECK(broker.wait_count(wire::Frame::kHeartbeat, 2, 3s));
  for (auto& f : broker.frames(wire::Frame::kHeartbeat))
    CHECK(f.correlation_id() == 0);
}

TEST_CASE("heartbeats come often enough for the node's inactivity timeout",
          "[connection][heartbeat]") {
  fake_broker broker;
  broker.inactivity_timeout_ms = 300;
  auto o = quick();
  o.heartbeat_ms = 60000;
  auto conn = open_ok(broker.url(), o);
  CHECK(conn->info().inactivity_timeout_ms == 300);
  CHECK(broker.wait_count(wire::Frame::kHeartbeat, 2, 3s));
}

TEST_CASE("a node silent for longer than three heartbeats is declared lost",
          "[connection][heartbeat]") {
  fake_broker broker;
  broker.node_heartbeat_ms = 200; // the fake never sends one
  auto o = quick();
  o.heartbeat_ms = 0;
  auto conn = open_ok(broker.url(), o);
  auto deadline = std::chrono::steady_clock::now() + 5s;
  while (conn->is_open() && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(20ms);
  REQUIRE_FALSE(conn->is_open());
  CHECK(conn->last_failure()->code == client_errc::connection_lost);
}

TEST_CASE("error codes have names and broker codes are recognised", "[errors]") {
  std::error_code lost = client_errc::connection_lost;
  CHECK(lost.category().name() == std::string("actormq.client"));
  CHECK_FALSE(is_broker_error(lost));
  CHECK(broker_code(lost) == wire::ERROR_NONE);
  auto full = make_broker_error_code(wire::ERROR_STORE_FULL);
  CHECK(is_broker_error(full));
  CHECK(full.value() == 8);
  CHECK(full.message().find("STORE_FULL") != std::string::npos);
}
