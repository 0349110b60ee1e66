#include "protocol/destination_options.hpp"

#include <catch2/catch.hpp>

using namespace actormq::protocol;

TEST_CASE("consumer options after a destination") {
  auto plain = split_destination_options("queue://orders");
  REQUIRE(plain);
  CHECK(plain->destination == "queue://orders");
  CHECK_FALSE(plain->consumer.exclusive);
  CHECK_FALSE(plain->consumer.has_priority);

  auto both =
      split_destination_options("queue://orders?consumer.exclusive=true&consumer.priority=7");
  REQUIRE(both);
  CHECK(both->destination == "queue://orders");
  CHECK(both->consumer.exclusive);
  CHECK(both->consumer.has_priority);
  CHECK(both->consumer.priority == 7);

  auto other = split_destination_options("orders?consumer.prefetchSize=10");
  REQUIRE(other);
  CHECK(other->destination == "orders");
  CHECK(other->options.at("consumer.prefetchSize") == "10");
}

TEST_CASE("bad consumer options are refused") {
  for (auto text : {"q?consumer.exclusive=yes", "q?consumer.priority=128", "q?consumer.priority=-1",
                    "q?consumer.priority=x", "q?noequals", "q?=1",
                    "q?consumer.priority=1&consumer.priority=2"}) {
    INFO(text);
    CHECK_FALSE(split_destination_options(text));
  }
}
