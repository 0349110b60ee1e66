// producer: receipted sends, identity, async window, errors. Against a fake broker on loopback.
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

std::unique_ptr<producer> producer_ok(connection& conn, producer_options o = {}) {
  auto p = conn.create_producer("queue://TEST", std::move(o));
  INFO(p.message());
  REQUIRE(p);
  return std::move(*p);
}

} // namespace

TEST_CASE("persistent sends wait for their receipt and carry the producer identity", "[producer]") {
  fake_broker broker;
  auto conn = open_ok(broker.url());
  producer_options o;
  o.priority = 7;
  o.time_to_live_ms = 60000;
  auto prod = producer_ok(*conn, o);
  CHECK(prod->id().size() == 32);
  CHECK(prod->destination() == "queue://TEST");
  REQUIRE(prod->send("one", {{"color", "red"}}));
  REQUIRE(prod->send("two"));
  CHECK(prod->sent() == 2);
  CHECK(prod->receipted() == 2);
  CHECK(prod->outstanding() == 0);

  auto sends = broker.frames(wire::Frame::kSend);
  REQUIRE(sends.size() == 2);
  for (size_t i = 0; i < 2; ++i) {
    const auto& m = sends[i].send().message();
    CHECK(sends[i].correlation_id() != 0);
    CHECK(m.destination() == "queue://TEST");
    CHECK(m.persistent());
    CHECK(m.priority() == 7);
    CHECK(m.producer_id() == prod->id());
    CHECK(m.producer_sequence() == i + 1);
    CHECK(m.timestamp_ms() > 0);
    CHECK(m.expiration_ms() == m.timestamp_ms() + 60000);
  }
  CHECK(sends[0].send().message().body() == "one");
  CHECK(sends[0].send().message().properties().at("color") == "red");

  auto other = producer_ok(*conn);
  CHECK(other->id() != prod->id());
}

TEST_CASE("non-persistent sends go without a correlation id", "[producer]") {
  fake_broker broker;
  auto conn = open_ok(broker.url());
  producer_options o;
  o.persistent = false;
  auto prod = producer_ok(*conn, o);
  for (int i = 0; i < 5; ++i)
    REQUIRE(prod->send("m" + std::to_string(i)));
  REQUIRE(broker.wait_count(wire::Frame::kSend, 5));
  for (auto& f : broker.frames(wire::Frame::kSend)) {
    CHECK(f.correlation_id() == 0);
    CHECK_FALSE(f.send().message().persistent());
  }
  CHECK(prod->receipted() == 0);
}

TEST_CASE("a send refused by the node returns the node's error", "[producer]") {
  fake_broker broker;
  broker.set_hook([](fake_broker& b, const wire::Frame& f) {
    if (!f.has_send())
      return false;
    b.error(f.correlation_id(), wire::ERROR_STORE_FULL, "the store of node a is full");
    return true;
  });
  auto conn = open_ok(broker.url());
  auto prod = producer_ok(*conn);
  auto sent = prod->send("x");
  REQUIRE_FALSE(sent);
  CHECK(broker_code(sent.code()) == wire::ERROR_STORE_FULL);
  CHECK(sent.message().find("store of node a is full") != std::string::npos);
  CHECK(conn->is_open());
}

TEST_CASE("duplicate receipts are counted", "[producer]") {
  fake_broker broker;
  broker.set_hook([](fake_broker& b, const wire::Frame& f) {
    if (!f.has_send())
      return false;
    b.receipt(f.correlation_id(), 1, 1);
    return true;
  });
  auto conn = open_ok(broker.url());
  auto prod = producer_ok(*conn);
  REQUIRE(prod->send("x"));
  CHECK(prod->duplicates() == 1);
}

TEST_CASE("the async window bounds the unreceipted sends", "[producer]") {
  fake_broker broker;
  broker.answer_sends = false; // receipts are released by the test
  auto conn = open_ok(broker.url());
  std::mutex mutex;
  std::vector<uint64_t> completed;
  producer_options o;
  o.async_window = 3;
  o.on_complete = [&](uint64_t sequence, const result<void>& outcome) {
    CHECK(outcome);
    std::lock_guard<std::mutex> guard(mutex);
    completed.push_back(sequence);
  };
  auto prod = producer_ok(*conn, o);
  for (int i = 0; i < 3; ++i)
    REQUIRE(prod->send("m" + std::to_string(i)));
  CHECK(prod->outstanding() == 3);
  REQUIRE(broker.wait_count(wire::Frame::kSend, 3));

  auto fourth = std::async(std::launch::async, [&] { return prod->send("m3"); });
  CHECK(fourth.wait_for(200ms) == std::future_status::timeout); // the window is full
  auto sends = broker.frames(wire::Frame::kSend);
  broker.receipt(sends[0].correlation_id(), 1);
  REQUIRE(fourth.wait_for(5s) == std::future_status::ready);
  CHECK(fourth.get());
  REQUIRE(broker.wait_count(wire::Frame::kSend, 4));

  auto flushed = std::async(std::launch::async, [&] { return prod->flush(); });
  CHECK(flushed.wait_for(100ms) == std::future_status::timeout);
  sends = broker.frames(wire::Frame::kSend);
  for (size_t i = 1; i < sends.size(); ++i)
    broker.receipt(sends[i].correlation_id(), 1);
  REQUIRE(flushed.wait_for(5s) == std::future_status::ready);
  CHECK(flushed.get());
  CHECK(prod->receipted() == 4);
  CHECK(prod->outstanding() == 0);
  std::lock_guard<std::mutex> guard(mutex);
  CHECK(completed == std::vector<uint64_t>{1, 2, 3, 4});
}

TEST_CASE("a failed async send is reported once, by the next send or flush", "[producer]") {
  fake_broker broker;
  broker.set_hook([](fake_broker& b, const wire::Frame& f) {
    if (!f.has_send())
      return false;
    if (f.send().message().producer_sequence() == 2)
      b.error(f.correlation_id(), wire::ERROR_STORE_FAILED, "disk trouble");
    else
      b.receipt(f.correlation_id(), 1);
    return true;
  });
  auto conn = open_ok(broker.url());
  producer_options o;
  o.async_window = 10;
  auto prod = producer_ok(*conn, o);
  std::vector<failure> failures;
  for (int i = 0; i < 3; ++i)
    if (auto sent = prod->send("m"); !sent)
      failures.push_back(sent.error());
  if (auto flushed = prod->flush(); !flushed)
    failures.push_back(flushed.error());
  REQUIRE(failures.size() == 1);
  CHECK(broker_code(failures[0].code) == wire::ERROR_STORE_FAILED);
  CHECK(prod->flush());
  CHECK(prod->outstanding() == 0);
}

TEST_CASE("sends waiting for receipts fail when the connection is lost", "[producer]") {
  fake_broker broker;
  broker.answer_sends = false;
  auto conn = open_ok(broker.url());
  producer_options o;
  o.async_window = 5;
  auto prod = producer_ok(*conn, o);
  REQUIRE(prod->send("a"));
  REQUIRE(prod->send("b"));
  REQUIRE(broker.wait_count(wire::Frame::kSend, 2));
  broker.drop();
  auto flushed = prod->flush();
  REQUIRE_FALSE(flushed);
  CHECK(flushed.code() == client_errc::connection_lost);
  auto sent = prod->send("c");
  REQUIRE_FALSE(sent);
  CHECK(sent.code() == client_errc::connection_lost);
}

TEST_CASE("close waits for outstanding persistent sends", "[producer]") {
  fake_broker broker;
  broker.answer_sends = false;
  auto conn = open_ok(broker.url());
  producer_options o;
  o.async_window = 5;
  auto prod = producer_ok(*conn, o);
  REQUIRE(prod->send("a"));
  REQUIRE(broker.wait_count(wire::Frame::kSend, 1));
  auto closing = std::async(std::launch::async, [&] { return conn->close(); });
  CHECK(closing.wait_for(100ms) == std::future_status::timeout);
  broker.receipt(broker.frames(wire::Frame::kSend)[0].correlation_id(), 1);
  REQUIRE(closing.wait_for(5s) == std::future_status::ready);
  CHECK(closing.get());
  CHECK(prod->receipted() == 1);
  auto after = prod->send("b");
  REQUIRE_FALSE(after);
  CHECK(after.code() == client_errc::closed);
}

TEST_CASE("producer options are checked", "[producer]") {
  fake_broker broker;
  auto conn = open_ok(broker.url());
  producer_options o;
  o.priority = 12;
  auto p = conn->create_producer("queue://TEST", o);
  REQUIRE_FALSE(p);
  CHECK(p.code() == client_errc::bad_argument);
  auto q = conn->create_producer("news://x");
  REQUIRE_FALSE(q);
  CHECK(q.code() == client_errc::bad_argument);
  // Every kind of destination is the node's to refuse or serve, not the library's.
  CHECK(conn->create_producer("topic://news"));
}
