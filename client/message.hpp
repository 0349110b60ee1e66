// Plain values the client library hands to the application: received messages and destination
// statistics. No Protobuf types here.
#pragma once

#include "common/result.hpp"

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

namespace actormq::client {

using properties = std::map<std::string, std::string>; // string-valued properties

// A property of another JMS type than string: boolean, int, long or double (a byte or short
// property arrives as an int, a float one as a double).
using property_value = std::variant<bool, int32_t, int64_t, double>;
using typed_properties = std::map<std::string, property_value>;

// A property as `name=value` (the CLI's --property): `true` and `false` are booleans, an integer
// is an int (a long beyond 32 bits), a decimal number with a point or an exponent is a double,
// a value in single or double quotes is the string between them, anything else a string.
// Errors: bad_argument (no '=', or an empty name).
struct parsed_property {
  std::string name;
  std::variant<std::string, property_value> value;
};
result<parsed_property> parse_property(std::string_view text);

// JMS's text of a typed property ("true", "42", "1.5").
std::string property_text(const property_value& v);

// A message as a consumer (or browse) receives it.
struct message {
  std::string body;
  std::string destination;     // "queue://name"
  uint64_t consumer_id = 0;    // the consumer it was dispatched to; 0 for browsed messages
  uint64_t delivery_key = 0;   // names the delivery in acknowledgements
  bool redelivered = false;    // the node (or, after a failover, the client) delivered it before
  uint32_t delivery_count = 1; // 1 on first delivery
  bool persistent = true;
  int32_t priority = 4;      // 0..9
  int64_t timestamp_ms = 0;  // set by the producer, milliseconds since the epoch
  int64_t expiration_ms = 0; // absolute, milliseconds since the epoch; 0 = never
  std::string producer_id;
  uint64_t producer_sequence = 0;
  std::string origin_store_id; // UUID of the store that took the message
  uint64_t origin_sequence = 0;
  std::string correlation_id; // JMSCorrelationID
  std::string reply_to;       // JMSReplyTo: where replies go ("temp-queue://ID:..." for request())
  // Every property as text (typed ones too, as JMS lets any property be read as a string).
  client::properties properties;
  client::typed_properties typed_properties; // the properties of other types than string
  // Failover: how many times the connection had been re-established when this message was
  // delivered. acknowledge() refuses a message of an earlier epoch (client_errc::failed_over):
  // the node it came from is gone, and the message comes again, marked redelivered.
  uint64_t failover_epoch = 0;
};

// What browse() returns.
struct browse_result {
  std::vector<message> messages; // up to max_messages pending messages, oldest first
  uint64_t pending = 0;          // how many the queue holds in all
};

// One destination in stats() (like ActiveMQ's dstat).
struct destination_stats {
  std::string name;     // "queue://name"
  uint64_t pending = 0; // stored or held, not yet acknowledged ("Queue Size")
  uint64_t consumers = 0;
  uint64_t enqueued = 0;  // total accepted since the store was created
  uint64_t dequeued = 0;  // total acknowledged
  uint64_t in_flight = 0; // dispatched, not yet acknowledged
  uint64_t duplicates_dropped = 0;
  uint64_t memory_bytes = 0;
  bool flow_controlled = false;
  uint64_t discarded = 0; // topics: dropped for slow subscribers (limits.slow_topic_subscriber)
};

} // namespace actormq::client
