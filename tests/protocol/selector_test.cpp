#include "protocol/selector.hpp"

#include <catch2/catch.hpp>

using namespace actormq::protocol;

namespace {

envelope sample() {
  envelope e;
  e.set_priority(7);
  e.set_persistent(true);
  e.set_timestamp_ms(1000);
  e.set_type("car");
  e.set_correlation_id("order-17");
  e.set_origin_store_id("store");
  e.set_origin_sequence(42);
  (*e.mutable_properties())["color"] = "red";
  (*e.mutable_properties())["size"] = "12";
  (*e.mutable_properties())["path"] = "a_b%c";
  (*e.mutable_typed_properties())["weight"].set_int_value(2500);
  (*e.mutable_typed_properties())["price"].set_double_value(9.5);
  (*e.mutable_typed_properties())["big"].set_long_value(5000000000LL);
  (*e.mutable_typed_properties())["rush"].set_bool_value(true);
  return e;
}

bool match(const std::string& text, const envelope& e = sample(), selector_options o = {}) {
  auto s = selector::parse(text, o);
  INFO(text << ": " << s.message());
  REQUIRE(s.ok());
  return (*s)->matches(e);
}

std::string refusal(const std::string& text) {
  auto s = selector::parse(text);
  REQUIRE_FALSE(s.ok());
  return s.message();
}

} // namespace

TEST_CASE("selector comparisons on properties and headers") {
  CHECK(match("color = 'red'"));
  CHECK_FALSE(match("color = 'blue'"));
  CHECK(match("color <> 'blue'"));
  CHECK(match("weight > 10"));
  CHECK(match("weight >= 2500 AND weight <= 2500"));
  CHECK_FALSE(match("weight < 2500"));
  CHECK(match("price > 9.4 AND price < 9.6"));
  CHECK(match("big = 5000000000"));
  CHECK(match("rush = TRUE"));
  CHECK(match("rush"));
  CHECK(match("JMSPriority = 7"));
  CHECK(match("JMSPriority > 4"));
  CHECK(match("JMSType = 'car' AND color = 'red' AND weight > 2000"));
  CHECK(match("JMSCorrelationID = 'order-17'"));
  CHECK(match("JMSTimestamp = 1000"));
  CHECK(match("JMSDeliveryMode = 'PERSISTENT'"));
  CHECK(match("JMSMessageID = 'ID:store:42'"));
  CHECK(match("color = 'red' AND weight > 10"));
  CHECK(match("color='red'AND(weight>10)"));
}

TEST_CASE("selector keywords are case-insensitive, identifiers are not") {
  CHECK(match("color = 'red' and weight between 1 and 3000"));
  CHECK_FALSE(match("COLOR = 'red'"));
  CHECK(match("COLOR IS NULL"));
}

TEST_CASE("selector arithmetic") {
  CHECK(match("weight * 2 = 5000"));
  CHECK(match("weight / 1000 = 2"));     // integer division
  CHECK(match("weight / 1000.0 = 2.5")); // approximate
  CHECK(match("weight + 0.5 > 2500"));
  CHECK(match("-weight = -2500"));
  CHECK(match("- - weight = 2500"));
  CHECK(match("1 + 2 * 3 = 7"));
  CHECK(match("(1 + 2) * 3 = 9"));
  CHECK(match("10 - 2 - 3 = 5")); // left to right
  CHECK(match("0x1F = 31 AND 017 = 15 AND 10L = 10 AND 1.5e1 = 15 AND .5 = 0.5"));
  CHECK_FALSE(match("weight / 0 = 1"));
  CHECK(match("(weight / 0 = 1) IS NULL"));
}

TEST_CASE("selector BETWEEN, IN, LIKE, IS NULL") {
  CHECK(match("weight BETWEEN 2000 AND 3000"));
  CHECK_FALSE(match("weight NOT BETWEEN 2000 AND 3000"));
  CHECK(match("weight NOT BETWEEN 1 AND 2"));
  CHECK(match("color IN ('blue', 'red')"));
  CHECK_FALSE(match("color NOT IN ('blue', 'red')"));
  CHECK(match("color NOT IN ('blue', 'green')"));
  CHECK(match("color LIKE 'r%'"));
  CHECK(match("color LIKE '_e_'"));
  CHECK_FALSE(match("color LIKE 'r_'"));
  CHECK(match("color NOT LIKE 'b%'"));
  CHECK(match("path LIKE 'a\\_b\\%c' ESCAPE '\\'"));
  CHECK_FALSE(match("path LIKE 'a\\_bx%' ESCAPE '\\'"));
  CHECK(match("path LIKE 'a!_b%' ESCAPE '!'"));
  CHECK(match("missing IS NULL"));
  CHECK(match("color IS NOT NULL"));
  CHECK_FALSE(match("color IS NULL"));
  CHECK(match("'it''s' = 'it''s'"));
}

TEST_CASE("selector LIKE on UTF-8 text and backtracking") {
  CHECK(selector_like("grün", "gr_n", 0));
  CHECK(selector_like("abcabcabd", "%abd", 0));
  CHECK(selector_like("", "%", 0));
  CHECK_FALSE(selector_like("", "_", 0));
  CHECK(selector_like("a%b", "a!%b", U'!'));
  CHECK_FALSE(selector_like("axb", "a!%b", U'!'));
}

TEST_CASE("selector three-valued logic") {
  // missing > 1 is UNKNOWN: neither it nor its negation selects.
  CHECK_FALSE(match("missing > 1"));
  CHECK_FALSE(match("NOT (missing > 1)"));
  CHECK_FALSE(match("missing > 1 AND color = 'red'"));  // UNKNOWN AND TRUE = UNKNOWN
  CHECK_FALSE(match("missing > 1 AND color = 'blue'")); // UNKNOWN AND FALSE = FALSE
  CHECK(match("NOT (missing > 1 AND color = 'blue')")); // NOT FALSE
  CHECK(match("missing > 1 OR color = 'red'"));         // UNKNOWN OR TRUE = TRUE
  CHECK_FALSE(match("missing > 1 OR color = 'blue'"));  // UNKNOWN OR FALSE = UNKNOWN
  CHECK_FALSE(match("NOT (missing > 1 OR color = 'blue')"));
  CHECK_FALSE(match("missing IN ('a')"));
  CHECK_FALSE(match("missing NOT IN ('a')"));
  CHECK_FALSE(match("missing LIKE '%'"));
  CHECK_FALSE(match("missing NOT LIKE '%'"));
  CHECK_FALSE(match("missing BETWEEN 1 AND 2"));
  CHECK_FALSE(match("missing NOT BETWEEN 1 AND 2"));
  CHECK_FALSE(match("JMSType = 'car' AND JMSCorrelationID IS NULL"));
}

TEST_CASE("selector types: a string is not a number unless converted") {
  CHECK_FALSE(match("size > 10")); // "12" is a string
  CHECK_FALSE(match("size = 12"));
  CHECK(match("size <> 12"));
  CHECK(match("size = '12'"));
  selector_options convert;
  convert.convert_string_expressions = true;
  CHECK(match("size > 10", sample(), convert));
  CHECK(match("size = 12", sample(), convert));
  CHECK(match("convert_string_expressions:size > 10"));
  CHECK_FALSE(match("color > 10", sample(), convert)); // "red" is not a number
}

TEST_CASE("selector headers that are absent") {
  envelope e;
  e.set_persistent(false);
  CHECK(match("JMSType IS NULL", e));
  CHECK(match("JMSCorrelationID IS NULL", e));
  CHECK(match("JMSDeliveryMode = 'NON_PERSISTENT'", e));
  CHECK(match("JMSPriority = 0", e));
  e.set_message_id("ID:mine");
  CHECK(match("JMSMessageID = 'ID:mine'", e));
}

TEST_CASE("a selector that does not parse names the column and what was expected") {
  auto m = refusal("color = ");
  CHECK(m.find("column 9") != std::string::npos);
  CHECK(m.find("expected") != std::string::npos);
  CHECK(m.find("a string literal") != std::string::npos);
  m = refusal("color = 'red' AND");
  CHECK(m.find("column 18") != std::string::npos);
  m = refusal("color == 'red'");
  CHECK(m.find("column 8") != std::string::npos);
  CHECK(m.find("found '='") != std::string::npos);
  m = refusal("color = 'red' weight > 1");
  CHECK(m.find("column 15") != std::string::npos);
  CHECK(m.find("AND") != std::string::npos);
  CHECK(m.find("the end of the selector") != std::string::npos);
  m = refusal("color IN ()");
  CHECK(m.find("column 11") != std::string::npos);
  CHECK(m.find("a string literal") != std::string::npos);
  m = refusal("color = 'red");
  CHECK(m.find("column") != std::string::npos);
  m = refusal("");
  CHECK(m.find("column 1") != std::string::npos);
  m = refusal("a LIKE 'x' ESCAPE 'ab'");
  CHECK(m.find("one character after ESCAPE") != std::string::npos);
  m = refusal("a = 99999999999999999999");
  CHECK(m.find("out of range") != std::string::npos);
  m = refusal("AND = 1");
  CHECK(m.find("column 1") != std::string::npos);
}

TEST_CASE("a selector nested too deeply is refused, not a stack overflow") {
  std::string deep(5000, '(');
  auto m = refusal(deep + "a = 1" + std::string(5000, ')'));
  CHECK(m.find("nested more than") != std::string::npos);
  std::string minus(5000, '-');
  CHECK(refusal("a = " + minus + "1").find("nested more than") != std::string::npos);
  std::string nots;
  for (int i = 0; i < 500; ++i)
    nots += "NOT ";
  CHECK(refusal(nots + "a").find("nested more than") != std::string::npos);
  std::string fine(50, '(');
  CHECK(match(fine + "color = 'red'" + std::string(50, ')')));
}

TEST_CASE("a long flat selector parses") {
  std::string text = "color = 'x0'";
  for (int i = 1; i < 2000; ++i)
    text += " OR color = 'x" + std::to_string(i) + "'";
  text += " OR color = 'red'";
  CHECK(match(text));
}
