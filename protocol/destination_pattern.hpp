// Destination patterns with ActiveMQ's wildcards, for network connectors' included and excluded
// destinations: names are paths of elements separated by '.'; '*' stands for any one element,
// '>' (last only) for one or more trailing elements. "orders.>" matches queue://orders.eu and
// queue://orders.eu.north but not queue://orders. Plain C++ (no CAF).
#pragma once

#include "common/result.hpp"

#include <string>
#include <vector>

namespace actormq::protocol {

struct destination_pattern {
  std::string text;                  // canonical, with its scheme: "queue://orders.>"
  std::vector<std::string> elements; // the name after the scheme, split at '.'
};

// Parses "queue://a.*.>" or a bare "a.*.>". Errors (uri_errc): those of canonical_destination
// for the scheme, characters and length, and malformed for a '*' or '>' that is not a whole
// element, or a '>' that is not the last one.
result<destination_pattern> parse_destination_pattern(const std::string& text);

// Whether a canonical destination name ("queue://orders.eu") matches the pattern.
bool matches(const destination_pattern& pattern, const std::string& canonical_name);

// Whether the pattern has a wildcard (else it names one destination: its text).
bool has_wildcard(const destination_pattern& pattern);

} // namespace actormq::protocol
