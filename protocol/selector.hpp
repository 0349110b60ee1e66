// JMS message selectors: the SQL-92 subset of JMS 1.1 (section 3.8) over a message's headers and
// properties, parsed with PEGTL and evaluated with SQL's three-valued logic. docs/selectors.md
// describes the language. Plain C++ (no CAF).
#pragma once

#include "common/result.hpp"
#include "protocol/envelope.hpp"

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

namespace actormq::protocol {

// The longest selector a node takes, and how deeply its parentheses and prefix operators may
// nest (the parser recurses on them).
constexpr size_t max_selector_bytes = 64 * 1024;
constexpr size_t max_selector_nesting = 100;

struct selector_options {
  // A string compared with a number (or a boolean) is read as one when it parses as one
  // (ActiveMQ's convert_string_expressions, on for STOMP subscriptions, whose properties are all
  // strings). Off, such a comparison is false, as JMS says.
  bool convert_string_expressions = false;
};

struct selector_node;

class selector {
public:
  // Parses `text`. A selector that does not parse is refused with the column (1-based) where
  // parsing stopped and what was expected there. A text that starts with
  // "convert_string_expressions:" (ActiveMQ's prefix) turns that option on.
  static result<std::shared_ptr<const selector>> parse(std::string_view text,
                                                       selector_options options = {});

  // True if the selector's condition is TRUE for the message (FALSE and UNKNOWN select nothing).
  bool matches(const envelope& message) const;

  const std::string& text() const noexcept { return text_; }

  selector(std::string text, selector_options options, std::unique_ptr<selector_node> root);
  ~selector();
  selector(const selector&) = delete;
  selector& operator=(const selector&) = delete;

private:
  std::string text_;
  selector_options options_;
  std::unique_ptr<selector_node> root_;
};

// True if `text` matches the LIKE `pattern` ('%' any run, '_' any one character; `escape`, if
// not 0, makes the next character literal). Characters are UTF-8 code points.
bool selector_like(std::string_view text, std::string_view pattern, char32_t escape);

} // namespace actormq::protocol
