// What a client's connection says to the node and what the node says back, whatever the wire
// protocol: a codec (session_codec.hpp) turns bytes into commands and events into bytes, and the
// session core (actors/session_core.cpp) acts on commands and emits events. Plain C++ (no CAF).
#pragma once

#include "protocol/destination_counts.hpp"
#include "protocol/envelope.pb.h"
#include "protocol/error_code.hpp"

#include <cstdint>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace actormq::protocol {

// --- Commands (client -> node) ---

struct connect_command {
  std::string client_id;
  std::string user;
  std::string password;
  // Heartbeats the client negotiated for this connection (STOMP's heart-beat header), in
  // milliseconds; 0: none. How often the client promises to send something, and how often it
  // wants the node to. Protocols without such a negotiation leave both 0.
  uint32_t client_heartbeat_ms = 0;
  uint32_t wanted_heartbeat_ms = 0;
};

// A message to store; its envelope's destination says where. A codec whose protocol already has
// the message in the envelope's encoding hands those bytes on in `encoded` (they must decode to
// `message`), so the core does not encode it again; empty: the core encodes `message`.
struct send_command {
  store::Envelope message;
  std::string encoded;
  std::string transaction_id; // non-empty: held by that open transaction until it ends
};

enum class ack_mode : uint8_t { auto_ack = 0, client = 1, individual = 2 };

struct open_consumer_command {
  uint64_t consumer_id = 0; // chosen by the client, unique within the connection
  std::string destination;
  uint32_t prefetch = 0; // 0: the node's default
  ack_mode mode = ack_mode::auto_ack;
  int32_t priority = 0;   // consumer priority; higher is served first
  bool exclusive = false; // ActiveMQ's exclusive consumer (docs/groups.md)
  std::string selector;   // a JMS selector (selector.hpp); empty: every message
  // The selector compares a string with a number as a number (ActiveMQ's STOMP does).
  bool convert_string_expressions = false;
  // The node acknowledges each delivery as it writes it and gives its credit back (STOMP's
  // ack:auto, where the client never acknowledges); false: the client acknowledges and grants
  // credit itself (the Protobuf client does, whatever its mode).
  bool node_acks = false;
  // A durable subscription (topics only) named `subscription_name` under the connection's
  // client id: what is published while no consumer of it is open is kept for it.
  bool durable = false;
  std::string subscription_name;
};

struct close_consumer_command {
  uint64_t consumer_id = 0;
};

struct credit_command {
  uint64_t consumer_id = 0;
  uint32_t credit = 0;
};

struct ack_command {
  uint64_t consumer_id = 0;
  std::vector<uint64_t> delivery_keys;
  // The client refuses these deliveries (STOMP's NACK): they are to be redelivered (or dead-
  // lettered), not deleted.
  bool reject = false;
  std::string transaction_id; // non-empty: applied when that open transaction commits
};

// Local transactions (docs/transactions.md): ids are the client's, unique per connection.
struct begin_command {
  std::string transaction_id;
};

struct commit_command {
  std::string transaction_id;
};

// STOMP's ABORT.
struct rollback_command {
  std::string transaction_id;
};

struct browse_command {
  std::string destination;
  uint32_t max_messages = 0; // 0: the node's maximum
};

struct purge_command {
  std::string destination;
};

// Moves dead letters back to their original destinations (0: up to 1000).
struct retry_command {
  std::string destination;
  uint32_t max_messages = 0;
};

// Removes a durable subscription of the connection's client id, with what it holds.
struct unsubscribe_command {
  std::string subscription_name;
};

struct stats_command {};
struct heartbeat_command {};
struct disconnect_command {};

// The codec could not make a command of what arrived. A fatal refusal closes the connection (the
// codec yields nothing after it); otherwise the request is answered with the error (or, without a
// request id, the connection closes too, since the client could not learn of it).
struct refused_command {
  error_code code = error_code::malformed_frame;
  std::string text;
  bool fatal = true;
  std::string name; // the command refused ("send"), if the codec knows it
};

// A command of the protocol that a client may not send (one the node sends, for instance).
struct unexpected_command {
  std::string name;
};

using command_body =
    std::variant<connect_command, send_command, open_consumer_command, close_consumer_command,
                 credit_command, ack_command, browse_command, purge_command, stats_command,
                 heartbeat_command, disconnect_command, refused_command, unexpected_command,
                 unsubscribe_command, begin_command, commit_command, rollback_command,
                 retry_command>;

struct command {
  uint64_t request_id = 0; // echoed in the answer; 0: the client wants no answer
  command_body body;
};

// For logs and errors: "connect", "send", ...
const char* command_name(const command_body& body);

// --- Events (node -> client) ---

struct connected_event {
  std::string node_name;
  std::string store_id;
  uint64_t session_id = 0;
  uint32_t heartbeat_ms = 0;          // how often the node sends heartbeats; 0 = never
  uint32_t inactivity_timeout_ms = 0; // the node closes a connection silent for this long
  std::vector<std::string> failover_uris;
};

struct receipt_event {
  uint64_t count = 1;
  uint64_t duplicates = 0;
};

struct error_event {
  error_code code = error_code::internal;
  std::string text;
};

// One message for a consumer. `envelope` is the stored envelope's encoding (envelope.hpp); it
// must outlive the encode call.
struct delivery_event {
  uint64_t consumer_id = 0;
  uint64_t delivery_key = 0;
  bool redelivered = false;
  uint32_t delivery_count = 1;
  std::string_view envelope;
};

// A browse's answer: as many messages as the protocol fits in one answer, and the depth.
struct browse_reply_event {
  uint64_t pending = 0;
  std::vector<delivery_event> messages; // consumer_id unused
};

struct stats_reply_event {
  std::vector<destination_counts> destinations;
};

struct heartbeat_event {};

using event = std::variant<connected_event, receipt_event, error_event, delivery_event,
                           browse_reply_event, stats_reply_event, heartbeat_event>;

} // namespace actormq::protocol
