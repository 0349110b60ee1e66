// Composite destinations (protocol/destination.hpp): ActiveMQ's "queue://a,queue://b,topic://c".
#include "protocol/destination.hpp"

#include "protocol/uri.hpp"

#include <catch2/catch.hpp>

#include <string>

using namespace actormq;
using namespace actormq::protocol;

TEST_CASE("a composite destination splits into its parts, in order, without repeats",
          "[protocol]") {
  CHECK(is_composite("queue://a,topic://b"));
  CHECK_FALSE(is_composite("queue://a"));
  auto parts = parse_composite_destination("queue://a,queue://b,topic://c,queue://a");
  REQUIRE(parts);
  REQUIRE(parts->size() == 3);
  CHECK((*parts)[0] == destination{destination_kind::queue, "a"});
  CHECK((*parts)[1] == destination{destination_kind::queue, "b"});
  CHECK((*parts)[2] == destination{destination_kind::topic, "c"});
  CHECK(composite_destination_uri(*parts) == "queue://a,queue://b,topic://c");
}

TEST_CASE("a part without a scheme has the first part's kind", "[protocol]") {
  auto topics = parse_composite_destination("topic://a,b,queue://c,d");
  REQUIRE(topics);
  CHECK(composite_destination_uri(*topics) == "topic://a,topic://b,queue://c,topic://d");
  auto bare = parse_composite_destination("a,b");
  REQUIRE(bare);
  CHECK(composite_destination_uri(*bare) == "queue://a,queue://b");
  auto one = parse_composite_destination("orders");
  REQUIRE(one);
  CHECK(composite_destination_uri(*one) == "queue://orders");
}

TEST_CASE("bad composite destinations are refused naming the problem", "[protocol]") {
  auto empty_part = parse_composite_destination("queue://a,,queue://b");
  REQUIRE_FALSE(empty_part);
  CHECK(empty_part.code() == uri_errc::malformed);
  CHECK(empty_part.message().find("empty part") != std::string::npos);
  CHECK_FALSE(parse_composite_destination("queue://a,"));
  CHECK_FALSE(parse_composite_destination(","));
  CHECK_FALSE(parse_composite_destination(""));
  auto wildcard = parse_composite_destination("queue://a,topic://b.>");
  REQUIRE_FALSE(wildcard);
  CHECK(wildcard.message().find("part 'topic://b.>'") != std::string::npos);
  CHECK(wildcard.message().find("wildcard '>'") != std::string::npos);
  auto scheme = parse_composite_destination("queue://a,http://b");
  REQUIRE_FALSE(scheme);
  CHECK(scheme.message().find("unsupported destination scheme") != std::string::npos);
  std::string many;
  for (size_t i = 0; i <= max_composite_parts; ++i)
    many += (i ? ",q" : "q") + std::to_string(i);
  auto too_many = parse_composite_destination(many);
  REQUIRE_FALSE(too_many);
  CHECK(too_many.message().find("more than 64 parts") != std::string::npos);
  many = many.substr(0, many.rfind(','));
  CHECK(parse_composite_destination(many));
}
