// consumer: dispatch, credit, acknowledgement modes, listener, failures. Against a fake broker.
#include "client/client.hpp"
#include "connect_helpers.hpp"
#include "fake_broker.hpp"

#include <catch2/catch.hpp>

#include <future>
#include <mutex>

using namespace actormq;
using namespace actormq::client;
using namespace std::chrono_literals;
using testing::fake_broker;
using testing::open_ok;
using testing::quick;

namespace {

std::unique_ptr<consumer> consumer_ok(connection& conn, consumer_options o) {
  auto c = conn.create_consumer("TEST", o);
  INFO(c.message());
  REQUIRE(c);
  return std::move(*c);
}

message receive_ok(consumer& c) {
  auto m = c.receive(5s);
  INFO(m.message());
  REQUIRE(m);
  REQUIRE(*m);
  return std::move(**m);
}

uint64_t credit_total(const fake_broker& broker) {
  uint64_t n = 0;
  for (auto& f : broker.frames(wire::Frame::kCredit))
    n += f.credit().credit();
  return n;
}

std::vector<uint64_t> acked_keys(const fake_broker& broker) {
  std::vector<uint64_t> keys;
  for (auto& f : broker.frames(wire::Frame::kAck))
    keys.insert(keys.end(), f.ack().delivery_keys().begin(), f.ack().delivery_keys().end());
  return keys;
}

} // namespace

TEST_CASE("a consumer opens with its options and returns credit in batches", "[consumer]") {
  fake_broker broker;
  auto conn = open_ok(broker.url());
  consumer_options o;
  o.mode = ack_mode::client_acknowledge;
  o.prefetch = 4;
  o.priority = 3;
  auto cons = consumer_ok(*conn, o);
  auto opens = broker.frames(wire::Frame::kOpenConsumer);
  REQUIRE(opens.size() == 1);
  CHECK(opens[0].correlation_id() != 0);
  CHECK(opens[0].open_consumer().consumer_id() == cons->id());
  CHECK(opens[0].open_consumer().destination() == "queue://TEST");
  CHECK(opens[0].open_consumer().prefetch() == 4);
  CHECK(opens[0].open_consumer().ack_mode() == wire::ACK_MODE_CLIENT);
  CHECK(opens[0].open_consumer().priority() == 3);

  for (uint64_t k = 1; k <= 4; ++k)
    broker.dispatch(cons->id(), k, "m" + std::to_string(k), k == 3);
  auto m1 = receive_ok(*cons);
  CHECK(m1.body == "m1");
  CHECK(m1.delivery_key == 1);
  CHECK(m1.consumer_id == cons->id());
  CHECK(m1.destination == "queue://TEST");
  CHECK_FALSE(m1.redelivered);
  CHECK(credit_total(broker) == 0); // batch of max(1, 4/2) = 2
  receive_ok(*cons);
  REQUIRE(broker.wait_count(wire::Frame::kCredit, 1));
  CHECK(credit_total(broker) == 2);
  auto m3 = receive_ok(*cons);
  CHECK(m3.redelivered);
  CHECK(m3.delivery_count == 2);
  receive_ok(*cons);
  REQUIRE(broker.wait_count(wire::Frame::kCredit, 2));
  CHECK(credit_total(broker) == 4);
  CHECK(cons->received() == 4);

  auto none = cons->receive(50ms);
  REQUIRE(none);
  CHECK_FALSE(*none);
}

TEST_CASE("client acknowledge acks everything delivered so far and waits for the receipt",
          "[consumer]") {
  fake_broker broker;
  std::promise<uint64_t> ack_seen;
  std::atomic<bool> hold{true};
  broker.set_hook([&](fake_broker&, const wire::Frame& f) {
    if (f.has_ack() && hold.exchange(false)) {
      ack_seen.set_value(f.correlation_id());
      return true; // the test answers this one later
    }
    return false;
  });
  auto conn = open_ok(broker.url());
  consumer_options o;
  o.mode = ack_mode::client_acknowledge;
  o.prefetch = 10;
  auto cons = consumer_ok(*conn, o);
  for (uint64_t k = 1; k <= 3; ++k)
    broker.dispatch(cons->id(), k, "m");
  receive_ok(*cons);
  auto m2 = receive_ok(*cons);
  auto acked = std::async(std::launch::async, [&] { return cons->acknowledge(m2); });
  auto seen = ack_seen.get_future();
  REQUIRE(seen.wait_for(5s) == std::future_status::ready);
  auto correlation_id = seen.get();
  CHECK(correlation_id != 0);
  CHECK(acked.wait_for(100ms) == std::future_status::timeout); // waits for the commit
  broker.receipt(correlation_id);
  REQUIRE(acked.wait_for(5s) == std::future_status::ready);
  CHECK(acked.get());
  CHECK(acked_keys(broker) == std::vector<uint64_t>{1, 2});

  auto m3 = receive_ok(*cons);
  REQUIRE(cons->acknowledge(m3));
  CHECK(acked_keys(broker) == std::vector<uint64_t>{1, 2, 3});
  CHECK(cons->acknowledge(m3)); // nothing left: no frame
  CHECK(broker.frames(wire::Frame::kAck).size() == 2);
}

TEST_CASE("individual acknowledge acks one message", "[consumer]") {
  fake_broker broker;
  auto conn = open_ok(broker.url());
  consumer_options o;
  o.mode = ack_mode::individual_acknowledge;
  auto cons = consumer_ok(*conn, o);
  for (uint64_t k = 1; k <= 3; ++k)
    broker.dispatch(cons->id(), k, "m");
  auto m1 = receive_ok(*cons);
  auto m2 = receive_ok(*cons);
  auto m3 = receive_ok(*cons);
  REQUIRE(cons->acknowledge(m2));
  CHECK(acked_keys(broker) == std::vector<uint64_t>{2});
  REQUIRE(cons->acknowledge(m1));
  CHECK(acked_keys(broker) == std::vector<uint64_t>{2, 1});
  for (auto& f : broker.frames(wire::Frame::kAck))
    CHECK(f.correlation_id() != 0);
  (void)m3;
}

TEST_CASE("an ack refused by the node returns its error", "[consumer]") {
  fake_broker broker;
  broker.set_hook([](fake_broker& b, const wire::Frame& f) {
    if (!f.has_ack())
      return false;
    b.error(f.correlation_id(), wire::ERROR_UNKNOWN_DELIVERY, "no delivery 1");
    return true;
  });
  auto conn = open_ok(broker.url());
  consumer_options o;
  o.mode = ack_mode::individual_acknowledge;
  auto cons = consumer_ok(*conn, o);
  broker.dispatch(cons->id(), 1, "m");
  auto m = receive_ok(*cons);
  auto acked = cons->acknowledge(m);
  REQUIRE_FALSE(acked);
  CHECK(broker_code(acked.code()) == wire::ERROR_UNKNOWN_DELIVERY);
}

TEST_CASE("auto acknowledge batches acks and flushes them before close", "[consumer]") {
  fake_broker broker;
  auto conn = open_ok(broker.url());
  consumer_options o;
  o.prefetch = 4; // batches of 2
  auto cons = consumer_ok(*conn, o);
  for (uint64_t k = 1; k <= 3; ++k)
    broker.dispatch(cons->id(), k, "m");
  REQUIRE(conn->stats()); // answered after the dispatches: all three are in the buffer
  receive_ok(*cons);
  receive_ok(*cons);
  CHECK(broker.frames(wire::Frame::kAck).empty()); // 2 is still with the application
  receive_ok(*cons);                               // now 1 and 2 are handed over: one batch
  REQUIRE(broker.wait_count(wire::Frame::kAck, 1));
  CHECK(acked_keys(broker) == std::vector<uint64_t>{1, 2});
  REQUIRE(cons->close());
  CHECK(acked_keys(broker) == std::vector<uint64_t>{1, 2, 3});
  auto closes = broker.frames(wire::Frame::kCloseConsumer);
  REQUIRE(closes.size() == 1);
  CHECK(closes[0].close_consumer().consumer_id() == cons->id());
  // The last ack precedes the close.
  auto all = broker.frames();
  size_t last_ack = 0, close_at = 0;
  for (size_t i = 0; i < all.size(); ++i) {
    if (all[i].has_ack())
      last_ack = i;
    if (all[i].has_close_consumer())
      close_at = i;
  }
  CHECK(last_ack < close_at);
  auto after = cons->receive(10ms);
  REQUIRE_FALSE(after);
  CHECK(after.code() == client_errc::closed);
}

TEST_CASE("auto acknowledge sends held acks before waiting for more", "[consumer]") {
  fake_broker broker;
  auto conn = open_ok(broker.url());
  consumer_options o;
  o.prefetch = 100;
  auto cons = consumer_ok(*conn, o);
  broker.dispatch(cons->id(), 1, "m");
  receive_ok(*cons);
  CHECK(broker.frames(wire::Frame::kAck).empty());
  auto none = cons->receive(20ms); // the buffer is empty: the held ack goes out
  REQUIRE(none);
  REQUIRE(broker.wait_count(wire::Frame::kAck, 1));
  CHECK(acked_keys(broker) == std::vector<uint64_t>{1});
}

TEST_CASE("a listener receives the messages", "[consumer]") {
  fake_broker broker;
  auto conn = open_ok(broker.url());
  consumer_options o;
  o.mode = ack_mode::client_acknowledge;
  auto cons = consumer_ok(*conn, o);
  std::mutex mutex;
  std::vector<std::string> bodies;
  std::promise<void> three;
  REQUIRE(cons->set_listener([&](const message& m) {
    std::lock_guard<std::mutex> guard(mutex);
    bodies.push_back(m.body);
    if (bodies.size() == 3) {
      CHECK(cons->acknowledge(m)); // from inside the listener
      three.set_value();
    }
  }));
  auto second = cons->set_listener([](const message&) {});
  REQUIRE_FALSE(second);
  CHECK(second.code() == client_errc::bad_argument);
  auto receive = cons->receive(10ms);
  REQUIRE_FALSE(receive);
  CHECK(receive.code() == client_errc::bad_argument);
  for (uint64_t k = 1; k <= 3; ++k)
    broker.dispatch(cons->id(), k, "m" + std::to_string(k));
  REQUIRE(three.get_future().wait_for(5s) == std::future_status::ready);
  {
    std::lock_guard<std::mutex> guard(mutex);
    CHECK(bodies == std::vector<std::string>{"m1", "m2", "m3"});
  }
  CHECK(acked_keys(broker) == std::vector<uint64_t>{1, 2, 3});
  REQUIRE(cons->close());
}

TEST_CASE("a listener is told when the connection fails", "[consumer]") {
  fake_broker broker;
  auto conn = open_ok(broker.url());
  auto cons = consumer_ok(*conn, consumer_options{});
  std::promise<failure> failed;
  REQUIRE(
      cons->set_listener([](const message&) {}, [&](const failure& f) { failed.set_value(f); }));
  broker.drop();
  auto future = failed.get_future();
  REQUIRE(future.wait_for(5s) == std::future_status::ready);
  CHECK(future.get().code == client_errc::connection_lost);
}

TEST_CASE("receive and acknowledge fail when the connection is lost", "[consumer]") {
  fake_broker broker;
  auto conn = open_ok(broker.url());
  consumer_options o;
  o.mode = ack_mode::client_acknowledge;
  auto cons = consumer_ok(*conn, o);
  broker.dispatch(cons->id(), 1, "m");
  auto m = receive_ok(*cons);
  auto waiting = std::async(std::launch::async, [&] { return cons->receive(10s); });
  CHECK(waiting.wait_for(100ms) == std::future_status::timeout);
  broker.drop();
  REQUIRE(waiting.wait_for(5s) == std::future_status::ready);
  auto r = waiting.get();
  REQUIRE_FALSE(r);
  CHECK(r.code() == client_errc::connection_lost);
  auto acked = cons->acknowledge(m);
  REQUIRE_FALSE(acked);
  CHECK(acked.code() == client_errc::connection_lost);
  CHECK(cons->close()); // nothing to flush: closing a consumer of a lost connection succeeds
}

TEST_CASE("a fatal Error frame reaches a waiting receive", "[consumer]") {
  fake_broker broker;
  auto conn = open_ok(broker.url());
  auto cons = consumer_ok(*conn, consumer_options{});
  auto waiting = std::async(std::launch::async, [&] { return cons->receive(10s); });
  CHECK(waiting.wait_for(50ms) == std::future_status::timeout);
  broker.error(0, wire::ERROR_LIMIT_EXCEEDED, "too many consumers");
  REQUIRE(waiting.wait_for(5s) == std::future_status::ready);
  auto r = waiting.get();
  REQUIRE_FALSE(r);
  CHECK(broker_code(r.code()) == wire::ERROR_LIMIT_EXCEEDED);
  CHECK(r.message().find("too many consumers") != std::string::npos);
}

TEST_CASE("acknowledging another consumer's message is refused", "[consumer]") {
  fake_broker broker;
  auto conn = open_ok(broker.url());
  consumer_options o;
  o.mode = ack_mode::individual_acknowledge;
  auto a = consumer_ok(*conn, o);
  auto b = consumer_ok(*conn, o);
  CHECK(a->id() != b->id());
  broker.dispatch(a->id(), 1, "m");
  auto m = receive_ok(*a);
  auto wrong = b->acknowledge(m);
  REQUIRE_FALSE(wrong);
  CHECK(wrong.code() == client_errc::bad_argument);
}
