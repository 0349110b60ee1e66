// Destination patterns: ActiveMQ's wildcards, with or without the queue:// scheme.
#include "protocol/destination_pattern.hpp"

#include "protocol/uri.hpp"

#include <catch2/catch.hpp>

#include <string>

using namespace actormq;
using namespace actormq::protocol;

namespace {

destination_pattern pattern(const std::string& text) {
  auto p = parse_destination_pattern(text);
  REQUIRE(p);
  return *p;
}

} // namespace

TEST_CASE("a pattern without a scheme is a queue pattern", "[protocol]") {
  auto bare = pattern("orders.>");
  auto with_scheme = pattern("queue://orders.>");
  CHECK(bare.text == "queue://orders.>");
  CHECK(with_scheme.text == bare.text);
  CHECK(matches(bare, "queue://orders.eu"));
  CHECK(matches(with_scheme, "queue://orders.eu"));
}

TEST_CASE("'>' matches one or more trailing elements", "[protocol]") {
  auto p = pattern("orders.>");
  CHECK(matches(p, "queue://orders.eu"));
  CHECK(matches(p, "queue://orders.eu.north"));
  CHECK_FALSE(matches(p, "queue://orders"));
  CHECK_FALSE(matches(p, "queue://ordersx.eu"));
  CHECK_FALSE(matches(p, "queue://billing.orders.eu"));
  auto all = pattern(">");
  CHECK(matches(all, "queue://anything"));
  CHECK(matches(all, "queue://a.b.c"));
}

TEST_CASE("'*' matches exactly one element", "[protocol]") {
  auto p = pattern("price.*.ibm");
  CHECK(matches(p, "queue://price.nyse.ibm"));
  CHECK(matches(p, "queue://price.nasdaq.ibm"));
  CHECK_FALSE(matches(p, "queue://price.ibm"));
  CHECK_FALSE(matches(p, "queue://price.nyse.x.ibm"));
  auto tail = pattern("price.*");
  CHECK(matches(tail, "queue://price.nyse"));
  CHECK_FALSE(matches(tail, "queue://price.nyse.ibm"));
}

TEST_CASE("a pattern without wildcards matches its one name", "[protocol]") {
  auto p = pattern("orders");
  CHECK_FALSE(has_wildcard(p));
  CHECK(has_wildcard(pattern("a.*")));
  CHECK(has_wildcard(pattern("a.>")));
  CHECK(matches(p, "queue://orders"));
  CHECK_FALSE(matches(p, "queue://orders.eu"));
  CHECK_FALSE(matches(p, "topic://orders"));
}

TEST_CASE("bad patterns are refused with the reason", "[protocol]") {
  auto inside = parse_destination_pattern("orders>");
  REQUIRE_FALSE(inside);
  CHECK(inside.code() == uri_errc::malformed);
  CHECK(inside.message().find("whole elements") != std::string::npos);
  auto not_last = parse_destination_pattern("a.>.b");
  REQUIRE_FALSE(not_last);
  CHECK(not_last.message().find("last element") != std::string::npos);
  auto bad_char = parse_destination_pattern("a b.>");
  REQUIRE_FALSE(bad_char);
  CHECK(bad_char.message().find("bad character") != std::string::npos);
  auto topic = parse_destination_pattern("topic://a.>");
  REQUIRE_FALSE(topic);
  CHECK(topic.message().find("forward queues only") != std::string::npos);
  CHECK(parse_destination_pattern("").code() == uri_errc::malformed);
}

TEST_CASE("a subscription pattern may be a topic or a queue pattern", "[protocol]") {
  auto topic = parse_subscription_pattern("topic://prices.>");
  REQUIRE(topic);
  CHECK(topic->kind == destination_kind::topic);
  CHECK(topic->text == "topic://prices.>");
  CHECK(has_wildcard(*topic));
  CHECK(matches(*topic, "topic://prices.eu"));
  CHECK_FALSE(matches(*topic, "queue://prices.eu"));
  auto queue = parse_subscription_pattern("orders.*");
  REQUIRE(queue);
  CHECK(queue->kind == destination_kind::queue);
  CHECK(matches(*queue, "queue://orders.eu"));
  CHECK_FALSE(matches(*queue, "topic://orders.eu"));
  auto plain = parse_subscription_pattern("temp-queue://ID:x:1");
  REQUIRE(plain);
  CHECK_FALSE(has_wildcard(*plain));
  CHECK(parse_subscription_pattern("temp-topic://a.>").code() == uri_errc::malformed);
  CHECK(parse_subscription_pattern("topic://a.>.b").code() == uri_errc::malformed);
  // Network connectors still take queue patterns only.
  CHECK_FALSE(parse_destination_pattern("topic://a.>"));
}

TEST_CASE("a consumer's composite destination is a list of patterns", "[protocol]") {
  auto parts = parse_subscription_patterns("queue://a.*,topic://b.>,c,queue://a.*");
  REQUIRE(parts);
  REQUIRE(parts->size() == 3);
  CHECK((*parts)[0].text == "queue://a.*");
  CHECK((*parts)[1].text == "topic://b.>");
  CHECK((*parts)[2].text == "queue://c"); // the first part's kind
  CHECK(composite_text(*parts) == "queue://a.*,topic://b.>,queue://c");
  auto bad = parse_subscription_patterns("queue://a,topic://b.x>");
  REQUIRE_FALSE(bad);
  CHECK(bad.message().find("part 'topic://b.x>'") != std::string::npos);
}
