#include "client/failover.hpp"
#include "common/parse_bool.hpp"

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <optional>
#include <set>

namespace actormq::client {

using protocol::tcp_uri;
using protocol::uri_errc;

namespace {

failure bad_option(std::string what) {
  return failure{protocol::make_error_code(uri_errc::bad_option), std::move(what)};
}

std::string lower(std::string s) {
  for (auto& c : s)
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

// ActiveMQ failover options this client accepts without implementing them (warned).
const std::set<std::string>& unimplemented_options() {
  static const std::set<std::string> names{"backup",
                                           "backupPoolSize",
                                           "trackMessages",
                                           "maxCacheSize",
                                           "maxPullCacheSize",
                                           "trackTransactionProducers",
                                           "reconnectSupported",
                                           "rebalanceUpdateURIs",
                                           "updateURIsURL",
                                           "connectionTimeout",
                                           "reconnectDelay",
                                           "useInactivityMonitor"};
  return names;
}

const std::vector<std::string>& implemented_options() {
  static const std::vector<std::string> names{"randomize",
                                              "initialReconnectDelay",
                                              "maxReconnectDelay",
                                              "useExponentialBackOff",
                                              "reconnectDelayExponent",
                                              "maxReconnectAttempts",
                                              "startupMaxReconnectAttempts",
                                              "timeout",
                                              "priorityBackup",
                                              "priorityURIs",
                                              "updateURIsSupported",
                                              "warnAfterReconnectAttempts"};
  return names;
}

std::string describe(const std::string& name, const std::string& value) {
  return "failover option " + name + "=" + value;
}

result<bool> bool_option(const std::string& name, const std::string& value) {
  if (auto v = actormq::parse_bool(value))
    return *v;
  return bad_option("bad value in " + describe(name, value) + " (expected true or false)");
}

result<int64_t> parse_int(const std::string& name, const std::string& value, int64_t min) {
  if (value.empty())
    return bad_option("bad value in " + describe(name, value) + " (expected an integer)");
  errno = 0;
  char* end = nullptr;
  long long n = std::strtoll(value.c_str(), &end, 10);
  if (errno != 0 || end == nullptr || *end != '\0')
    return bad_option("bad value in " + describe(name, value) + " (expected an integer)");
  if (n < min)
    return bad_option("bad value in " + describe(name, value) + " (expected at least " +
                      std::to_string(min) + ")");
  return static_cast<int64_t>(n);
}

result<double> parse_double(const std::string& name, const std::string& value) {
  errno = 0;
  char* end = nullptr;
  double d = value.empty() ? 0.0 : std::strtod(value.c_str(), &end);
  if (value.empty() || errno != 0 || end == nullptr || *end != '\0' || !std::isfinite(d) ||
      d <= 0.0)
    return bad_option("bad value in " + describe(name, value) + " (expected a positive number)");
  return d;
}

std::string suggestion(const std::string& name) {
  auto l = lower(name);
  for (const auto& known : implemented_options())
    if (lower(known) == l)
      return " (did you mean " + known + "?)";
  for (const auto& known : unimplemented_options())
    if (lower(known) == l)
      return " (did you mean " + known + "?)";
  return "";
}

} // namespace

result<failover_url> parse_failover_url(const std::string& text) {
  auto parsed = protocol::parse_broker_url(text);
  if (!parsed)
    return parsed.error();
  if (parsed->scheme != "failover")
    return failure{protocol::make_error_code(uri_errc::unknown_scheme),
                   "expected a failover: URL, not " + parsed->scheme + ": in " + text};
  return parse_failover_options(*parsed);
}

result<failover_url> parse_failover_options(const protocol::composite_uri& url) {
  failover_url out;
  auto& o = out.options;
  std::string priority_text;
  for (const auto& [name, value] : url.options) {
    if (name.rfind("nested.", 0) == 0) {
      auto inner = name.substr(7);
      if (inner.empty())
        return bad_option("failover option " + name + " names no nested option");
      o.nested[inner] = value;
      continue;
    }
    if (name.rfind("jms.", 0) == 0) {
      out.warnings.push_back("option " + name + "=" + value +
                             " (a connection factory setting) is not supported and is ignored");
      continue;
    }
    if (name == "randomize") {
      auto v = bool_option(name, value);
      if (!v)
        return v.error();
      o.randomize = *v;
    } else if (name == "initialReconnectDelay") {
      auto v = parse_int(name, value, 0);
      if (!v)
        return v.error();
      o.initial_reconnect_delay = std::chrono::milliseconds(*v);
    } else if (name == "maxReconnectDelay") {
      auto v = parse_int(name, value, 0);
      if (!v)
        return v.error();
      o.max_reconnect_delay = std::chrono::milliseconds(*v);
    } else if (name == "useExponentialBackOff") {
      auto v = bool_option(name, value);
      if (!v)
        return v.error();
      o.use_exponential_back_off = *v;
    } else if (name == "reconnectDelayExponent") {
      auto v = parse_double(name, value);
      if (!v)
        return v.error();
      o.reconnect_delay_exponent = *v;
    } else if (name == "maxReconnectAttempts") {
      auto v = parse_int(name, value, -1);
      if (!v)
        return v.error();
      o.max_reconnect_attempts = *v;
    } else if (name == "startupMaxReconnectAttempts") {
      auto v = parse_int(name, value, -1);
      if (!v)
        return v.error();
      o.startup_max_reconnect_attempts = *v;
    } else if (name == "timeout") {
      auto v = parse_int(name, value, -1);
      if (!v)
        return v.error();
      o.timeout_ms = *v;
    } else if (name == "priorityBackup") {
      auto v = bool_option(name, value);
      if (!v)
        return v.error();
      o.priority_backup = *v;
    } else if (name == "priorityURIs") {
      priority_text = value;
    } else if (name == "updateURIsSupported") {
      auto v = bool_option(name, value);
      if (!v)
        return v.error();
      o.update_uris_supported = *v;
    } else if (name == "warnAfterReconnectAttempts") {
      auto v = parse_int(name, value, 0);
      if (!v)
        return v.error();
      o.warn_after_reconnect_attempts = *v;
    } else if (unimplemented_options().count(name) != 0) {
      out.warnings.push_back("failover option " + name + "=" + value +
                             " is not implemented by this client and is ignored");
    } else {
      return bad_option("unknown failover option '" + name + "'" + suggestion(name));
    }
  }
  if (!priority_text.empty()) {
    size_t start = 0;
    while (true) {
      auto comma = priority_text.find(',', start);
      auto item = priority_text.substr(start, comma == std::string::npos ? std::string::npos
                                                                         : comma - start);
      auto parsed = protocol::parse_tcp_uri(item);
      if (!parsed)
        return bad_option("bad URI in failover option priorityURIs: " + parsed.message());
      o.priority_uris.push_back(std::move(*parsed));
      if (comma == std::string::npos)
        break;
      start = comma + 1;
    }
  }
  for (const auto& member : url.members)
    out.uris.push_back(with_nested(member, o));
  // Priority URIs that are not members join the list (after the members).
  for (const auto& p : o.priority_uris) {
    bool known = std::any_of(out.uris.begin(), out.uris.end(),
                             [&](const tcp_uri& u) { return u.text() == p.text(); });
    if (!known)
      out.uris.push_back(with_nested(p, o));
  }
  if (out.uris.empty())
    return failure{protocol::make_error_code(uri_errc::malformed), "failover URL names no broker"};
  return out;
}

tcp_uri with_nested(tcp_uri uri, const failover_options& options) {
  for (const auto& [name, value] : options.nested)
    uri.options.emplace(name, value); // the member's own option wins
  return uri;
}

std::chrono::milliseconds member_connect_timeout(const tcp_uri& uri,
                                                 std::chrono::milliseconds fallback) {
  auto it = uri.options.find("connectionTimeout");
  if (it == uri.options.end())
    return fallback;
  char* end = nullptr;
  long long n = std::strtoll(it->second.c_str(), &end, 10);
  if (end == nullptr || *end != '\0' || n <= 0)
    return fallback;
  return std::chrono::milliseconds(n);
}

std::chrono::milliseconds reconnect_delay(const failover_options& options, uint64_t failed_passes) {
  double max = static_cast<double>(options.max_reconnect_delay.count());
  double delay = static_cast<double>(options.initial_reconnect_delay.count());
  if (options.use_exponential_back_off && failed_passes > 1) {
    for (uint64_t i = 1; i < failed_passes && delay < max; ++i)
      delay *= options.reconnect_delay_exponent;
  }
  delay = std::min(delay, max);
  return std::chrono::milliseconds(static_cast<int64_t>(std::llround(std::max(0.0, delay))));
}

std::vector<std::chrono::milliseconds> reconnect_schedule(const failover_options& options,
                                                          uint64_t passes) {
  std::vector<std::chrono::milliseconds> out;
  for (uint64_t i = 1; i <= passes; ++i)
    out.push_back(reconnect_delay(options, i));
  return out;
}

int64_t attempt_limit(const failover_options& options, bool first_connection) {
  if (first_connection && options.startup_max_reconnect_attempts != -1)
    return options.startup_max_reconnect_attempts;
  return options.max_reconnect_attempts;
}

bool is_priority(const failover_options& options, const std::vector<tcp_uri>& members,
                 const std::string& uri) {
  if (!options.priority_uris.empty())
    return std::any_of(options.priority_uris.begin(), options.priority_uris.end(),
                       [&](const tcp_uri& u) { return u.text() == uri; });
  return !members.empty() && members.front().text() == uri;
}

std::vector<tcp_uri> connect_order(const failover_options& options, std::vector<tcp_uri> uris,
                                   const std::string& failed, std::mt19937_64& rng) {
  std::vector<tcp_uri> first;
  std::vector<tcp_uri> rest;
  std::vector<tcp_uri> members = uris;
  std::optional<tcp_uri> last;
  for (auto& u : uris) {
    if (!failed.empty() && u.text() == failed && !last)
      last = u;
    else if (options.priority_backup && is_priority(options, members, u.text()))
      first.push_back(u);
    else
      rest.push_back(u);
  }
  if (options.randomize)
    std::shuffle(rest.begin(), rest.end(), rng);
  if (options.priority_backup && !options.priority_uris.empty()) {
    // In the order priorityURIs lists them.
    std::vector<tcp_uri> ordered;
    for (const auto& p : options.priority_uris)
      for (const auto& u : first)
        if (u.text() == p.text())
          ordered.push_back(u);
    first = std::move(ordered);
  }
  first.insert(first.end(), rest.begin(), rest.end());
  if (last)
    first.push_back(*last);
  return first;
}

std::string uri_list(const std::vector<tcp_uri>& uris) {
  std::string out;
  for (const auto& u : uris) {
    if (!out.empty())
      out += ", ";
    out += u.text();
  }
  return out;
}

} // namespace actormq::client
