// failover: URL options, the back-off schedule and the order of a pass (pure functions), and
// the reconnect loop against fake brokers on loopback.
#include "client/client.hpp"
#include "client/failover.hpp"
#include "fake_broker.hpp"

#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>
#include <future>
#include <set>
#include <thread>

using namespace actormq;
using namespace actormq::client;
using namespace std::chrono_literals;
using testing::fake_broker;
using ms = std::chrono::milliseconds;

namespace {

failover_url parse_ok(const std::string& text) {
  auto r = parse_failover_url(text);
  INFO(text << ": " << r.message());
  REQUIRE(r);
  return std::move(*r);
}

std::string parse_error(const std::string& text) {
  auto r = parse_failover_url(text);
  REQUIRE_FALSE(r);
  return r.message();
}

uint16_t closed_port() {
  fake_broker gone;
  return gone.port();
}

} // namespace

TEST_CASE("failover options have ActiveMQ's defaults", "[failover]") {
  auto url = parse_ok("failover:(tcp://127.0.0.1:61617,tcp://127.0.0.1:61618)");
  const auto& o = url.options;
  CHECK(o.randomize);
  CHECK(o.initial_reconnect_delay == 10ms);
  CHECK(o.max_reconnect_delay == 30000ms);
  CHECK(o.use_exponential_back_off);
  CHECK(o.reconnect_delay_exponent == Approx(2.0));
  CHECK(o.max_reconnect_attempts == -1);
  CHECK(o.startup_max_reconnect_attempts == -1);
  CHECK(o.timeout_ms == -1);
  CHECK_FALSE(o.priority_backup);
  CHECK(o.priority_uris.empty());
  CHECK(o.update_uris_supported);
  CHECK(url.warnings.empty());
  REQUIRE(url.uris.size() == 2);
  CHECK(url.uris[0].text() == "tcp://127.0.0.1:61617");
  CHECK(url.uris[1].text() == "tcp://127.0.0.1:61618");

  auto bare = parse_ok("failover:tcp://127.0.0.1:1,tcp://127.0.0.1:2");
  CHECK(bare.uris.size() == 2);
}

TEST_CASE("failover options are parsed with their names and values", "[failover]") {
  auto url = parse_ok(
      "failover:(tcp://a:1,tcp://b:2)?randomize=false&initialReconnectDelay=100"
      "&maxReconnectDelay=5000&useExponentialBackOff=false&reconnectDelayExponent=1.5"
      "&maxReconnectAttempts=3&startupMaxReconnectAttempts=0&timeout=2500&priorityBackup=true"
      "&priorityURIs=tcp://b:2&updateURIsSupported=false&warnAfterReconnectAttempts=0");
  const auto& o = url.options;
  CHECK_FALSE(o.randomize);
  CHECK(o.initial_reconnect_delay == 100ms);
  CHECK(o.max_reconnect_delay == 5000ms);
  CHECK_FALSE(o.use_exponential_back_off);
  CHECK(o.reconnect_delay_exponent == Approx(1.5));
  CHECK(o.max_reconnect_attempts == 3);
  CHECK(o.startup_max_reconnect_attempts == 0);
  CHECK(o.timeout_ms == 2500);
  CHECK(o.priority_backup);
  REQUIRE(o.priority_uris.size() == 1);
  CHECK(o.priority_uris[0].text() == "tcp://b:2");
  CHECK_FALSE(o.update_uris_supported);
  CHECK(o.warn_after_reconnect_attempts == 0);
}

TEST_CASE("nested options reach every member, a member's own option wins", "[failover]") {
  auto url = parse_ok("failover:(tcp://a:1,tcp://b:2?connectionTimeout=7)"
                      "?nested.connectionTimeout=500&nested.tcpNoDelay=true");
  REQUIRE(url.uris.size() == 2);
  CHECK(url.uris[0].options.at("connectionTimeout") == "500");
  CHECK(url.uris[0].options.at("tcpNoDelay") == "true");
  CHECK(url.uris[1].options.at("connectionTimeout") == "7");
  CHECK(url.uris[1].options.at("tcpNoDelay") == "true");
  CHECK(member_connect_timeout(url.uris[0], 10s) == 500ms);
  CHECK(member_connect_timeout(url.uris[1], 10s) == 7ms);
  CHECK(member_connect_timeout(protocol::tcp_uri{"h", 1, {}}, 10s) == 10s);
}

TEST_CASE("unknown failover options and bad values are errors naming them", "[failover]") {
  auto e = parse_error("failover:(tcp://a:1)?bogusOption=1");
  CHECK(e.find("bogusOption") != std::string::npos);
  e = parse_error("failover:(tcp://a:1)?maxreconnectattempts=1");
  CHECK(e.find("maxreconnectattempts") != std::string::npos);
  CHECK(e.find("did you mean maxReconnectAttempts") != std::string::npos);
  e = parse_error("failover:(tcp://a:1)?randomize=maybe");
  CHECK(e.find("randomize=maybe") != std::string::npos);
  e = parse_error("failover:(tcp://a:1)?maxReconnectAttempts=-2");
  CHECK(e.find("maxReconnectAttempts") != std::string::npos);
  e = parse_error("failover:(tcp://a:1)?initialReconnectDelay=ten");
  CHECK(e.find("initialReconnectDelay") != std::string::npos);
  e = parse_error("failover:(tcp://a:1)?reconnectDelayExponent=0");
  CHECK(e.find("reconnectDelayExponent") != std::string::npos);
  e = parse_error("failover:(tcp://a:1)?priorityURIs=tcp://x");
  CHECK(e.find("priorityURIs") != std::string::npos);
  e = parse_error("failover:(tcp://a:1,tcp://b)");
  CHECK(e.find("tcp://b") != std::string::npos);
  e = parse_error("failover:(tcp://a:1");
  CHECK(e.find("missing ')'") != std::string::npos);
  e = parse_error("failover:(tcp://a:1)?nested.=1");
  CHECK(e.find("nested.") != std::string::npos);

  // Through connection::open: bad_argument with the same text.
  auto conn = connection::open("failover:(tcp://127.0.0.1:1)?noSuchThing=true");
  REQUIRE_FALSE(conn);
  CHECK(conn.code() == client_errc::bad_argument);
  CHECK(conn.message().find("noSuchThing") != std::string::npos);
}

TEST_CASE("ActiveMQ options without effect here are accepted with a warning", "[failover]") {
  auto url = parse_ok("failover:(tcp://a:1)?trackMessages=true&backup=true&backupPoolSize=2"
                      "&maxCacheSize=1000&reconnectSupported=true&connectionTimeout=5"
                      "&jms.prefetchPolicy.all=5");
  REQUIRE(url.warnings.size() == 7);
  std::string all;
  for (auto& w : url.warnings)
    all += w + "\n";
  for (auto name : {"trackMessages", "backup=", "backupPoolSize", "maxCacheSize",
                    "reconnectSupported", "connectionTimeout", "jms.prefetchPolicy.all"})
    CHECK(all.find(name) != std::string::npos);

  // connection::open hands them to on_warning (stderr by default).
  fake_broker broker;
  std::vector<std::string> warnings;
  connection_options o;
  o.on_warning = [&](const std::string& w) { warnings.push_back(w); };
  auto conn = connection::open("failover:(" + broker.url() + ")?trackMessages=true", o);
  REQUIRE(conn);
  REQUIRE(warnings.size() == 1);
  CHECK(warnings[0].find("trackMessages") != std::string::npos);
}

TEST_CASE("priority URIs: listed ones first, non-members join the list", "[failover]") {
  auto url = parse_ok("failover:(tcp://a:1,tcp://b:2,tcp://c:3)?priorityBackup=true"
                      "&priorityURIs=tcp://c:3,tcp://d:4&randomize=false");
  REQUIRE(url.uris.size() == 4);
  CHECK(url.uris[3].text() == "tcp://d:4");
  std::mt19937_64 rng(1);
  auto order = connect_order(url.options, url.uris, "", rng);
  REQUIRE(order.size() == 4);
  CHECK(order[0].text() == "tcp://c:3");
  CHECK(order[1].text() == "tcp://d:4");
  CHECK(order[2].text() == "tcp://a:1");
  CHECK(order[3].text() == "tcp://b:2");
  CHECK(is_priority(url.options, url.uris, "tcp://d:4"));
  CHECK_FALSE(is_priority(url.options, url.uris, "tcp://a:1"));

  // Without priorityURIs the first member is the priority one.
  auto plain = parse_ok("failover:(tcp://a:1,tcp://b:2)?priorityBackup=true");
  CHECK(is_priority(plain.options, plain.uris, "tcp://a:1"));
  CHECK_FALSE(is_priority(plain.options, plain.uris, "tcp://b:2"));
  for (int i = 0; i < 20; ++i)
    CHECK(connect_order(plain.options, plain.uris, "", rng)[0].text() == "tcp://a:1");
}

TEST_CASE("a pass tries the URI that just failed last; randomize shuffles the rest", "[failover]") {
  auto url = parse_ok("failover:(tcp://a:1,tcp://b:2,tcp://c:3)?randomize=false");
  std::mt19937_64 rng(7);
  auto order = connect_order(url.options, url.uris, "tcp://a:1", rng);
  REQUIRE(order.size() == 3);
  CHECK(order[0].text() == "tcp://b:2");
  CHECK(order[1].text() == "tcp://c:3");
  CHECK(order[2].text() == "tcp://a:1");

  auto shuffled = parse_ok("failover:(tcp://a:1,tcp://b:2,tcp://c:3,tcp://d:4)");
  std::set<std::string> firsts;
  for (int i = 0; i < 50; ++i) {
    auto o = connect_order(shuffled.options, shuffled.uris, "tcp://d:4", rng);
    CHECK(o.back().text() == "tcp://d:4");
    firsts.insert(o.front().text());
  }
  CHECK(firsts.size() == 3);
}

TEST_CASE("the back-off schedule follows ActiveMQ's options", "[failover]") {
  failover_options o; // 10 ms, x2, capped at 30 s
  CHECK(reconnect_schedule(o, 6) == std::vector<ms>{10ms, 20ms, 40ms, 80ms, 160ms, 320ms});
  CHECK(reconnect_delay(o, 13) == 30000ms);
  CHECK(reconnect_delay(o, 1000000) == 30000ms);

  o.use_exponential_back_off = false;
  CHECK(reconnect_schedule(o, 3) == std::vector<ms>{10ms, 10ms, 10ms});

  o.use_exponential_back_off = true;
  o.initial_reconnect_delay = 100ms;
  o.reconnect_delay_exponent = 1.5;
  o.max_reconnect_delay = 400ms;
  CHECK(reconnect_schedule(o, 5) == std::vector<ms>{100ms, 150ms, 225ms, 338ms, 400ms});

  o.initial_reconnect_delay = 1000ms; // above the cap
  CHECK(reconnect_delay(o, 1) == 400ms);
}

TEST_CASE("attempt limits: startupMaxReconnectAttempts until the first connection", "[failover]") {
  failover_options o;
  CHECK(attempt_limit(o, true) == -1);
  CHECK(attempt_limit(o, false) == -1);
  o.max_reconnect_attempts = 3;
  CHECK(attempt_limit(o, true) == 3);
  CHECK(attempt_limit(o, false) == 3);
  o.startup_max_reconnect_attempts = 1;
  CHECK(attempt_limit(o, true) == 1);
  CHECK(attempt_limit(o, false) == 3);
}

TEST_CASE("with nothing listening the client gives up after maxReconnectAttempts passes",
          "[failover]") {
  auto a = closed_port();
  auto b = closed_port();
  auto url = "failover:(tcp://127.0.0.1:" + std::to_string(a) +
             ",tcp://127.0.0.1:" + std::to_string(b) +
             ")?maxReconnectAttempts=3&initialReconnectDelay=20";
  auto start = std::chrono::steady_clock::now();
  auto conn = connection::open(url);
  auto took = std::chrono::steady_clock::now() - start;
  REQUIRE_FALSE(conn);
  CHECK(conn.code() == client_errc::connection_failed);
  INFO(conn.message());
  CHECK(conn.message().find("3 attempts") != std::string::npos);
  CHECK(conn.message().find("tcp://127.0.0.1:" + std::to_string(a)) != std::string::npos);
  CHECK(conn.message().find("tcp://127.0.0.1:" + std::to_string(b)) != std::string::npos);
  CHECK(conn.message().find("refused") != std::string::npos);
  // Passes at 0, 20 and 60 ms: no delay after the last one.
  CHECK(took >= 60ms);
  CHECK(took < 2s);

  auto once = connection::open("failover:(tcp://127.0.0.1:" + std::to_string(a) +
                               ")?maxReconnectAttempts=0");
  REQUIRE_FALSE(once);
  CHECK(once.message().find("1 attempt") != std::string::npos);
}

namespace {

void dispatch_from(fake_broker& broker, uint64_t consumer_id, uint64_t key, const std::string& body,
                   const std::string& producer_id, uint64_t sequence) {
  wire::Frame f;
  auto* d = f.mutable_dispatch();
  d->set_consumer_id(consumer_id);
  d->set_delivery_key(key);
  d->set_delivery_count(1);
  d->mutable_message()->set_destination("queue://TEST");
  d->mutable_message()->set_body(body);
  d->mutable_message()->set_persistent(true);
  d->mutable_message()->set_producer_id(producer_id);
  d->mutable_message()->set_producer_sequence(sequence);
  broker.send(f);
}

} // namespace

TEST_CASE("after a lost connection the client reconnects, reopens consumers and resends",
          "[failover]") {
  fake_broker broker;
  std::atomic<int> interrupted{0};
  std::atomic<int> resumed{0};
  connection_options o;
  o.connect_timeout = 2s;
  o.request_timeout = 5s;
  o.on_interrupted = [&](const failure&) { ++interrupted; };
  o.on_resumed = [&](const std::string&) { ++resumed; };
  auto conn = connection::open("failover:(" + broker.url() + ")", o);
  INFO(conn.message());
  REQUIRE(conn);
  consumer_options co;
  co.mode = ack_mode::client_acknowledge;
  co.prefetch = 10;
  auto cons = (*conn)->create_consumer("queue://TEST", co);
  REQUIRE(cons);
  auto cid = (*cons)->id();
  dispatch_from(broker, cid, 1, "before", "p1", 7);
  auto before = (*cons)->receive(2s);
  REQUIRE(before);
  REQUIRE(*before);
  CHECK_FALSE((*before)->redelivered);
  dispatch_from(broker, cid, 2, "prefetched", "p1", 8); // never handed out: dropped
  REQUIRE(broker.wait_count(wire::Frame::kOpenConsumer, 1));

  broker.answer_sends = false;
  auto prod = (*conn)->create_producer("queue://TEST");
  REQUIRE(prod);
  auto sent = std::async(std::launch::async, [&] { return (*prod)->send("hello"); });
  REQUIRE(broker.wait_count(wire::Frame::kSend, 1));
  broker.answer_sends = true;
  broker.drop(); // the node goes away before the receipt

  auto outcome = sent.get();
  INFO(outcome.message());
  REQUIRE(outcome); // resent and receipted on the new connection
  auto sends = broker.frames(wire::Frame::kSend);
  REQUIRE(sends.size() == 2);
  CHECK(sends[1].send().message().producer_id() == sends[0].send().message().producer_id());
  CHECK(sends[1].send().message().producer_sequence() == 1);
  CHECK(sends[1].correlation_id() == sends[0].correlation_id());
  auto opens = broker.frames(wire::Frame::kOpenConsumer);
  REQUIRE(opens.size() == 2);
  CHECK(opens[1].open_consumer().consumer_id() == cid);
  CHECK(opens[1].open_consumer().prefetch() == 10);
  CHECK(opens[1].open_consumer().ack_mode() == wire::ACK_MODE_CLIENT);
  // on_resumed comes once the replay is done; the resent send's receipt may come before.
  for (int i = 0; i < 200 && resumed == 0; ++i)
    std::this_thread::sleep_for(10ms);
  CHECK(interrupted == 1);
  CHECK(resumed == 1);
  CHECK((*conn)->info().failovers == 1);
  CHECK((*prod)->receipted() == 1);

  // The message handed out before the failover cannot be acknowledged any more.
  auto stale = (*cons)->acknowledge(**before);
  REQUIRE_FALSE(stale);
  CHECK(stale.code() == client_errc::failed_over);
  CHECK(broker.frames(wire::Frame::kAck).empty());

  // Nothing prefetched survives; the same message again is marked redelivered, the other not.
  dispatch_from(broker, cid, 1, "before", "p1", 7);
  dispatch_from(broker, cid, 2, "prefetched", "p1", 8);
  auto again = (*cons)->receive(2s);
  REQUIRE(again);
  REQUIRE(*again);
  CHECK((*again)->body == "before");
  CHECK((*again)->redelivered);
  CHECK((*again)->delivery_count == 2);
  auto other = (*cons)->receive(2s);
  REQUIRE(other);
  REQUIRE(*other);
  CHECK((*other)->body == "prefetched");
  CHECK_FALSE((*other)->redelivered);
  auto acked = (*cons)->acknowledge(**other);
  INFO(acked.message());
  CHECK(acked);
  auto acks = broker.frames(wire::Frame::kAck);
  REQUIRE(acks.size() == 1);
  CHECK(acks[0].ack().delivery_keys_size() == 2);
  CHECK((*conn)->close());
}

TEST_CASE("during an outage a send fails after the failover timeout", "[failover]") {
  auto broker = std::make_unique<fake_broker>();
  connection_options o;
  o.connect_timeout = 1s;
  std::vector<std::string> warnings;
  o.on_warning = [&](const std::string& w) { warnings.push_back(w); };
  auto conn = connection::open("failover:(" + broker->url() + ")?timeout=300", o);
  REQUIRE(conn);
  auto prod = (*conn)->create_producer("queue://TEST");
  REQUIRE(prod);
  REQUIRE((*prod)->send("one"));
  broker.reset(); // gone for good
  auto start = std::chrono::steady_clock::now();
  auto r = (*prod)->send("two");
  auto took = std::chrono::steady_clock::now() - start;
  REQUIRE_FALSE(r);
  CHECK(r.code() == client_errc::timeout);
  CHECK(r.message().find("failover timeout of 300 ms") != std::string::npos);
  CHECK(took >= 250ms);
  CHECK(took < 3s);
  CHECK((*conn)->is_open()); // still reconnecting
}
