// Failover URLs: `failover:(uri,...)?options` (or `failover:uri,uri`) with ActiveMQ's option
// names, meanings and defaults. Pure functions (no I/O), used by the session's reconnect loop and
// unit-tested alone; docs/failover.md is the user reference.
#pragma once

#include "common/result.hpp"
#include "protocol/uri.hpp"

#include <chrono>
#include <cstdint>
#include <map>
#include <random>
#include <string>
#include <vector>

namespace actormq::client {

struct failover_options {
  bool randomize = true; // shuffle the URIs before each pass (the one that just failed goes last)
  std::chrono::milliseconds initial_reconnect_delay{10}; // delay after the first failed pass
  std::chrono::milliseconds max_reconnect_delay{30000};  // cap of the delay
  bool use_exponential_back_off = true;                  // multiply the delay after each pass
  double reconnect_delay_exponent = 2.0;
  // Passes over all URIs before giving up; -1 = forever. After an established connection failed,
  // 0 means no reconnection at all; when connecting for the first time, 0 (like 1) means one pass.
  int64_t max_reconnect_attempts = -1;
  // Replaces max_reconnect_attempts until the first connection succeeded; -1 = use that.
  int64_t startup_max_reconnect_attempts = -1;
  // How long an operation (a send, a request) waits for a connection during an outage, in ms;
  // -1 (or 0) = forever.
  int64_t timeout_ms = -1;
  // Prefer the priority URIs (priorityURIs, else the first URI): connect to them first and, while
  // connected elsewhere, keep probing them and move back when one accepts a connection.
  bool priority_backup = false;
  std::vector<protocol::tcp_uri> priority_uris;
  // Add the URIs the broker announces (Connected / ClusterUpdate failover_uris) to the list.
  bool update_uris_supported = true;
  // Warn on stderr every this many failed passes (0 = never).
  int64_t warn_after_reconnect_attempts = 10;
  // nested.NAME=VALUE options, applied to every member URI (a member's own option wins).
  std::map<std::string, std::string> nested;
};

struct failover_url {
  std::vector<protocol::tcp_uri> uris; // members in the order written, nested.* applied
  failover_options options;
  std::vector<std::string> warnings; // ActiveMQ options accepted without effect, one line each
};

// Parses a failover URL (`failover:` scheme required). Errors (protocol::uri_errc, message naming
// the culprit): malformed URIs, unknown options, bad values. A plain tcp:// URL is refused here.
result<failover_url> parse_failover_url(const std::string& text);
// The same from a parsed composite URI (scheme "failover").
result<failover_url> parse_failover_options(const protocol::composite_uri& url);

// Applies nested.* options to one member (its own options win).
protocol::tcp_uri with_nested(protocol::tcp_uri uri, const failover_options& options);

// The member's connect timeout: its `connectionTimeout` option (ms), else `fallback`.
std::chrono::milliseconds member_connect_timeout(const protocol::tcp_uri& uri,
                                                 std::chrono::milliseconds fallback);

// The delay after the `failed_passes`-th failed pass (1-based): initialReconnectDelay, multiplied
// by reconnectDelayExponent for each further pass when useExponentialBackOff, capped at
// maxReconnectDelay. (The first pass after a failure starts at once.)
std::chrono::milliseconds reconnect_delay(const failover_options& options, uint64_t failed_passes);

// The delays of the first `passes` failed passes (for docs and tests).
std::vector<std::chrono::milliseconds> reconnect_schedule(const failover_options& options,
                                                          uint64_t passes);

// How many passes may fail before giving up; -1 = no limit. `first_connection`: no connection
// succeeded yet (startupMaxReconnectAttempts applies if set). 0 is returned as is: the caller
// makes one pass when connecting for the first time and none after an established connection.
int64_t attempt_limit(const failover_options& options, bool first_connection);

// The order of one pass: priority URIs first (priorityBackup), the rest shuffled (randomize), the
// URI that just failed (`failed`, "tcp://host:port", may be empty) last.
std::vector<protocol::tcp_uri> connect_order(const failover_options& options,
                                             std::vector<protocol::tcp_uri> uris,
                                             const std::string& failed, std::mt19937_64& rng);

// True if `uri` is a priority URI: one of priorityURIs, or the first member when none is given.
bool is_priority(const failover_options& options, const std::vector<protocol::tcp_uri>& members,
                 const std::string& uri);

// "tcp://a:1, tcp://b:2"
std::string uri_list(const std::vector<protocol::tcp_uri>& uris);

} // namespace actormq::client
