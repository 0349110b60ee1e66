// JSON for the console through nlohmann::json: its answers are built as ordered_json (keys keep
// the order they are set in) and written by console_text; request bodies (the send action's)
// are read by parse_body.
#pragma once

#include <nlohmann/json.hpp>

#include <optional>
#include <string>
#include <string_view>

namespace actormq::actors::console_detail {

// An answer's JSON: objects keep their keys in insertion order.
using json = nlohmann::ordered_json;

// A number as the console writes it: an integral value (below 2^53) as an integer with every
// digit, another finite value rounded to 9 significant digits, anything else null.
json json_real(double d);

// The text of an answer. Besides what JSON requires, <, >, &, ' and DEL are escaped as \u00XX so
// nothing the console returns can be read as markup even by a careless viewer; invalid UTF-8
// becomes U+FFFD (one for each invalid sequence).
std::string console_text(const json& j);

// The value of a request body, or nullopt with `error` saying what is wrong. Containers nest at
// most 32 deep; a lone UTF-16 surrogate escape stands for U+FFFD, as it did before this parser.
std::optional<nlohmann::json> parse_body(std::string_view text, std::string& error);

} // namespace actormq::actors::console_detail
