// Destinations: a kind (queue, topic, temporary queue, temporary topic) and a name, written as a
// URI in ActiveMQ's style: "queue://orders", "topic://prices", "temp-queue://x", "temp-topic://x";
// a bare "orders" is a queue. The store, the broker's registry, stats, the console and the debug
// tool name a destination by its URI, so the kind is never lost. Plain C++ (no CAF).
#pragma once

#include "common/result.hpp"

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <tuple>
#include <vector>

namespace actormq::protocol {

enum class destination_kind : uint8_t { queue = 0, topic = 1, temp_queue = 2, temp_topic = 3 };

// "queue", "topic", "temp-queue", "temp-topic".
const char* scheme_of(destination_kind kind);
std::string to_string(destination_kind kind);

struct destination {
  destination_kind kind = destination_kind::queue;
  std::string name; // without the scheme

  // "queue://orders"
  std::string uri() const { return std::string(scheme_of(kind)) + "://" + name; }

  friend bool operator==(const destination& a, const destination& b) {
    return a.kind == b.kind && a.name == b.name;
  }
  friend bool operator!=(const destination& a, const destination& b) { return !(a == b); }
  friend bool operator<(const destination& a, const destination& b) {
    return std::tie(a.kind, a.name) < std::tie(b.kind, b.name);
  }
};

// The longest destination name, in bytes, without its scheme. The store keys a destination by its
// URI and LMDB keys hold at most 511 bytes; 255 leaves room for the longest scheme and for keys
// that join a name to other fields.
inline constexpr size_t max_destination_name_bytes = 255;

// Parses a destination URI or a bare name (a queue). Schemes are case-insensitive. Errors
// (uri_errc, uri.hpp): malformed (empty name, unknown scheme, a wildcard '*' or '>', named as
// such, other characters outside [A-Za-z0-9._-:/]), too_long (a name over
// max_destination_name_bytes).
result<destination> parse_destination(std::string_view text);

// parse_destination(text)->uri(): the canonical URI of any kind. Errors as parse_destination.
result<std::string> canonical_destination(const std::string& text);

// Composite destinations (ActiveMQ's): parts separated by ',', as in
// "queue://a,queue://b,topic://c". A part without a scheme has the kind of the first part
// ("queue://a,b" is queues a and b; a bare first part is a queue).
inline constexpr size_t max_composite_parts = 64;

// True if the text names several destinations (has a ',').
bool is_composite(std::string_view text);

// The parts of a composite destination as texts, each with its scheme, in order, without
// checking the names. A text without ',' is one part. Errors: malformed for an empty part, an
// empty text, or more than max_composite_parts parts.
result<std::vector<std::string>> split_composite(std::string_view text);

// The destinations a send to `text` goes to: every part parsed by parse_destination (so no
// wildcards), in order, without repeats. Errors: those of split_composite and of
// parse_destination for a part (the message names the part).
result<std::vector<destination>> parse_composite_destination(std::string_view text);

// The parts' URIs joined by ',': the canonical form of a composite destination.
std::string composite_destination_uri(const std::vector<destination>& parts);

} // namespace actormq::protocol
