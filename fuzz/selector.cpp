// libFuzzer target: JMS selectors (selector.hpp). Input: the first byte picks the options and
// which sample message to evaluate on; the rest is the selector text. Must hold, besides no crash
// and no sanitizer report: a refusal names a column; a selector that parses evaluates the same
// twice; it and its negation never both select a message (UNKNOWN selects neither); "(s) OR TRUE"
// selects every message and "(s) AND FALSE" none.
#include "protocol/selector.hpp"
#include "fuzz/fuzz_check.hpp"

#include <cstdint>

namespace {

using namespace actormq::protocol;

envelope sample(int which) {
  envelope e;
  e.set_priority(which % 10);
  e.set_persistent(which % 2 == 0);
  e.set_timestamp_ms(1700000000000);
  e.set_type(which % 3 == 0 ? "" : "car");
  e.set_correlation_id("c-1");
  e.set_origin_store_id("s");
  e.set_origin_sequence(7);
  (*e.mutable_properties())["color"] = which % 2 ? "red" : "12";
  (*e.mutable_properties())["a"] = "a_%\\";
  (*e.mutable_typed_properties())["weight"].set_int_value(which * 1000 - 3);
  (*e.mutable_typed_properties())["big"].set_long_value(INT64_MIN + which);
  (*e.mutable_typed_properties())["f"].set_double_value(which == 3 ? 0.0 : 2.5);
  (*e.mutable_typed_properties())["flag"].set_bool_value(which % 2 == 1);
  return e;
}

bool selects(const std::string& text, const selector_options& o, const envelope& e) {
  auto s = selector::parse(text, o);
  FUZZ_CHECK(s);
  return (*s)->matches(e);
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0)
    return 0;
  selector_options options;
  options.convert_string_expressions = (data[0] & 1) != 0;
  auto message = sample((data[0] >> 1) % 8);
  const std::string text(reinterpret_cast<const char*>(data + 1), size - 1);
  auto parsed = selector::parse(text, options);
  if (!parsed) {
    FUZZ_CHECK(parsed.message().find("column ") != std::string::npos);
    return 0;
  }
  bool selected = (*parsed)->matches(message);
  FUZZ_CHECK(selected == (*parsed)->matches(message));
  // Wrapped, the text nests deeper: a text at the nesting limit does not parse wrapped. The
  // prefix form cannot be wrapped.
  if (text.rfind("convert_string_expressions:", 0) == 0)
    return 0;
  auto negated = selector::parse("NOT (" + text + ")", options);
  if (!negated)
    return 0;
  FUZZ_CHECK(!(selected && (*negated)->matches(message)));
  FUZZ_CHECK(selects("(" + text + ") OR TRUE", options, message));
  FUZZ_CHECK(!selects("(" + text + ") AND FALSE", options, message));
  return 0;
}
