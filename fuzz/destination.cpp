// libFuzzer target: destination names (destination.hpp), their STOMP form (stomp_codec.hpp) and
// destination patterns (destination_pattern.hpp). Input: the text. Must hold, besides no crash
// and no sanitizer report:
// - a destination that parses prints (uri()) as its canonical form, which parses to the same
//   destination;
// - a STOMP destination that maps to a URI maps back to the same text;
// - a pattern that parses prints (its text) as a pattern that parses to the same, and a pattern
//   without wildcards matches the destination it names;
// - a composite destination (and a consumer's list of patterns) that parses prints as its
//   canonical form, which parses to the same parts; a text without ',' parses as a composite
//   exactly when it parses as a destination.
#include "protocol/destination.hpp"
#include "fuzz/fuzz_check.hpp"
#include "protocol/destination_pattern.hpp"
#include "protocol/stomp_codec.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace actormq::protocol;
  const std::string text(reinterpret_cast<const char*>(data), size);

  auto d = parse_destination(text);
  auto canonical = canonical_destination(text);
  FUZZ_CHECK(bool(d) == bool(canonical));
  if (d) {
    FUZZ_CHECK(*canonical == d->uri());
    auto again = parse_destination(d->uri());
    FUZZ_CHECK(again && *again == *d);
    FUZZ_CHECK(d->name.size() <= max_destination_name_bytes);
  }

  if (auto uri = destination_of_stomp(text)) {
    FUZZ_CHECK(parse_destination(*uri));
    FUZZ_CHECK(stomp_destination_of(*uri) == text);
  }

  if (auto p = parse_destination_pattern(text)) {
    auto again = parse_destination_pattern(p->text);
    FUZZ_CHECK(again && again->text == p->text && again->elements == p->elements);
    if (!has_wildcard(*p))
      FUZZ_CHECK(matches(*p, p->text));
    if (d)
      (void)matches(*p, d->uri());
  }
  if (auto parts = parse_composite_destination(text)) {
    FUZZ_CHECK(!parts->empty() && parts->size() <= max_composite_parts);
    auto again = parse_composite_destination(composite_destination_uri(*parts));
    FUZZ_CHECK(again && *again == *parts);
    if (!is_composite(text))
      FUZZ_CHECK(d && parts->front() == *d);
  } else if (!is_composite(text)) {
    FUZZ_CHECK(!d);
  }

  if (auto patterns = parse_subscription_patterns(text)) {
    auto again = parse_subscription_patterns(composite_text(*patterns));
    FUZZ_CHECK(again && again->size() == patterns->size());
    for (size_t i = 0; again && i < again->size(); ++i)
      FUZZ_CHECK((*again)[i].text == (*patterns)[i].text);
  }
  return 0;
}
