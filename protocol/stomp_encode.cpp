#include "protocol/stomp_codec.hpp"

#include "protocol/destination.hpp"
#include "protocol/envelope.hpp"
#include "protocol/frame_codec.hpp"
#include "protocol/quoted.hpp"

#include <map>

#ifndef ACTORMQ_VERSION
#define ACTORMQ_VERSION "unknown"
#endif

namespace actormq::protocol {

namespace {

const char* error_name(error_code code) {
  switch (code) {
  case error_code::none:
    return "none";
  case error_code::malformed_frame:
    return "malformed_frame";
  case error_code::frame_too_large:
    return "frame_too_large";
  case error_code::unknown_command:
    return "unknown_command";
  case error_code::protocol_version:
    return "protocol_version";
  case error_code::not_connected:
    return "not_connected";
  case error_code::bad_destination:
    return "bad_destination";
  case error_code::limit_exceeded:
    return "limit_exceeded";
  case error_code::store_full:
    return "store_full";
  case error_code::store_failed:
    return "store_failed";
  case error_code::unknown_consumer:
    return "unknown_consumer";
  case error_code::unknown_delivery:
    return "unknown_delivery";
  case error_code::shutting_down:
    return "shutting_down";
  case error_code::authentication:
    return "authentication";
  case error_code::internal:
    return "internal";
  case error_code::timeout:
    return "timeout";
  case error_code::invalid_field:
    return "invalid_field";
  case error_code::unknown_transaction:
    return "unknown_transaction";
  case error_code::transaction_rolled_back:
    return "transaction_rolled_back";
  }
  return "internal";
}

// The MESSAGE's message-id: the producer's id of the message if it gave one, else the node's
// origin identity (the same on every delivery of the message).
std::string message_id_of(const envelope& e, const delivery_event& d) {
  if (!e.message_id().empty())
    return e.message_id();
  if (!e.origin_store_id().empty())
    return "ID:" + e.origin_store_id() + ":" + std::to_string(e.origin_sequence());
  return "ID:" + std::to_string(d.consumer_id) + "-" + std::to_string(d.delivery_key);
}

} // namespace

std::string stomp_destination_of(const std::string& uri) {
  if (uri.find("://") == std::string::npos)
    return uri;
  auto d = parse_destination(uri);
  if (!d)
    return uri;
  return "/" + std::string(scheme_of(d->kind)) + "/" + d->name;
}

result<void> stomp_codec::encode(uint64_t request_id, const event& ev, std::string& out) {
  // The request this event answers, if the codec made one: its receipt, and a SUBSCRIBE's
  // consumer.
  pending_request answered;
  if (request_id != 0 && !std::holds_alternative<delivery_event>(ev)) {
    if (auto i = requests_.find(request_id); i != requests_.end()) {
      answered = std::move(i->second);
      requests_.erase(i);
    }
  }
  if (auto* c = std::get_if<connected_event>(&ev)) {
    encode_connected(*c, out);
  } else if (std::holds_alternative<receipt_event>(ev)) {
    if (answered.receipt.empty())
      return {};
    out_.clear();
    out_.command = "RECEIPT";
    out_.add("receipt-id", answered.receipt);
    append_stomp_frame(out_, version_, out);
  } else if (auto* e = std::get_if<error_event>(&ev)) {
    if (answered.opening_consumer != 0) {
      if (auto i = subscriptions_.find(answered.opening_consumer); i != subscriptions_.end()) {
        consumer_of_id_.erase(i->second.id);
        subscriptions_.erase(i);
      }
    }
    encode_error(*e, answered.receipt, out);
  } else if (auto* d = std::get_if<delivery_event>(&ev)) {
    return encode_message(*d, out);
  } else if (std::holds_alternative<heartbeat_event>(ev)) {
    if (connected_ && version_ != stomp_version::v1_0 && wanted_heartbeat_ms_ > 0)
      out.push_back('\n');
  } else {
    return {codec_errc::encode_failed, std::holds_alternative<browse_reply_event>(ev)
                                           ? "STOMP has no frame for a browse reply"
                                           : "STOMP has no frame for a stats reply"};
  }
  return {};
}

void stomp_codec::encode_connected(const connected_event& c, std::string& out) {
  out_.clear();
  out_.command = "CONNECTED";
  out_.add("version", to_string(version_));
  if (version_ != stomp_version::v1_0) {
    // The node sends heartbeats every heartbeat_ms (only if the client wants them) and closes a
    // connection silent for inactivity_timeout_ms: the client is asked to send twice as often.
    uint32_t send = wanted_heartbeat_ms_ > 0 ? c.heartbeat_ms : 0;
    out_.add("heart-beat",
             std::to_string(send) + "," + std::to_string(c.inactivity_timeout_ms / 2));
  }
  out_.add("server", std::string("ActorMQ/") + ACTORMQ_VERSION);
  out_.add("session", std::to_string(c.session_id));
  append_stomp_frame(out_, version_, out);
}

void stomp_codec::encode_error(const error_event& e, const std::string& receipt, std::string& out) {
  out_.clear();
  out_.command = "ERROR";
  if (version_refused_)
    out_.add("version", "1.0,1.1,1.2");
  if (!receipt.empty())
    out_.add("receipt-id", receipt);
  // The message header is the text's first line, shortened; the body holds all of it.
  auto line = e.text.substr(0, e.text.find('\n'));
  if (line.size() > 256)
    line = line.substr(0, 253) + "...";
  out_.add("message", line);
  out_.add("code", error_name(e.code));
  out_.add("content-type", "text/plain");
  out_.add("content-length", std::to_string(e.text.size()));
  out_.body = e.text;
  append_stomp_frame(out_, version_, out);
}

result<void> stomp_codec::encode_message(const delivery_event& d, std::string& out) {
  auto s = subscriptions_.find(d.consumer_id);
  if (s == subscriptions_.end())
    return {codec_errc::encode_failed, "a delivery for consumer " + std::to_string(d.consumer_id) +
                                           ", which has no subscription on this connection"};
  envelope e;
  if (!decode_envelope(d.envelope, e))
    return {codec_errc::encode_failed, "a delivery of " + std::to_string(d.envelope.size()) +
                                           " bytes for subscription " + quoted(s->second.id) +
                                           " is not an envelope"};
  auto& sub = s->second;
  auto message_id = message_id_of(e, d);
  out_.clear();
  out_.command = "MESSAGE";
  out_.add("destination", stomp_destination(e.destination()));
  out_.add("message-id", message_id);
  out_.add("subscription", sub.id);
  if (sub.mode != ack_mode::auto_ack) {
    if (version_ == stomp_version::v1_2)
      out_.add("ack", stomp_ack_id(d.consumer_id, d.delivery_key));
    sub.unacked.push_back({d.delivery_key, message_id});
  }
  if (e.persistent())
    out_.add("persistent", "true");
  out_.add("priority", std::to_string(e.priority()));
  out_.add("expires", std::to_string(e.expiration_ms()));
  out_.add("timestamp", std::to_string(e.timestamp_ms()));
  if (!e.correlation_id().empty())
    out_.add("correlation-id", e.correlation_id());
  if (!e.reply_to().empty())
    out_.add("reply-to", stomp_destination(e.reply_to()));
  if (!e.type().empty())
    out_.add("type", e.type());
  if (d.redelivered)
    out_.add("redelivered", "true");
  // Properties in name order (Protobuf maps have none); a name STOMP cannot write (a NUL; in 1.0
  // a colon or line break) is left out, as is one that would read as a header of the frame.
  std::map<std::string, std::string> properties;
  for (auto& [name, value] : e.properties())
    properties.emplace(name, value);
  for (auto& [name, value] : e.typed_properties())
    properties.emplace(name, property_text(value));
  for (auto& [name, value] : properties) {
    if (name.empty() || is_stomp_message_header(name))
      continue;
    if (name.find('\0') != std::string::npos ||
        (version_ == stomp_version::v1_0 && name.find_first_of(":\r\n") != std::string::npos))
      continue;
    out_.add(name, value);
  }
  out_.add("content-length", std::to_string(e.body().size()));
  out_.body = std::move(*e.mutable_body());
  append_stomp_frame(out_, version_, out);
  return {};
}

} // namespace actormq::protocol
