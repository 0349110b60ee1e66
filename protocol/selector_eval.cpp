// Evaluating a parsed selector against an envelope, with SQL's three-valued logic: a missing
// header or property is NULL, and NULL in a comparison or arithmetic makes the result UNKNOWN.
#include "protocol/selector.hpp"
#include "protocol/selector_node.hpp"

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <string>
#include <variant>

namespace actormq::protocol {

namespace {

// NULL (monostate) is also UNKNOWN in a condition. Strings point into the envelope or the tree.
using value = std::variant<std::monostate, bool, int64_t, double, std::string_view>;

bool is_null(const value& v) {
  return std::holds_alternative<std::monostate>(v);
}
bool is_number(const value& v) {
  return std::holds_alternative<int64_t>(v) || std::holds_alternative<double>(v);
}
double as_double(const value& v) {
  return std::holds_alternative<int64_t>(v) ? static_cast<double>(std::get<int64_t>(v))
                                            : std::get<double>(v);
}

value typed_value(const store::PropertyValue& p) {
  switch (p.value_case()) {
  case store::PropertyValue::kBoolValue:
    return p.bool_value();
  case store::PropertyValue::kByteValue:
    return int64_t{p.byte_value()};
  case store::PropertyValue::kShortValue:
    return int64_t{p.short_value()};
  case store::PropertyValue::kIntValue:
    return int64_t{p.int_value()};
  case store::PropertyValue::kLongValue:
    return int64_t{p.long_value()};
  case store::PropertyValue::kFloatValue:
    return double{p.float_value()};
  case store::PropertyValue::kDoubleValue:
    return p.double_value();
  case store::PropertyValue::VALUE_NOT_SET:
    break;
  }
  return {};
}

// A string read as a number (or boolean), for convert_string_expressions; NULL if it is none.
value converted(std::string_view s, bool want_bool) {
  if (want_bool) {
    std::string lower(s);
    std::transform(lower.begin(), lower.end(), lower.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    if (lower == "true")
      return true;
    if (lower == "false")
      return false;
    return {};
  }
  std::string text(s);
  if (text.empty() || std::isspace(static_cast<unsigned char>(text.front())))
    return {};
  char* end = nullptr;
  errno = 0;
  auto n = std::strtoll(text.c_str(), &end, 10);
  if (errno == 0 && end == text.c_str() + text.size())
    return int64_t{n};
  auto d = std::strtod(text.c_str(), &end);
  if (end == text.c_str() + text.size())
    return d;
  return {};
}

class evaluator {
public:
  evaluator(const envelope& m, const selector_options& options) : m_(m), options_(options) {}

  value eval(const selector_node& n) {
    switch (n.op) {
    case selector_op::literal:
      return std::visit(
          [](auto& v) -> value {
            if constexpr (std::is_same_v<std::decay_t<decltype(v)>, std::string>)
              return std::string_view(v);
            else
              return v;
          },
          n.value);
    case selector_op::identifier:
      return lookup(n.text);
    case selector_op::negate: {
      auto v = eval(*n.children[0]);
      if (std::holds_alternative<int64_t>(v))
        return static_cast<int64_t>(0 - static_cast<uint64_t>(std::get<int64_t>(v)));
      if (std::holds_alternative<double>(v))
        return -std::get<double>(v);
      return {};
    }
    case selector_op::logical_not: {
      auto v = eval(*n.children[0]);
      if (!std::holds_alternative<bool>(v))
        return {};
      return !std::get<bool>(v);
    }
    case selector_op::logical_and: {
      bool unknown = false;
      for (auto& c : n.children) {
        auto v = eval(*c);
        if (std::holds_alternative<bool>(v)) {
          if (!std::get<bool>(v))
            return false;
        } else {
          unknown = true;
        }
      }
      return unknown ? value{} : value{true};
    }
    case selector_op::logical_or: {
      bool unknown = false;
      for (auto& c : n.children) {
        auto v = eval(*c);
        if (std::holds_alternative<bool>(v)) {
          if (std::get<bool>(v))
            return true;
        } else {
          unknown = true;
        }
      }
      return unknown ? value{} : value{false};
    }
    case selector_op::equal:
    case selector_op::not_equal:
    case selector_op::less:
    case selector_op::less_equal:
    case selector_op::greater:
    case selector_op::greater_equal:
      return compare(n.op, eval(*n.children[0]), eval(*n.children[1]));
    case selector_op::add:
    case selector_op::subtract:
    case selector_op::multiply:
    case selector_op::divide:
      return arithmetic(n.op, eval(*n.children[0]), eval(*n.children[1]));
    case selector_op::between: {
      auto v = eval(*n.children[0]);
      auto low = compare(selector_op::greater_equal, v, eval(*n.children[1]));
      auto high = compare(selector_op::less_equal, v, eval(*n.children[2]));
      if (low == value{false} || high == value{false})
        return false;
      if (is_null(low) || is_null(high))
        return {};
      return true;
    }
    case selector_op::in: {
      auto v = eval(*n.children[0]);
      if (is_null(v))
        return {};
      if (!std::holds_alternative<std::string_view>(v))
        return false;
      auto s = std::get<std::string_view>(v);
      return std::binary_search(n.strings.begin(), n.strings.end(), s,
                                [](auto& a, auto& b) { return std::string_view(a) < b; });
    }
    case selector_op::like: {
      auto v = eval(*n.children[0]);
      if (is_null(v))
        return {};
      if (!std::holds_alternative<std::string_view>(v))
        return false;
      return selector_like(std::get<std::string_view>(v), n.text, n.escape);
    }
    case selector_op::is_null:
      return is_null(eval(*n.children[0]));
    case selector_op::negated_test: {
      auto v = eval(*n.children[0]);
      if (!std::holds_alternative<bool>(v))
        return {};
      return !std::get<bool>(v);
    }
    }
    return {};
  }

private:
  value lookup(const std::string& name) {
    if (name.size() > 3 && name.compare(0, 3, "JMS") == 0) {
      if (name == "JMSPriority")
        return int64_t{m_.priority()};
      if (name == "JMSTimestamp")
        return int64_t{m_.timestamp_ms()};
      if (name == "JMSExpiration")
        return int64_t{m_.expiration_ms()};
      if (name == "JMSDeliveryMode")
        return std::string_view(m_.persistent() ? "PERSISTENT" : "NON_PERSISTENT");
      if (name == "JMSType")
        return m_.type().empty() ? value{} : value{std::string_view(m_.type())};
      if (name == "JMSCorrelationID")
        return m_.correlation_id().empty() ? value{} : value{std::string_view(m_.correlation_id())};
      if (name == "JMSMessageID") {
        if (!m_.message_id().empty())
          return std::string_view(m_.message_id());
        if (m_.origin_store_id().empty())
          return {};
        message_id_ = "ID:" + m_.origin_store_id() + ":" + std::to_string(m_.origin_sequence());
        return std::string_view(message_id_);
      }
    }
    auto s = m_.properties().find(name);
    if (s != m_.properties().end())
      return std::string_view(s->second);
    auto t = m_.typed_properties().find(name);
    if (t != m_.typed_properties().end())
      return typed_value(t->second);
    return {};
  }

  // Brings a string to the other operand's type when convert_string_expressions is on.
  void convert(value& a, const value& other) {
    if (!options_.convert_string_expressions || !std::holds_alternative<std::string_view>(a))
      return;
    if (is_number(other) || std::holds_alternative<bool>(other)) {
      auto c = converted(std::get<std::string_view>(a), std::holds_alternative<bool>(other));
      if (!is_null(c))
        a = c;
    }
  }

  value compare(selector_op op, value a, value b) {
    if (is_null(a) || is_null(b))
      return {};
    convert(a, b);
    convert(b, a);
    int order = 0;
    if (std::holds_alternative<int64_t>(a) && std::holds_alternative<int64_t>(b)) {
      auto x = std::get<int64_t>(a), y = std::get<int64_t>(b);
      order = x < y ? -1 : x > y ? 1 : 0;
    } else if (is_number(a) && is_number(b)) {
      auto x = as_double(a), y = as_double(b);
      if (std::isnan(x) || std::isnan(y))
        return op == selector_op::not_equal;
      order = x < y ? -1 : x > y ? 1 : 0;
    } else if (std::holds_alternative<std::string_view>(a) &&
               std::holds_alternative<std::string_view>(b)) {
      auto c = std::get<std::string_view>(a).compare(std::get<std::string_view>(b));
      order = c < 0 ? -1 : c > 0 ? 1 : 0;
    } else if (std::holds_alternative<bool>(a) && std::holds_alternative<bool>(b)) {
      if (op != selector_op::equal && op != selector_op::not_equal)
        return false;
      order = std::get<bool>(a) == std::get<bool>(b) ? 0 : 1;
    } else {
      // Values of different types are not equal, nor ordered (JMS 1.1, 3.8.1.2).
      return op == selector_op::not_equal;
    }
    switch (op) {
    case selector_op::equal:
      return order == 0;
    case selector_op::not_equal:
      return order != 0;
    case selector_op::less:
      return order < 0;
    case selector_op::less_equal:
      return order <= 0;
    case selector_op::greater:
      return order > 0;
    case selector_op::greater_equal:
      return order >= 0;
    default:
      return {};
    }
  }

  value arithmetic(selector_op op, value a, value b) {
    convert(a, b);
    convert(b, a);
    if (!is_number(a) || !is_number(b))
      return {};
    if (std::holds_alternative<int64_t>(a) && std::holds_alternative<int64_t>(b)) {
      // Java's long arithmetic: wraps around on overflow.
      auto x = static_cast<uint64_t>(std::get<int64_t>(a));
      auto y = static_cast<uint64_t>(std::get<int64_t>(b));
      switch (op) {
      case selector_op::add:
        return static_cast<int64_t>(x + y);
      case selector_op::subtract:
        return static_cast<int64_t>(x - y);
      case selector_op::multiply:
        return static_cast<int64_t>(x * y);
      default: {
        auto sx = std::get<int64_t>(a), sy = std::get<int64_t>(b);
        if (sy == 0)
          return {};
        if (sy == -1)
          return static_cast<int64_t>(0 - x);
        return sx / sy;
      }
      }
    }
    auto x = as_double(a), y = as_double(b);
    switch (op) {
    case selector_op::add:
      return x + y;
    case selector_op::subtract:
      return x - y;
    case selector_op::multiply:
      return x * y;
    default:
      return x / y;
    }
  }

  const envelope& m_;
  const selector_options& options_;
  std::string message_id_;
};

// UTF-8 text as code points; a byte that starts no valid sequence stands for itself.
std::u32string code_points(std::string_view s) {
  std::u32string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size();) {
    auto b = static_cast<unsigned char>(s[i]);
    size_t n = b < 0x80 ? 1 : (b >> 5) == 6 ? 2 : (b >> 4) == 14 ? 3 : (b >> 3) == 30 ? 4 : 0;
    if (n <= 1 || i + n > s.size()) {
      out.push_back(b);
      ++i;
      continue;
    }
    char32_t c = n == 2 ? (b & 0x1f) : n == 3 ? (b & 0x0f) : (b & 0x07);
    for (size_t k = 1; k < n; ++k)
      c = (c << 6) | (static_cast<unsigned char>(s[i + k]) & 0x3f);
    out.push_back(c);
    i += n;
  }
  return out;
}

} // namespace

bool selector_like(std::string_view text_bytes, std::string_view pattern_bytes, char32_t escape) {
  auto text = code_points(text_bytes);
  auto raw = code_points(pattern_bytes);
  // The pattern as tokens: a literal character, or a wildcard ('%' any run, '_' any one).
  struct token {
    char32_t c;
    bool wildcard;
  };
  std::vector<token> pattern;
  for (size_t i = 0; i < raw.size(); ++i) {
    if (escape != 0 && raw[i] == escape && i + 1 < raw.size()) {
      pattern.push_back({raw[++i], false});
      continue;
    }
    pattern.push_back({raw[i], raw[i] == U'%' || raw[i] == U'_'});
  }
  // Greedy matching with backtracking to the last '%': O(text * pattern) at worst.
  size_t t = 0, p = 0, star_p = std::u32string::npos, star_t = 0;
  while (t < text.size()) {
    if (p < pattern.size() && pattern[p].wildcard && pattern[p].c == U'%') {
      star_p = p++;
      star_t = t;
    } else if (p < pattern.size() && ((pattern[p].wildcard && pattern[p].c == U'_') ||
                                      (!pattern[p].wildcard && pattern[p].c == text[t]))) {
      ++p;
      ++t;
    } else if (star_p != std::u32string::npos) {
      p = star_p + 1;
      t = ++star_t;
    } else {
      return false;
    }
  }
  while (p < pattern.size() && pattern[p].wildcard && pattern[p].c == U'%')
    ++p;
  return p == pattern.size();
}

bool selector::matches(const envelope& message) const {
  evaluator e(message, options_);
  auto v = e.eval(*root_);
  return std::holds_alternative<bool>(v) && std::get<bool>(v);
}

} // namespace actormq::protocol
