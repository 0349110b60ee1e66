// The codec of STOMP 1.0, 1.1 and 1.2 (protocol "stomp"): frames (stomp_frame.hpp) to commands,
// events to frames, with ActiveMQ's mapping of destinations and headers so that STOMP
// applications written for ActiveMQ run unchanged. protocol/README.md lists what it maps and
// what it does not do yet. Plain C++ (no CAF).
//
// What STOMP names with strings the codec numbers for the session core and remembers:
// - a SUBSCRIBE's id is a consumer id the codec assigns;
// - a frame's receipt header is a request id the codec assigns; the core's answer to that
//   request becomes a RECEIPT (or an ERROR with receipt-id). A SUBSCRIBE and a CONNECT always get
//   a request id, so that the codec learns whether the consumer opened; an answer to a request
//   that asked for no receipt writes nothing;
// - the deliveries of a client or client-individual subscription not yet acknowledged, so that
//   an ACK (or NACK) by ack id or message-id becomes the delivery keys it covers (a `client`
//   ACK covers every earlier delivery of its subscription too), followed by the credit those
//   deliveries held.
// Every refusal is fatal: STOMP closes a connection after an ERROR frame.
#pragma once

#include "protocol/session_codec.hpp"
#include "protocol/stomp_frame.hpp"

#include <deque>
#include <functional>
#include <map>
#include <string>
#include <unordered_map>

namespace actormq::protocol {

struct stomp_options {
  uint32_t max_headers = stomp_frame_limits{}.max_headers;
  uint32_t max_header_line_bytes = stomp_frame_limits{}.max_header_line_bytes;
  // The clock that stamps a SEND's timestamp, in milliseconds since the epoch; empty: the
  // system clock.
  std::function<int64_t()> now_ms;
};

// "/queue/x" -> "queue://x", and the same for /topic/, /temp-queue/ and /temp-topic/. Errors
// (uri_errc, uri.hpp): another form, or a name parse_destination (destination.hpp) refuses.
result<std::string> destination_of_stomp(std::string_view stomp_destination);

// "queue://x" -> "/queue/x"; a text that is no destination URI is returned as it is.
std::string stomp_destination_of(const std::string& uri);

// What a STOMP destination header is for: a SEND's destination or reply-to (named
// destinations), or a SUBSCRIBE's (ActiveMQ's wildcards allowed).
enum class stomp_destination_use { send, subscribe };

// The headers with a meaning of their own in SEND and MESSAGE frames ("destination",
// "persistent", ...): never message properties.
bool is_stomp_message_header(std::string_view name);

// A MESSAGE's ack header (STOMP 1.2), naming its consumer and delivery key: "3-17".
std::string stomp_ack_id(uint64_t consumer_id, uint64_t key);
bool parse_stomp_ack_id(std::string_view text, uint64_t& consumer_id, uint64_t& key);

class stomp_codec final : public session_codec {
public:
  explicit stomp_codec(const codec_limits& limits, stomp_options options = {});

  const char* protocol() const noexcept override { return "stomp"; }
  void feed(const char* data, size_t size) override;
  bool next(command& out) override;
  // Nothing once the codec has stopped reading (after a refusal or DISCONNECT).
  size_t buffered() const noexcept override { return failed_ ? 0 : parser_.buffered(); }
  void release_memory() override { parser_.release_memory(); }
  result<void> encode(uint64_t request_id, const event& ev, std::string& out) override;
  bool closes_after_error() const noexcept override { return true; }
  bool negotiates_heartbeats() const noexcept override { return true; }
  void set_connection_id(std::string id) override { default_connection_id_ = std::move(id); }

  // A STOMP destination header as this connection means it (stomp_destinations.cpp): every
  // part of a composite ("/queue/a,/topic/b") mapped as destination_of_stomp does, plus
  // ActiveMQ's /remote-temp-queue/ and /remote-temp-topic/ (another connection's temporary
  // destination, named in full) and short temporary names: /temp-queue/x, x without "ID:", is
  // this connection's temp-queue://ID:<connection id>:x. Errors (uri_errc) name the header's text.
  result<std::string> destination_uri(std::string_view stomp_text, stomp_destination_use use);
  // A destination URI as a MESSAGE header shows it to this connection: a temporary destination
  // it named by a short name by that name, another connection's as /remote-temp-queue/<name>
  // (ActiveMQ's form), anything else as stomp_destination_of does, part by part.
  std::string stomp_destination(const std::string& uri) const;

  // The version agreed at CONNECT (1.0 before it).
  stomp_version version() const noexcept { return version_; }

private:
  struct unacked_delivery {
    uint64_t key = 0;
    std::string message_id;
  };
  struct subscription {
    std::string id; // the client's
    ack_mode mode = ack_mode::auto_ack;
    std::deque<unacked_delivery> unacked; // in delivery order (client and client-individual modes)
  };
  struct pending_request {
    std::string receipt;           // the frame's receipt header; empty: no RECEIPT is written
    uint64_t opening_consumer = 0; // a SUBSCRIBE's consumer, forgotten if the core refuses it
  };

  // Turns one frame into commands on pending_ (a refusal ends the connection).
  void take_frame(stomp_frame& frame);
  void take_connect(stomp_frame& frame);
  void take_send(stomp_frame& frame);
  void take_subscribe(stomp_frame& frame);
  void take_unsubscribe(stomp_frame& frame);
  void take_ack(stomp_frame& frame, bool reject);
  void take_disconnect(stomp_frame& frame);
  // BEGIN, COMMIT and ABORT (STOMP 1.2: the `transaction` header names the transaction).
  void take_transaction(stomp_frame& frame);

  // A request id for the frame's command: a fresh one if it asked for a receipt (or `always`),
  // else 0.
  uint64_t request_for(const stomp_frame& frame, bool always = false,
                       uint64_t opening_consumer = 0);
  void refuse(const stomp_frame& frame, error_code code, std::string text);
  void push(uint64_t request_id, command_body body);

  void encode_connected(const connected_event& c, std::string& out);
  result<void> encode_message(const delivery_event& d, std::string& out);
  void encode_error(const error_event& e, const std::string& receipt, std::string& out);

  codec_limits limits_;
  stomp_options options_;
  stomp_parser parser_;
  stomp_frame frame_; // reused between frames
  std::deque<command> pending_;
  bool failed_ = false;
  bool connected_ = false;
  bool version_refused_ = false; // the next ERROR lists the versions this node speaks
  stomp_version version_ = stomp_version::v1_0;
  uint32_t client_heartbeat_ms_ = 0;
  uint32_t wanted_heartbeat_ms_ = 0;
  uint64_t next_request_ = 1;
  uint64_t next_consumer_ = 1;
  std::unordered_map<uint64_t, pending_request> requests_;
  std::map<uint64_t, subscription> subscriptions_;           // by consumer id
  std::unordered_map<std::string, uint64_t> consumer_of_id_; // the client's id -> consumer id
  stomp_frame out_;                                          // reused between events
  // The connection id temporary destinations are named after (session_codec.hpp): the
  // CONNECT's client-id, else the one the node gave.
  std::string default_connection_id_;
  std::string connection_id_;
  std::unordered_map<std::string, std::string> short_temporary_names_; // URI -> "/temp-queue/x"
};

} // namespace actormq::protocol
