// The filter of durable subscriptions with a selector (actors/durable_filter.hpp).
#include "actors/durable_filter.hpp"

#include <catch2/catch.hpp>

using namespace actormq::actors;

namespace {

std::string colored(const std::string& color) {
  actormq::protocol::envelope e;
  (*e.mutable_properties())["color"] = color;
  std::string bytes;
  actormq::protocol::encode_envelope(e, bytes);
  return bytes;
}

} // namespace

TEST_CASE("a durable subscription's selector filters its messages", "[durable]") {
  std::string why;
  auto red = subscription_selector({"app1", "s1", "topic://t", "color = 'red'"}, why);
  REQUIRE(red);
  CHECK(why.empty());
  auto red_bytes = colored("red");
  auto blue_bytes = colored("blue");
  std::string garbage = "not an envelope";
  lazy_envelope red_message(red_bytes), blue_message(blue_bytes), unreadable(garbage);
  CHECK(selects(red, red_message));
  CHECK_FALSE(selects(red, blue_message));
  CHECK_FALSE(selects(red, unreadable));
  // No selector: everything, readable or not.
  CHECK(selects(nullptr, unreadable));
  CHECK_FALSE(subscription_selector({"app1", "s1", "topic://t", ""}, why));
  CHECK(why.empty());
}

TEST_CASE("a stored selector that does not parse takes everything, and says so", "[durable]") {
  std::string why;
  CHECK_FALSE(subscription_selector({"app1", "s1", "topic://t", "color = "}, why));
  CHECK(why.find("does not parse") != std::string::npos);
}

TEST_CASE("a stored selector keeps ActiveMQ's option prefix", "[durable]") {
  std::string why;
  auto s = subscription_selector(
      {"app1", "s1", "topic://t", "convert_string_expressions:weight > 10"}, why);
  REQUIRE(s);
  actormq::protocol::envelope e;
  (*e.mutable_properties())["weight"] = "12";
  std::string bytes;
  actormq::protocol::encode_envelope(e, bytes);
  lazy_envelope m(bytes);
  CHECK(selects(s, m));
}
