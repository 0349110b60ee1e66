// Private to protocol/selector_*.cpp: a parsed selector's tree.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <variant>
#include <vector>

namespace actormq::protocol {

// A literal's value: strings, exact numbers (JMS long), approximate numbers (double), booleans.
using selector_literal = std::variant<std::string, int64_t, double, bool>;

enum class selector_op : uint8_t {
  literal,    // value
  identifier, // name: a header (JMSPriority ...) or a property
  negate,     // -a
  logical_not,
  logical_and,
  logical_or,
  equal,
  not_equal,
  less,
  less_equal,
  greater,
  greater_equal,
  add,
  subtract,
  multiply,
  divide,
  between,     // children: value, low, high
  in,          // children: value; strings: the list
  like,        // children: value; text: the pattern; escape
  is_null,     // children: value
  negated_test // NOT of the test below it (NOT BETWEEN, NOT IN, NOT LIKE, IS NOT NULL)
};

struct selector_node {
  selector_op op = selector_op::literal;
  selector_literal value;
  std::string text;                 // identifier name or LIKE pattern
  std::vector<std::string> strings; // IN list, sorted
  char32_t escape = 0;              // LIKE's escape character; 0: none
  std::vector<std::unique_ptr<selector_node>> children;
};

} // namespace actormq::protocol
