// STOMP destinations as one connection means them (protocol/stomp_destinations.cpp): short
// temporary names owned by the connection, ActiveMQ's /remote-temp-queue/ form, composite
// destinations and wildcards, and how a MESSAGE shows each back.
#include "protocol/stomp_codec.hpp"

#include <catch2/catch.hpp>

#include <string>

using namespace actormq::protocol;
using namespace std::string_literals;

namespace {

constexpr auto send_use = stomp_destination_use::send;
constexpr auto subscribe_use = stomp_destination_use::subscribe;

std::vector<command> feed_all(stomp_codec& codec, const std::string& bytes) {
  codec.feed(bytes.data(), bytes.size());
  std::vector<command> out;
  command cmd;
  while (codec.next(cmd))
    out.push_back(std::move(cmd));
  return out;
}

} // namespace

TEST_CASE("short temporary names belong to the connection", "[protocol][stomp-destinations]") {
  stomp_codec codec({});
  codec.set_connection_id("node-stomp-7");
  CHECK(*codec.destination_uri("/temp-queue/replies", send_use) ==
        "temp-queue://ID:node-stomp-7:replies");
  CHECK(*codec.destination_uri("/temp-topic/news", subscribe_use) ==
        "temp-topic://ID:node-stomp-7:news");
  // Shown back to the owner by the name it used, to others in ActiveMQ's remote form.
  CHECK(codec.stomp_destination("temp-queue://ID:node-stomp-7:replies") == "/temp-queue/replies");
  CHECK(codec.stomp_destination("temp-topic://ID:node-stomp-7:news") == "/temp-topic/news");
  CHECK(codec.stomp_destination("temp-queue://ID:other:1") == "/remote-temp-queue/ID:other:1");
  CHECK(codec.stomp_destination("temp-topic://ID:other:1") == "/remote-temp-topic/ID:other:1");
  // Full names stay full names, whoever owns them.
  CHECK(*codec.destination_uri("/temp-queue/ID:other:1", send_use) == "temp-queue://ID:other:1");
  CHECK(codec.stomp_destination("temp-queue://ID:node-stomp-7:full") ==
        "/temp-queue/ID:node-stomp-7:full");
  CHECK(*codec.destination_uri("/remote-temp-queue/ID:other:1", send_use) ==
        "temp-queue://ID:other:1");
  CHECK(*codec.destination_uri("/remote-temp-topic/ID:other:2", send_use) ==
        "temp-topic://ID:other:2");
  CHECK_THAT(codec.destination_uri("/temp-queue/a:b", send_use).message(),
             Catch::Contains("may not hold ':'"));
  CHECK(!codec.destination_uri("/temp-queue/", send_use));
}

TEST_CASE("a client-id names the connection's temporary destinations",
          "[protocol][stomp-destinations]") {
  stomp_codec codec({});
  codec.set_connection_id("node-stomp-7");
  auto cmds = feed_all(codec, "CONNECT\naccept-version:1.2\nclient-id:app\n\n\0"s
                              "SUBSCRIBE\nid:0\ndestination:/temp-queue/r\n\n\0"s
                              "SEND\ndestination:/queue/service\nreply-to:/temp-queue/r\n\nq\0"s);
  REQUIRE(cmds.size() == 3);
  CHECK(std::get<open_consumer_command>(cmds[1].body).destination == "temp-queue://ID:app:r");
  CHECK(std::get<send_command>(cmds[2].body).message.reply_to() == "temp-queue://ID:app:r");
  CHECK(codec.stomp_destination("temp-queue://ID:app:r") == "/temp-queue/r");
  CHECK(codec.stomp_destination("temp-queue://ID:node-stomp-7:x") ==
        "/remote-temp-queue/ID:node-stomp-7:x");
}

TEST_CASE("composite destinations and wildcards", "[protocol][stomp-destinations]") {
  stomp_codec codec({});
  CHECK(*codec.destination_uri("/queue/a,/queue/b,/topic/c", send_use) ==
        "queue://a,queue://b,topic://c");
  CHECK(codec.stomp_destination("queue://a,topic://c") == "/queue/a,/topic/c");
  CHECK(*codec.destination_uri("/topic/prices.>", subscribe_use) == "topic://prices.>");
  CHECK(*codec.destination_uri("/queue/orders.*", subscribe_use) == "queue://orders.*");
  CHECK(*codec.destination_uri("/queue/a,/topic/p.*.eu", subscribe_use) ==
        "queue://a,topic://p.*.eu");
  // Every part needs its prefix (ActiveMQ's STOMP form).
  CHECK_THAT(codec.destination_uri("/queue/a,b", send_use).message(),
             Catch::Contains("'b' must start with /queue/"));
  CHECK_THAT(codec.destination_uri("/queue/a,", send_use).message(), Catch::Contains("empty part"));
  // A message goes to named destinations.
  CHECK_THAT(codec.destination_uri("/topic/prices.>", send_use).message(),
             Catch::Contains("wildcard '>'"));
  CHECK_THAT(codec.destination_uri("/queue/a,/queue/orders.*", send_use).message(),
             Catch::Contains("wildcard '*'"));
  CHECK_THAT(codec.destination_uri("/topic/prices.a>", subscribe_use).message(),
             Catch::Contains("whole elements"));
  CHECK(!codec.destination_uri("/temp-queue/r.>", subscribe_use));
}

TEST_CASE("a wildcard SEND is refused with an ERROR", "[protocol][stomp-destinations]") {
  stomp_codec codec({});
  auto cmds = feed_all(codec, "CONNECT\naccept-version:1.2\n\n\0"s
                              "SEND\ndestination:/topic/prices.>\nreceipt:r\n\nx\0"s);
  REQUIRE(cmds.size() == 2);
  auto& refused = std::get<refused_command>(cmds[1].body);
  CHECK(refused.code == error_code::bad_destination);
  CHECK_THAT(refused.text,
             Catch::Contains("/topic/prices.>") && Catch::Contains("wildcards are for consumers"));
}
