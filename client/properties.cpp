// Typed message properties: the CLI's `name=value` form and JMS's text of a typed value.
#include "client/error.hpp"
#include "client/message.hpp"

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <limits>

namespace actormq::client {

namespace {

bool is_integer(std::string_view s) {
  size_t i = (!s.empty() && (s[0] == '-' || s[0] == '+')) ? 1 : 0;
  if (i == s.size())
    return false;
  for (; i < s.size(); ++i)
    if (s[i] < '0' || s[i] > '9')
      return false;
  return true;
}

} // namespace

result<parsed_property> parse_property(std::string_view text) {
  auto eq = text.find('=');
  if (eq == std::string_view::npos || eq == 0)
    return failure{make_error_code(client_errc::bad_argument),
                   "property '" + std::string(text) + "' is not name=value"};
  parsed_property out;
  out.name = std::string(text.substr(0, eq));
  std::string value(text.substr(eq + 1));
  if (value.size() >= 2 && (value.front() == '\'' || value.front() == '"') &&
      value.back() == value.front()) {
    out.value = value.substr(1, value.size() - 2);
    return out;
  }
  if (value == "true" || value == "false") {
    out.value = property_value{value == "true"};
    return out;
  }
  if (is_integer(value)) {
    errno = 0;
    auto n = std::strtoll(value.c_str(), nullptr, 10);
    if (errno == 0) {
      if (n >= std::numeric_limits<int32_t>::min() && n <= std::numeric_limits<int32_t>::max())
        out.value = property_value{static_cast<int32_t>(n)};
      else
        out.value = property_value{static_cast<int64_t>(n)};
      return out;
    }
  } else if (!value.empty() && value.find_first_of(".eE") != std::string::npos &&
             value.find_first_not_of("0123456789+-.eE") == std::string::npos) {
    char* end = nullptr;
    auto d = std::strtod(value.c_str(), &end);
    if (end == value.c_str() + value.size()) {
      out.value = property_value{d};
      return out;
    }
  }
  out.value = std::move(value);
  return out;
}

std::string property_text(const property_value& v) {
  if (auto* b = std::get_if<bool>(&v))
    return *b ? "true" : "false";
  if (auto* i = std::get_if<int32_t>(&v))
    return std::to_string(*i);
  if (auto* l = std::get_if<int64_t>(&v))
    return std::to_string(*l);
  char buf[40];
  std::snprintf(buf, sizeof buf, "%.17g", std::get<double>(v));
  return buf;
}

} // namespace actormq::client
