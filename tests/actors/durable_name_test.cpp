// The store names of durable subscriptions (actors/durable_name.hpp): any client id and
// subscription name make one name that reads back the same, and nothing else reads as one.
#include "actors/durable_name.hpp"

#include <catch2/catch.hpp>

using namespace actormq::actors;

TEST_CASE("a durable subscription's store name reads back", "[durable]") {
  durable_name d{"app1", "s1", "topic://prices"};
  CHECK(durable_store_name(d) == "durable://app1:s1@topic://prices");
  auto back = parse_durable_store_name(durable_store_name(d));
  REQUIRE(back);
  CHECK(back->client_id == "app1");
  CHECK(back->subscription_name == "s1");
  CHECK(back->topic == "topic://prices");
}

TEST_CASE("separators in a client id or subscription name are escaped", "[durable]") {
  for (auto& d : {durable_name{"a:b@c", "x@y:z", "topic://t"},
                  durable_name{"%3A", "%", "topic://a.b"}, durable_name{"", "", "topic://t"}}) {
    auto name = durable_store_name(d);
    auto back = parse_durable_store_name(name);
    REQUIRE(back);
    CHECK(back->client_id == d.client_id);
    CHECK(back->subscription_name == d.subscription_name);
    CHECK(back->topic == d.topic);
  }
  CHECK(durable_store_name({"a:b", "c@d", "topic://t"}) == "durable://a%3Ab:c%40d@topic://t");
}

TEST_CASE("other names are not durable subscriptions", "[durable]") {
  CHECK_FALSE(parse_durable_store_name("queue://orders"));
  CHECK_FALSE(parse_durable_store_name("topic://prices"));
  CHECK_FALSE(parse_durable_store_name("durable://no-separators"));
  CHECK_FALSE(parse_durable_store_name("durable://a:b"));
  CHECK_FALSE(parse_durable_store_name("durable://a%ZZ:b@topic://t"));
}

TEST_CASE("a network subscription's name names its link and topic", "[durable]") {
  auto name = network_subscription_name("0c1f-2d", "topic://prices.eu");
  CHECK(name == "0c1f-2d/prices.eu");
  durable_name d{network_client_id, name, "topic://prices.eu"};
  CHECK(durable_store_name(d) == "durable://network:0c1f-2d/prices.eu@topic://prices.eu");
  auto back = parse_durable_store_name(durable_store_name(d));
  REQUIRE(back);
  CHECK(is_network_subscription(*back));
  CHECK(is_network_subscription(*back, "0c1f-2d"));
  CHECK_FALSE(is_network_subscription(*back, "0c1f"));
  CHECK_FALSE(is_network_subscription(durable_name{"app1", name, "topic://prices.eu"}));
}

TEST_CASE("a durable subscription's selector is kept in its store name", "[durable]") {
  durable_name d{"app1", "s1", "topic://prices", "color = 'red' AND w > 10%"};
  auto name = durable_store_name(d);
  CHECK(name == "durable://app1:s1:color%20%3D%20%27red%27%20AND%20w%20%3E%2010%25@topic://prices");
  auto back = parse_durable_store_name(name);
  REQUIRE(back);
  CHECK(back->client_id == "app1");
  CHECK(back->subscription_name == "s1");
  CHECK(back->topic == "topic://prices");
  CHECK(back->selector == d.selector);
  // Separators in every part, and a name without a selector reads back without one.
  durable_name odd{"a:b@c", "x@y:z", "topic://t", "a = ':@%'"};
  auto odd_back = parse_durable_store_name(durable_store_name(odd));
  REQUIRE(odd_back);
  CHECK(odd_back->client_id == odd.client_id);
  CHECK(odd_back->subscription_name == odd.subscription_name);
  CHECK(odd_back->selector == odd.selector);
  CHECK(parse_durable_store_name("durable://app1:s1@topic://prices")->selector.empty());
  // A broken selector part is no durable subscription's name.
  CHECK_FALSE(parse_durable_store_name("durable://a:b:%2@topic://t"));
  CHECK_FALSE(parse_durable_store_name("durable://a:b:%zz@topic://t"));
  CHECK_FALSE(parse_durable_store_name("durable://a:b:@topic://t"));
}
