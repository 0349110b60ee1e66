// Destination patterns with ActiveMQ's wildcards, for network connectors' included and excluded
// destinations and for consumers (wildcard subscriptions): names are paths of elements separated
// by '.'; '*' stands for any one element, '>' (last only) for one or more trailing elements.
// "orders.>" matches queue://orders.eu and queue://orders.eu.north but not queue://orders.
// Plain C++ (no CAF).
#pragma once

#include "common/result.hpp"
#include "protocol/destination.hpp"

#include <string>
#include <vector>

namespace actormq::protocol {

struct destination_pattern {
  destination_kind kind = destination_kind::queue;
  std::string text;                  // canonical, with its scheme: "queue://orders.>"
  std::vector<std::string> elements; // the name after the scheme, split at '.'
};

// Parses "queue://a.*.>" or a bare "a.*.>". Errors (uri_errc): those of canonical_destination
// for the scheme, characters and length, and malformed for a '*' or '>' that is not a whole
// element, or a '>' that is not the last one.
result<destination_pattern> parse_destination_pattern(const std::string& text);

// A consumer's destination, with or without wildcards: a queue or topic pattern ("topic://a.>",
// a bare name is a queue), or any destination parse_destination takes without wildcards.
// Errors: those of parse_destination_pattern, and malformed for a wildcard in a temporary
// destination.
result<destination_pattern> parse_subscription_pattern(const std::string& text);

// The destinations a consumer on `text` reads from: every part of a composite destination
// (destination.hpp) parsed by parse_subscription_pattern, in order, without repeats. Errors:
// those of split_composite and of parse_subscription_pattern for a part (naming it).
result<std::vector<destination_pattern>> parse_subscription_patterns(const std::string& text);

// The patterns' texts joined by ',': the canonical form of a consumer's destination.
std::string composite_text(const std::vector<destination_pattern>& parts);

// Whether a canonical destination name ("queue://orders.eu") matches the pattern (of the same
// kind).
bool matches(const destination_pattern& pattern, const std::string& canonical_name);

// Whether the pattern has a wildcard (else it names one destination: its text).
bool has_wildcard(const destination_pattern& pattern);

} // namespace actormq::protocol
