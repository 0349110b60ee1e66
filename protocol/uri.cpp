// Broker URIs in ActiveMQ's syntax: see uri.hpp and docs/protocol.md.
//
// Choices made here:
// - Schemes compare case-insensitively ("TCP://h:1" works); hosts and option names are exact.
// - An IPv6 host is written in brackets ("tcp://[::1]:61616"); tcp_uri::host holds it without
//   them ("::1"), ready for getaddrinfo, and text() puts them back.
// - Option values are percent-decoded (%20 -> space) and otherwise kept as strings.
// - failover:a,b (without parentheses) has no options of its own: as in ActiveMQ, a '?' there
//   belongs to the member it follows.
#include "protocol/uri.hpp"

#include "protocol/quoted.hpp"

#include <cctype>
#include <utility>

namespace actormq::protocol {

namespace {

class uri_category_impl : public std::error_category {
public:
  const char* name() const noexcept override { return "actormq.protocol.uri"; }

  std::string message(int code) const override {
    switch (static_cast<uri_errc>(code)) {
    case uri_errc::ok:
      return "ok";
    case uri_errc::malformed:
      return "malformed URI";
    case uri_errc::unknown_scheme:
      return "unknown URI scheme";
    case uri_errc::bad_port:
      return "bad port";
    case uri_errc::bad_option:
      return "bad option";
    case uri_errc::too_long:
      return "destination name too long";
    }
    return "unknown URI error " + std::to_string(code);
  }
};

using options_map = std::map<std::string, std::string>;

std::string lower(std::string s) {
  for (auto& c : s)
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

std::string trim(const std::string& s) {
  size_t b = 0;
  size_t e = s.size();
  while (b < e && std::isspace(static_cast<unsigned char>(s[b])))
    ++b;
  while (e > b && std::isspace(static_cast<unsigned char>(s[e - 1])))
    --e;
  return s.substr(b, e - b);
}

failure fail(uri_errc code, std::string what) {
  return failure{code, std::move(what)};
}

int hex_value(char c) {
  if (c >= '0' && c <= '9')
    return c - '0';
  if (c >= 'a' && c <= 'f')
    return c - 'a' + 10;
  if (c >= 'A' && c <= 'F')
    return c - 'A' + 10;
  return -1;
}

// Decodes %XX escapes. Errors: bad_option for a '%' not followed by two hex digits.
result<std::string> percent_decode(const std::string& s, const std::string& whole) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '%') {
      out.push_back(s[i]);
      continue;
    }
    const int hi = i + 1 < s.size() ? hex_value(s[i + 1]) : -1;
    const int lo = i + 2 < s.size() ? hex_value(s[i + 2]) : -1;
    if (hi < 0 || lo < 0)
      return fail(uri_errc::bad_option, "bad escape in option " + quoted(s) + " in " + whole);
    out.push_back(static_cast<char>(hi * 16 + lo));
    i += 2;
  }
  return out;
}

// Parses "k=v&k=v" (the text after '?'). Duplicate keys: the last wins.
// Errors: bad_option (empty item, no '=', empty name, bad escape).
result<options_map> parse_query(const std::string& query, const std::string& whole) {
  options_map options;
  if (query.empty())
    return options;
  size_t start = 0;
  while (true) {
    const size_t amp = query.find('&', start);
    const std::string item =
        query.substr(start, amp == std::string::npos ? std::string::npos : amp - start);
    if (item.empty())
      return fail(uri_errc::bad_option, "empty option in " + whole);
    const size_t eq = item.find('=');
    if (eq == std::string::npos) {
      return fail(uri_errc::bad_option,
                  "option " + quoted(item) + " has no value (expected name=value) in " + whole);
    }
    if (eq == 0)
      return fail(uri_errc::bad_option, "option " + quoted(item) + " has no name in " + whole);
    auto key = percent_decode(item.substr(0, eq), whole);
    if (!key)
      return key.error();
    auto value = percent_decode(item.substr(eq + 1), whole);
    if (!value)
      return value.error();
    options[std::move(*key)] = std::move(*value);
    if (amp == std::string::npos)
      break;
    start = amp + 1;
  }
  return options;
}

bool is_host_char(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '-' || c == '_';
}

bool all_digits(const std::string& s) {
  for (char c : s) {
    if (!std::isdigit(static_cast<unsigned char>(c)))
      return false;
  }
  return !s.empty();
}

// A dotted-quad IPv4 address with each part in 0..255.
bool valid_ipv4(const std::string& host) {
  int parts = 0;
  size_t start = 0;
  while (true) {
    const size_t dot = host.find('.', start);
    const std::string part =
        host.substr(start, dot == std::string::npos ? std::string::npos : dot - start);
    if (!all_digits(part) || part.size() > 3 || std::stoi(part) > 255)
      return false;
    ++parts;
    if (dot == std::string::npos)
      break;
    start = dot + 1;
  }
  return parts == 4;
}

// A host name (labels of letters, digits, '-' and '_' separated by dots) or an IPv4 address.
bool valid_host(const std::string& host) {
  bool digits_and_dots = true;
  for (char c : host) {
    if (!is_host_char(c))
      return false;
    if (c != '.' && !std::isdigit(static_cast<unsigned char>(c)))
      digits_and_dots = false;
  }
  if (digits_and_dots)
    return valid_ipv4(host);
  if (host.front() == '.' || host.back() == '.' || host.find("..") != std::string::npos)
    return false;
  return true;
}

// The inside of "[...]": hex digits, ':' and '.' (an embedded IPv4 tail), at least one ':'.
bool valid_ipv6(const std::string& host) {
  if (host.find(':') == std::string::npos)
    return false;
  for (char c : host) {
    if (!std::isxdigit(static_cast<unsigned char>(c)) && c != ':' && c != '.')
      return false;
  }
  return true;
}

// Splits "a,b,c" at commas outside parentheses.
std::vector<std::string> split_members(const std::string& s) {
  std::vector<std::string> out;
  int depth = 0;
  size_t start = 0;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '(')
      ++depth;
    else if (s[i] == ')')
      --depth;
    else if (s[i] == ',' && depth == 0) {
      out.push_back(s.substr(start, i - start));
      start = i + 1;
    }
  }
  out.push_back(s.substr(start));
  return out;
}

// "scheme:" at the start of text (letters, digits, '+', '-', '.'), or "" when there is none.
std::string scheme_of(const std::string& text) {
  const size_t colon = text.find(':');
  if (colon == std::string::npos || colon == 0)
    return {};
  for (size_t i = 0; i < colon; ++i) {
    const char c = text[i];
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '+' && c != '-' && c != '.')
      return {};
  }
  return lower(text.substr(0, colon));
}

// "host:port" without a scheme: a common slip, worth its own message.
bool looks_like_host_port(const std::string& text, const std::string& scheme) {
  return !scheme.empty() && all_digits(text.substr(scheme.size() + 1));
}

} // namespace

const std::error_category& uri_category() {
  static const uri_category_impl instance;
  return instance;
}

std::error_code make_error_code(uri_errc e) {
  return {static_cast<int>(e), uri_category()};
}

std::string tcp_uri::text() const {
  const bool ipv6 = host.find(':') != std::string::npos;
  return "tcp://" + (ipv6 ? "[" + host + "]" : host) + ":" + std::to_string(port);
}

result<tcp_uri> parse_tcp_uri(const std::string& input) {
  const std::string text = trim(input);
  if (text.empty())
    return fail(uri_errc::malformed, "empty URI (expected tcp://host:port)");
  const std::string scheme = scheme_of(text);
  if (scheme.empty())
    return fail(uri_errc::malformed, "missing scheme in " + quoted(text) + " (expected tcp://)");
  if (looks_like_host_port(text, scheme))
    return fail(uri_errc::malformed, "missing scheme in " + quoted(text) + " (expected tcp://)");
  if (scheme != "tcp") {
    return fail(uri_errc::unknown_scheme,
                "unknown scheme " + quoted(scheme) + " in " + text + " (expected tcp://)");
  }
  size_t pos = scheme.size() + 1;
  if (text.compare(pos, 2, "//") != 0)
    return fail(uri_errc::malformed, "missing '//' after 'tcp:' in " + text);
  pos += 2;

  const size_t qmark = text.find('?', pos);
  std::string authority =
      text.substr(pos, qmark == std::string::npos ? std::string::npos : qmark - pos);
  if (!authority.empty() && authority.back() == '/')
    authority.pop_back(); // "tcp://h:1/" is accepted; any other path is not
  if (authority.find('/') != std::string::npos)
    return fail(uri_errc::malformed, "unexpected path in " + text + " (expected tcp://host:port)");
  if (authority.find_first_of("()") != std::string::npos)
    return fail(uri_errc::malformed, "unexpected parenthesis in " + text);

  tcp_uri uri;
  std::string port_text;
  bool has_port = false;
  if (!authority.empty() && authority.front() == '[') {
    const size_t close = authority.find(']');
    if (close == std::string::npos)
      return fail(uri_errc::malformed, "missing ']' after IPv6 address in " + text);
    uri.host = authority.substr(1, close - 1);
    if (!valid_ipv6(uri.host))
      return fail(uri_errc::malformed, "bad IPv6 address " + quoted(uri.host) + " in " + text);
    const std::string rest = authority.substr(close + 1);
    if (!rest.empty()) {
      if (rest.front() != ':')
        return fail(uri_errc::malformed, "unexpected " + quoted(rest) + " after ']' in " + text);
      has_port = true;
      port_text = rest.substr(1);
    }
  } else {
    const size_t colon = authority.rfind(':');
    uri.host = authority.substr(0, colon);
    if (colon != std::string::npos) {
      has_port = true;
      port_text = authority.substr(colon + 1);
    }
    if (uri.host.empty())
      return fail(uri_errc::malformed, "missing host in " + text);
    if (uri.host.find(':') != std::string::npos) {
      return fail(uri_errc::malformed, "bad host " + quoted(uri.host) + " in " + text +
                                           " (write IPv6 addresses in brackets: [::1])");
    }
    if (!valid_host(uri.host))
      return fail(uri_errc::malformed, "bad host " + quoted(uri.host) + " in " + text);
  }

  if (!has_port)
    return fail(uri_errc::bad_port, "missing port in " + text);
  if (!all_digits(port_text) || port_text.size() > 5 || std::stoi(port_text) < 1 ||
      std::stoi(port_text) > 65535) {
    return fail(uri_errc::bad_port, "bad port " + quoted(port_text) + " in " + text +
                                        " (expected a number in 1..65535)");
  }
  uri.port = static_cast<uint16_t>(std::stoi(port_text));

  if (qmark != std::string::npos) {
    auto options = parse_query(text.substr(qmark + 1), text);
    if (!options)
      return options.error();
    uri.options = std::move(*options);
  }
  return uri;
}

result<composite_uri> parse_composite_uri(const std::string& input) {
  const std::string text = trim(input);
  if (text.empty())
    return fail(uri_errc::malformed, "empty URI (expected failover:(...) or static:(...))");
  const std::string scheme = scheme_of(text);
  if (scheme.empty()) {
    return fail(uri_errc::malformed,
                "missing scheme in " + quoted(text) + " (expected failover: or static:)");
  }
  if (scheme != "failover" && scheme != "static") {
    return fail(uri_errc::unknown_scheme, "unknown scheme " + quoted(scheme) + " in " + text +
                                              " (expected failover: or static:)");
  }
  composite_uri uri;
  uri.scheme = scheme;
  std::string rest = trim(text.substr(scheme.size() + 1));
  if (rest.compare(0, 2, "//") == 0)
    rest = trim(rest.substr(2)); // "failover://(...)" is accepted too

  std::string members_text;
  if (!rest.empty() && rest.front() == '(') {
    int depth = 0;
    size_t close = std::string::npos;
    for (size_t i = 0; i < rest.size(); ++i) {
      if (rest[i] == '(')
        ++depth;
      else if (rest[i] == ')' && --depth == 0) {
        close = i;
        break;
      }
    }
    if (close == std::string::npos)
      return fail(uri_errc::malformed, "missing ')' in " + text);
    members_text = rest.substr(1, close - 1);
    const std::string after = trim(rest.substr(close + 1));
    if (!after.empty()) {
      if (after.front() != '?') {
        return fail(uri_errc::malformed, "unexpected " + quoted(after) + " after ')' in " + text +
                                             " (expected ?options)");
      }
      auto options = parse_query(after.substr(1), text);
      if (!options)
        return options.error();
      uri.options = std::move(*options);
    }
  } else {
    if (rest.find_first_of("()") != std::string::npos)
      return fail(uri_errc::malformed, "unbalanced parentheses in " + text);
    members_text = rest;
  }

  if (trim(members_text).empty())
    return fail(uri_errc::malformed, "no member URIs in " + text);
  const auto parts = split_members(members_text);
  for (size_t i = 0; i < parts.size(); ++i) {
    const std::string member = trim(parts[i]);
    const std::string which = "member " + std::to_string(i + 1) + " of " + text;
    if (member.empty())
      return fail(uri_errc::malformed, "empty " + which);
    auto parsed = parse_tcp_uri(member);
    if (!parsed)
      return failure{parsed.code(), parsed.message() + " (" + which + ")"};
    uri.members.push_back(std::move(*parsed));
  }
  return uri;
}

result<composite_uri> parse_broker_url(const std::string& input) {
  const std::string text = trim(input);
  const std::string scheme = scheme_of(text);
  if (scheme == "tcp") {
    auto member = parse_tcp_uri(text);
    if (!member)
      return member.error();
    composite_uri uri;
    uri.scheme = "tcp";
    uri.members.push_back(std::move(*member));
    return uri;
  }
  if (scheme == "failover" || scheme == "static")
    return parse_composite_uri(text);
  if (text.empty())
    return fail(uri_errc::malformed,
                "empty broker URL (expected tcp://host:port or failover:(...))");
  if (scheme.empty() || looks_like_host_port(text, scheme)) {
    return fail(uri_errc::malformed, "missing scheme in " + quoted(text) +
                                         " (expected tcp://host:port or failover:(...))");
  }
  return fail(uri_errc::unknown_scheme, "unknown scheme " + quoted(scheme) + " in " + text +
                                            " (expected tcp:, failover: or static:)");
}

} // namespace actormq::protocol
