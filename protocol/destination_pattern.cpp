#include "protocol/destination_pattern.hpp"

#include "protocol/destination.hpp"
#include "protocol/quoted.hpp"
#include "protocol/uri.hpp"

#include <algorithm>

namespace actormq::protocol {

namespace {

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

std::string scheme_prefix(destination_kind kind) {
  return std::string(scheme_of(kind)) + "://";
}

// Any kind; the callers decide which kinds may have wildcards.
result<destination_pattern> parse_any_pattern(const std::string& text) {
  // The wildcards stand in for name characters, so parse_destination checks the rest.
  std::string plain = text;
  std::replace(plain.begin(), plain.end(), '*', 'x');
  std::replace(plain.begin(), plain.end(), '>', 'x');
  auto parsed = parse_destination(plain);
  if (!parsed)
    return parsed.error();
  auto scheme_end = text.find("://");
  auto name = scheme_end == std::string::npos ? text : text.substr(scheme_end + 3);
  destination_pattern out;
  out.kind = parsed->kind;
  out.text = scheme_prefix(out.kind) + name;
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

} // namespace

result<destination_pattern> parse_destination_pattern(const std::string& text) {
  auto out = parse_any_pattern(text);
  if (out && out->kind != destination_kind::queue)
    return failure{make_error_code(uri_errc::malformed),
                   "destination pattern \"" + text + "\" is not a queue: network connectors " +
                       "forward queues only"};
  return out;
}

result<destination_pattern> parse_subscription_pattern(const std::string& text) {
  auto out = parse_any_pattern(text);
  if (out && has_wildcard(*out) && out->kind != destination_kind::queue &&
      out->kind != destination_kind::topic)
    return failure{make_error_code(uri_errc::malformed),
                   "wildcard in temporary destination \"" + text +
                       "\": wildcards are for queues and topics"};
  return out;
}

result<std::vector<destination_pattern>> parse_subscription_patterns(const std::string& text) {
  auto parts = split_composite(text);
  if (!parts)
    return parts.error();
  std::vector<destination_pattern> out;
  for (auto& part : *parts) {
    auto p = parse_subscription_pattern(part);
    if (!p) {
      if (parts->size() == 1)
        return p.error();
      return failure{p.code(),
                     "part " + quoted(part) + " of a composite destination: " + p.message()};
    }
    bool seen = std::any_of(out.begin(), out.end(),
                            [&](const destination_pattern& q) { return q.text == p->text; });
    if (!seen)
      out.push_back(std::move(*p));
  }
  return out;
}

std::string composite_text(const std::vector<destination_pattern>& parts) {
  std::string out;
  for (auto& p : parts) {
    if (!out.empty())
      out += ',';
    out += p.text;
  }
  return out;
}

bool matches(const destination_pattern& pattern, const std::string& canonical_name) {
  auto scheme = scheme_prefix(pattern.kind);
  if (canonical_name.compare(0, scheme.size(), scheme) != 0)
    return false;
  auto name = split_elements(canonical_name.substr(scheme.size()));
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
