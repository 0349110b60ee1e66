#include "protocol/destination.hpp"

#include "protocol/quoted.hpp"
#include "protocol/uri.hpp"

#include <algorithm>
#include <cctype>

namespace actormq::protocol {

namespace {

// The character for an error message: itself when printable, \xNN otherwise.
std::string show_char(char c) {
  if (std::isprint(static_cast<unsigned char>(c)))
    return std::string(1, c);
  static const char digits[] = "0123456789abcdef";
  const auto u = static_cast<unsigned char>(c);
  return std::string("\\x") + digits[u >> 4] + digits[u & 0xf];
}

bool kind_of_scheme(std::string scheme, destination_kind& out) {
  for (auto& c : scheme)
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  for (auto k : {destination_kind::queue, destination_kind::topic, destination_kind::temp_queue,
                 destination_kind::temp_topic})
    if (scheme == scheme_of(k)) {
      out = k;
      return true;
    }
  return false;
}

} // namespace

const char* scheme_of(destination_kind kind) {
  switch (kind) {
  case destination_kind::queue:
    return "queue";
  case destination_kind::topic:
    return "topic";
  case destination_kind::temp_queue:
    return "temp-queue";
  case destination_kind::temp_topic:
    return "temp-topic";
  }
  return "queue";
}

std::string to_string(destination_kind kind) {
  return scheme_of(kind);
}

result<destination> parse_destination(std::string_view text) {
  if (text.empty())
    return failure{uri_errc::malformed, "empty destination name"};
  destination out;
  std::string_view name = text;
  if (auto sep = text.find("://"); sep != std::string_view::npos) {
    auto scheme = std::string(text.substr(0, sep));
    if (!kind_of_scheme(scheme, out.kind))
      return failure{uri_errc::malformed,
                     "unsupported destination scheme " + quoted(scheme) + " in " + quoted(text) +
                         " (expected queue://, topic://, temp-queue:// or temp-topic://)"};
    name = text.substr(sep + 3);
    if (name.empty())
      return failure{uri_errc::malformed,
                     "empty " + std::string(scheme_of(out.kind)) + " name in " + quoted(text)};
  }
  if (name.size() > max_destination_name_bytes) {
    // Only the start of the name is shown: it may be megabytes long.
    return failure{uri_errc::too_long, "destination name of " + std::to_string(name.size()) +
                                           " bytes is over the maximum of " +
                                           std::to_string(max_destination_name_bytes) + " bytes: " +
                                           quoted(std::string(name.substr(0, 32)) + "...")};
  }
  for (char c : name) {
    if (c == '*' || c == '>')
      return failure{uri_errc::malformed,
                     "wildcard " + quoted(std::string(1, c)) + " in destination " + quoted(text) +
                         ": a message is sent to named destinations (wildcards are for "
                         "consumers)"};
    const bool ok = std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_' ||
                    c == '-' || c == ':' || c == '/';
    if (!ok)
      return failure{uri_errc::malformed, "bad character " + quoted(show_char(c)) +
                                              " in destination " + quoted(text) +
                                              " (allowed: letters, digits and . _ - : /)"};
  }
  out.name = std::string(name);
  return out;
}

result<std::string> canonical_destination(const std::string& text) {
  auto d = parse_destination(text);
  if (!d)
    return d.error();
  return d->uri();
}

bool is_composite(std::string_view text) {
  return text.find(',') != std::string_view::npos;
}

result<std::vector<std::string>> split_composite(std::string_view text) {
  if (text.empty())
    return failure{uri_errc::malformed, "empty destination name"};
  std::vector<std::string> out;
  std::string first_scheme;
  size_t start = 0;
  while (start <= text.size()) {
    auto comma = text.find(',', start);
    auto part = text.substr(start, comma == std::string_view::npos ? text.npos : comma - start);
    if (part.empty())
      return failure{uri_errc::malformed, "empty part in composite destination " + quoted(text)};
    if (out.size() == max_composite_parts)
      return failure{uri_errc::malformed, "composite destination of more than " +
                                              std::to_string(max_composite_parts) + " parts"};
    auto sep = part.find("://");
    if (out.empty())
      first_scheme =
          sep == std::string_view::npos ? "queue://" : std::string(part.substr(0, sep + 3));
    out.push_back(sep == std::string_view::npos ? first_scheme + std::string(part)
                                                : std::string(part));
    if (comma == std::string_view::npos)
      break;
    start = comma + 1;
  }
  return out;
}

result<std::vector<destination>> parse_composite_destination(std::string_view text) {
  auto parts = split_composite(text);
  if (!parts)
    return parts.error();
  std::vector<destination> out;
  for (auto& part : *parts) {
    auto d = parse_destination(part);
    if (!d) {
      if (parts->size() == 1)
        return d.error();
      return failure{d.code(),
                     "part " + quoted(part) + " of a composite destination: " + d.message()};
    }
    if (std::find(out.begin(), out.end(), *d) == out.end())
      out.push_back(std::move(*d));
  }
  return out;
}

std::string composite_destination_uri(const std::vector<destination>& parts) {
  std::string out;
  for (auto& d : parts) {
    if (!out.empty())
      out += ',';
    out += d.uri();
  }
  return out;
}

} // namespace actormq::protocol
