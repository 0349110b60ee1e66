#include "protocol/destination_pattern.hpp"

#include "protocol/destination.hpp"
#include "protocol/uri.hpp"

#include <algorithm>

namespace actormq::protocol {

namespace {

constexpr std::string_view queue_scheme = "queue://";
constexpr char separator = '.';

std::vector<std::string> split_elements(const std::string& name) {
  std::vector<std::string> out;
  size_t start = 0;
  while (true) {
    auto dot = name.find(separator, start);
    if (dot == std::string::npos) {
      out.push_back(name.substr(start));
      return out;
    }
    out.push_back(name.substr(start, dot - start));
    start = dot + 1;
  }
}

bool is_wildcard_element(const std::string& e) {
  return e == "*" || e == ">";
}

} // namespace

result<destination_pattern> parse_destination_pattern(const std::string& text) {
  // The wildcards stand in for name characters, so parse_destination checks the rest.
  std::string plain = text;
  std::replace(plain.begin(), plain.end(), '*', 'x');
  std::replace(plain.begin(), plain.end(), '>', 'x');
  auto parsed = parse_destination(plain);
  if (!parsed)
    return parsed.error();
  if (parsed->kind != destination_kind::queue)
    return failure{make_error_code(uri_errc::malformed),
                   "destination pattern \"" + text + "\" is not a queue: network connectors " +
                       "forward queues only"};
  auto scheme_end = text.find("://");
  auto name = scheme_end == std::string::npos ? text : text.substr(scheme_end + 3);
  destination_pattern out;
  out.text = std::string(queue_scheme) + name;
  out.elements = split_elements(name);
  for (size_t i = 0; i < out.elements.size(); ++i) {
    auto& e = out.elements[i];
    bool has_wild = e.find_first_of("*>") != std::string::npos;
    if (has_wild && !is_wildcard_element(e))
      return failure{make_error_code(uri_errc::malformed),
                     "bad wildcard in destination pattern \"" + text + "\": '*' and '>' " +
                         "stand for whole elements between '.' (like orders.*.eu or orders.>)"};
    if (e == ">" && i + 1 != out.elements.size())
      return failure{make_error_code(uri_errc::malformed),
                     "bad wildcard in destination pattern \"" + text +
                         "\": '>' must be the last element"};
  }
  return out;
}

bool matches(const destination_pattern& pattern, const std::string& canonical_name) {
  if (canonical_name.compare(0, queue_scheme.size(), queue_scheme) != 0)
    return false;
  auto name = split_elements(canonical_name.substr(queue_scheme.size()));
  auto& p = pattern.elements;
  for (size_t i = 0; i < p.size(); ++i) {
    if (p[i] == ">")
      return name.size() > i; // one or more elements left
    if (i >= name.size())
      return false;
    if (p[i] != "*" && p[i] != name[i])
      return false;
  }
  return name.size() == p.size();
}

bool has_wildcard(const destination_pattern& pattern) {
  return std::any_of(pattern.elements.begin(), pattern.elements.end(), is_wildcard_element);
}

} // namespace actormq::protocol
