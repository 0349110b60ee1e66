// Broker URIs in ActiveMQ's syntax. Plain C++ (no CAF).
//   tcp://host:port[?options]
//   failover:(uri1,uri2,...)[?options]     failover:uri1,uri2 (without parentheses) also works
//   static:(tcp://host:port,...)[?options]  network connectors
#pragma once

#include "common/result.hpp"

#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <system_error>
#include <vector>

namespace actormq::protocol {

enum class uri_errc {
  ok = 0,
  malformed = 1,      // not a URI this parser understands; the message says where
  unknown_scheme = 2, // e.g. "http:" where tcp:, failover: or static: was expected
  bad_port = 3,       // missing, non-numeric or out of 1..65535
  bad_option = 4,     // an option without a name, or a malformed value
  too_long = 5,       // a destination name over max_destination_name_bytes (destination.hpp)
};
const std::error_category& uri_category();
std::error_code make_error_code(uri_errc e);

// tcp://host:port?options
struct tcp_uri {
  std::string host;
  uint16_t port = 0;
  std::map<std::string, std::string> options; // in the order given is not kept; names are exact
  std::string text() const;                   // "tcp://host:port" (without options)
};

// failover:(...)?options and static:(...)?options
struct composite_uri {
  std::string scheme; // "failover" or "static"
  std::vector<tcp_uri> members;
  std::map<std::string, std::string> options;
};

// Parses tcp://host:port[?k=v&k=v]. Errors: malformed, unknown_scheme, bad_port, bad_option.
result<tcp_uri> parse_tcp_uri(const std::string& text);

// Parses failover:(...) or static:(...). Errors as parse_tcp_uri, naming the member at fault.
result<composite_uri> parse_composite_uri(const std::string& text);

// Either form: a plain tcp:// URI becomes a composite with scheme "tcp" and one member.
result<composite_uri> parse_broker_url(const std::string& text);

} // namespace actormq::protocol

namespace std {
template <> struct is_error_code_enum<actormq::protocol::uri_errc> : true_type {};
} // namespace std
