// ActiveMQ's STOMP destinations (its LegacyFrameTranslator): /queue/x, /topic/x, /temp-queue/x,
// /temp-topic/x, the /remote-temp-queue/ and /remote-temp-topic/ forms of another connection's
// temporary destinations, and composites of them ("/queue/a,/topic/b").
#include "protocol/stomp_codec.hpp"

#include "protocol/destination.hpp"
#include "protocol/destination_pattern.hpp"
#include "protocol/quoted.hpp"
#include "protocol/uri.hpp"

#include <array>
#include <vector>

namespace actormq::protocol {

namespace {

// The STOMP destination prefixes and the kinds they name (ActiveMQ's mapping).
struct stomp_prefix {
  std::string_view prefix;
  destination_kind kind;
};
constexpr std::array<stomp_prefix, 4> stomp_prefixes{{
    {"/queue/", destination_kind::queue},
    {"/topic/", destination_kind::topic},
    {"/temp-queue/", destination_kind::temp_queue},
    {"/temp-topic/", destination_kind::temp_topic},
}};
// ActiveMQ writes another connection's temporary destination so, and reads it back.
constexpr std::array<stomp_prefix, 2> remote_prefixes{{
    {"/remote-temp-queue/", destination_kind::temp_queue},
    {"/remote-temp-topic/", destination_kind::temp_topic},
}};

constexpr std::string_view full_temporary_prefix = "ID:";

bool starts_with(std::string_view text, std::string_view prefix) {
  return text.substr(0, prefix.size()) == prefix;
}

bool is_temporary(destination_kind kind) {
  return kind == destination_kind::temp_queue || kind == destination_kind::temp_topic;
}

const char* remote_prefix_of(destination_kind kind) {
  return kind == destination_kind::temp_queue ? "/remote-temp-queue/" : "/remote-temp-topic/";
}

// The parts of a composite STOMP destination, each as written (every part has its own prefix).
result<std::vector<std::string>> split_parts(std::string_view text) {
  std::vector<std::string> out;
  size_t start = 0;
  while (true) {
    auto comma = text.find(',', start);
    auto part = text.substr(start, comma == std::string_view::npos ? text.npos : comma - start);
    if (part.empty())
      return failure{uri_errc::malformed, text.empty()
                                              ? "empty destination"
                                              : "empty part in destination " + quoted(text)};
    if (out.size() == max_composite_parts)
      return failure{uri_errc::malformed, "destination " + quoted(text) + " has more than " +
                                              std::to_string(max_composite_parts) + " parts"};
    out.emplace_back(part);
    if (comma == std::string_view::npos)
      return out;
    start = comma + 1;
  }
}

std::string missing_prefix_text(std::string_view text) {
  return "destination " + quoted(text) +
         " must start with /queue/, /topic/, /temp-queue/ or /temp-topic/";
}

} // namespace

result<std::string> destination_of_stomp(std::string_view text) {
  for (auto& p : stomp_prefixes) {
    if (!starts_with(text, p.prefix))
      continue;
    // The rest is the name as it is: "/topic/queue://x" is the topic named "queue://x", not a
    // scheme that would be dropped.
    auto d = parse_destination(std::string(scheme_of(p.kind)) + "://" +
                               std::string(text.substr(p.prefix.size())));
    if (!d)
      return failure{d.code(), "destination " + quoted(text) + ": " + d.message()};
    return d->uri();
  }
  return failure{uri_errc::malformed, missing_prefix_text(text)};
}

result<std::string> stomp_codec::destination_uri(std::string_view text, stomp_destination_use use) {
  auto parts = split_parts(text);
  if (!parts)
    return parts.error();
  const auto& owner = connection_id_.empty() ? default_connection_id_ : connection_id_;
  std::string out;
  for (auto& part : *parts) {
    // The part as a URI with the wildcards left in: the checks below parse it.
    std::string uri;
    std::string short_name;
    for (auto& p : stomp_prefixes)
      if (starts_with(part, p.prefix)) {
        auto name = part.substr(p.prefix.size());
        if (is_temporary(p.kind) && !name.empty() && !starts_with(name, full_temporary_prefix)) {
          // A short name: this connection's own (ActiveMQ's createTempDestination). The node
          // lets a connection own "ID:<its id>:<anything without ':'>".
          if (name.find(':') != std::string::npos)
            return failure{uri_errc::malformed,
                           "destination " + quoted(part) +
                               ": a short temporary name may not hold ':' (a full name starts "
                               "with ID:)"};
          short_name = part;
          name = std::string(full_temporary_prefix) + owner + ":" + name;
        }
        uri = std::string(scheme_of(p.kind)) + "://" + name;
        break;
      }
    for (auto& p : remote_prefixes)
      if (uri.empty() && starts_with(part, p.prefix))
        uri = std::string(scheme_of(p.kind)) + "://" + part.substr(p.prefix.size());
    if (uri.empty())
      return failure{uri_errc::malformed, missing_prefix_text(part)};
    std::string canonical;
    if (use == stomp_destination_use::subscribe) {
      auto pattern = parse_subscription_pattern(uri);
      if (!pattern)
        return failure{pattern.code(), "destination " + quoted(part) + ": " + pattern.message()};
      canonical = pattern->text;
    } else {
      auto d = parse_destination(uri);
      if (!d)
        return failure{d.code(), "destination " + quoted(part) + ": " + d.message()};
      canonical = d->uri();
    }
    if (!short_name.empty())
      short_temporary_names_[canonical] = short_name;
    if (!out.empty())
      out += ',';
    out += canonical;
  }
  return out;
}

std::string stomp_codec::stomp_destination(const std::string& uri) const {
  const auto& owner = connection_id_.empty() ? default_connection_id_ : connection_id_;
  auto own_prefix = std::string(full_temporary_prefix) + owner + ":";
  std::string out;
  size_t start = 0;
  while (start <= uri.size()) {
    auto comma = uri.find(',', start);
    auto part = uri.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
    if (!out.empty())
      out += ',';
    auto d = parse_destination(part);
    if (d && is_temporary(d->kind)) {
      if (auto i = short_temporary_names_.find(part); i != short_temporary_names_.end())
        out += i->second;
      else if (starts_with(d->name, own_prefix))
        out += stomp_destination_of(part);
      else
        out += remote_prefix_of(d->kind) + d->name;
    } else {
      out += stomp_destination_of(part);
    }
    if (comma == std::string::npos)
      break;
    start = comma + 1;
  }
  return out;
}

} // namespace actormq::protocol
