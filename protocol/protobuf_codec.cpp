#include "protocol/protobuf_codec.hpp"

#include "protocol/varint.hpp"
#include "protocol/wire_envelope.hpp"

namespace actormq::protocol {

namespace {

refused_command refusal(error_code code, std::string text, bool fatal, const char* name = "") {
  return refused_command{code, std::move(text), fatal, name};
}

error_code decode_error(std::error_code ec) {
  if (ec == codec_errc::frame_too_large)
    return error_code::frame_too_large;
  if (ec == codec_errc::unknown_command)
    return error_code::unknown_command;
  return error_code::malformed_frame;
}

command_body send_command_of(wire::Send& send, uint32_t max_frame_bytes) {
  auto& m = *send.mutable_message();
  // The node sets the origin identity; a message's size is counted without it.
  m.clear_origin_store_id();
  m.clear_origin_sequence();
  auto limit = max_message_bytes(max_frame_bytes);
  if (auto size = m.ByteSizeLong(); size > limit)
    return refusal(error_code::frame_too_large,
                   "a message of " + std::to_string(size) +
                       " bytes is over this node's maximum of " + std::to_string(limit) +
                       " bytes (limits.max_frame_bytes less " +
                       std::to_string(dispatch_overhead_bytes) + " bytes for a dispatch's header)",
                   false, "send");
  send_command out;
  // Fields a client sent that this protocol does not have could read as envelope fields (15 and
  // up); they go. What is left is an envelope's encoding as it is (wire_envelope.hpp).
  if (!m.GetReflection()->GetUnknownFields(m).empty())
    m.DiscardUnknownFields();
  m.SerializeToString(&out.encoded);
  to_envelope(m, out.message);
  out.transaction_id = send.transaction_id();
  return out;
}

command_body open_command_of(const wire::OpenConsumer& open) {
  if (!wire::AckMode_IsValid(open.ack_mode()))
    return refusal(error_code::invalid_field,
                   "ack_mode " + std::to_string(open.ack_mode()) +
                       " is unknown (0 auto, 1 client, 2 individual)",
                   false, "open_consumer");
  open_consumer_command out;
  out.consumer_id = open.consumer_id();
  out.destination = open.destination();
  out.prefetch = open.prefetch();
  out.mode = static_cast<ack_mode>(open.ack_mode());
  out.priority = open.priority();
  out.exclusive = open.exclusive();
  out.durable = open.durable();
  out.subscription_name = open.subscription_name();
  out.selector = open.selector();
  return out;
}

wire::ErrorCode wire_error(error_code code) {
  auto n = static_cast<int>(code);
  return wire::ErrorCode_IsValid(n) ? static_cast<wire::ErrorCode>(n) : wire::ERROR_INTERNAL;
}

// False if the stored envelope does not decode (the message is then left empty).
bool fill_dispatch(const delivery_event& d, wire::Dispatch& out) {
  out.set_consumer_id(d.consumer_id);
  out.set_delivery_key(d.delivery_key);
  out.set_redelivered(d.redelivered);
  out.set_delivery_count(d.delivery_count);
  envelope e;
  if (!decode_envelope(d.envelope, e))
    return false;
  to_wire(e, *out.mutable_message());
  return true;
}

// A BrowseReply with as many of the messages as fit in one frame.
void fill_browse_reply(const browse_reply_event& ev, uint32_t max_frame_bytes,
                       wire::BrowseReply& reply) {
  reply.set_pending(ev.pending);
  // The frame's correlation id, the reply's tag and length, and `pending` take at most 28 bytes.
  constexpr size_t reply_header_bytes = 32;
  size_t room = max_frame_bytes - reply_header_bytes;
  for (auto& d : ev.messages) {
    wire::Dispatch item;
    (void)fill_dispatch(d, item);
    item.clear_consumer_id();
    auto size = item.ByteSizeLong() + 6; // the field's tag and length
    if (size > room)
      break;
    room -= size;
    *reply.add_messages() = std::move(item);
  }
}

void fill_frame(const event& ev, uint32_t max_frame_bytes, wire::Frame& f) {
  struct visitor {
    wire::Frame& f;
    uint32_t max_frame_bytes;
    void operator()(const connected_event& c) {
      auto* out = f.mutable_connected();
      out->set_protocol_version(wire::PROTOCOL_VERSION_1);
      out->set_node_name(c.node_name);
      out->set_store_id(c.store_id);
      out->set_session_id(c.session_id);
      out->set_heartbeat_ms(c.heartbeat_ms);
      out->set_inactivity_timeout_ms(c.inactivity_timeout_ms);
      for (auto& uri : c.failover_uris)
        out->add_failover_uris(uri);
    }
    void operator()(const receipt_event& r) {
      f.mutable_receipt()->set_count(r.count);
      f.mutable_receipt()->set_duplicates(r.duplicates);
    }
    void operator()(const error_event& e) {
      f.mutable_error()->set_code(wire_error(e.code));
      f.mutable_error()->set_message(e.text);
    }
    void operator()(const delivery_event&) {} // encode() writes a delivery itself
    void operator()(const browse_reply_event& b) {
      fill_browse_reply(b, max_frame_bytes, *f.mutable_browse_reply());
    }
    void operator()(const stats_reply_event& s) {
      auto* reply = f.mutable_stats_reply();
      for (auto& c : s.destinations) {
        auto* d = reply->add_destinations();
        d->set_name(c.name);
        d->set_pending(c.pending);
        d->set_consumers(c.consumers);
        d->set_enqueued(c.enqueued);
        d->set_dequeued(c.dequeued);
        d->set_in_flight(c.in_flight);
        d->set_duplicates_dropped(c.duplicates_dropped);
        d->set_memory_bytes(c.memory_bytes);
        d->set_flow_controlled(c.flow_controlled);
        d->set_discarded(c.discarded);
      }
    }
    void operator()(const heartbeat_event&) { f.mutable_heartbeat(); }
  };
  std::visit(visitor{f, max_frame_bytes}, ev);
}

void append_varint_field(std::string& out, uint32_t field, uint64_t v) {
  append_tag(out, field, wire_type_varint);
  append_varint(out, v);
}

// A Dispatch frame written around the stored bytes as they are, when they are a wire Message's
// encoding (is_wire_message): no parse, no copy but the one into `out`. The fields and their
// order are those Frame::SerializeToString writes.
result<void> append_raw_dispatch(uint64_t request_id, const delivery_event& d,
                                 uint32_t max_frame_bytes, std::string& out) {
  std::string head; // Dispatch up to the message's bytes
  if (d.consumer_id != 0)
    append_varint_field(head, wire::Dispatch::kConsumerIdFieldNumber, d.consumer_id);
  if (d.delivery_key != 0)
    append_varint_field(head, wire::Dispatch::kDeliveryKeyFieldNumber, d.delivery_key);
  if (d.redelivered)
    append_varint_field(head, wire::Dispatch::kRedeliveredFieldNumber, 1);
  if (d.delivery_count != 0)
    append_varint_field(head, wire::Dispatch::kDeliveryCountFieldNumber, d.delivery_count);
  append_tag(head, wire::Dispatch::kMessageFieldNumber, wire_type_length_delimited);
  append_varint(head, d.envelope.size());
  std::string frame_head; // Frame up to the Dispatch's bytes
  if (request_id != 0)
    append_varint_field(frame_head, wire::Frame::kCorrelationIdFieldNumber, request_id);
  append_tag(frame_head, wire::Frame::kDispatchFieldNumber, wire_type_length_delimited);
  append_varint(frame_head, head.size() + d.envelope.size());
  size_t size = frame_head.size() + head.size() + d.envelope.size();
  if (size > max_frame_bytes)
    return {codec_errc::encode_failed, "cannot encode dispatch frame of " + std::to_string(size) +
                                           " bytes: the maximum frame size is " +
                                           std::to_string(max_frame_bytes) + " bytes"};
  out.reserve(out.size() + length_prefix_bytes + size);
  for (int shift = 24; shift >= 0; shift -= 8)
    out.push_back(static_cast<char>((size >> shift) & 0xff));
  out += frame_head;
  out += head;
  out.append(d.envelope.data(), d.envelope.size());
  return {};
}

} // namespace

protobuf_codec::protobuf_codec(const codec_limits& limits)
    : limits_(limits), decoder_(limits.max_frame_bytes) {}

void protobuf_codec::feed(const char* data, size_t size) {
  if (!failed_)
    decoder_.feed(data, size);
}

bool protobuf_codec::next(command& out) {
  if (failed_)
    return false;
  auto r = decoder_.next(frame_);
  if (!r) {
    failed_ = true;
    out.request_id = 0;
    out.body = refusal(decode_error(r.code()), r.message(), true);
    return true;
  }
  if (!*r)
    return false;
  out.request_id = frame_.correlation_id();
  out.body = to_command(frame_);
  // A connect the node cannot take ends the connection: nothing after it is read.
  if (auto* r = std::get_if<refused_command>(&out.body); r && r->fatal)
    failed_ = true;
  return true;
}

command_body protobuf_codec::to_command(wire::Frame& f) {
  switch (f.command_case()) {
  case wire::Frame::kConnect: {
    auto& c = f.connect();
    if (f.correlation_id() == 0)
      return refusal(error_code::invalid_field,
                     "connect needs a non-zero correlation id (the connected answer carries it)",
                     true);
    if (c.protocol_version() != wire::PROTOCOL_VERSION_1)
      return refusal(error_code::protocol_version,
                     "protocol version " + std::to_string(c.protocol_version()) +
                         " is not supported (this node speaks 1)",
                     true);
    return connect_command{c.client_id(), c.user(), c.password()};
  }
  case wire::Frame::kSend:
    return send_command_of(*f.mutable_send(), limits_.max_frame_bytes);
  case wire::Frame::kOpenConsumer:
    return open_command_of(f.open_consumer());
  case wire::Frame::kCloseConsumer:
    return close_consumer_command{f.close_consumer().consumer_id()};
  case wire::Frame::kCredit:
    return credit_command{f.credit().consumer_id(), f.credit().credit()};
  case wire::Frame::kAck: {
    auto& keys = f.ack().delivery_keys();
    ack_command ack;
    ack.consumer_id = f.ack().consumer_id();
    ack.delivery_keys.assign(keys.begin(), keys.end());
    ack.transaction_id = f.ack().transaction_id();
    return ack;
  }
  case wire::Frame::kBeginTransaction:
    return begin_command{f.begin_transaction().transaction_id()};
  case wire::Frame::kCommitTransaction:
    return commit_command{f.commit_transaction().transaction_id()};
  case wire::Frame::kRollbackTransaction:
    return rollback_command{f.rollback_transaction().transaction_id()};
  case wire::Frame::kHeartbeat:
    return heartbeat_command{};
  case wire::Frame::kDisconnect:
    return disconnect_command{};
  case wire::Frame::kBrowse:
    return browse_command{f.browse().destination(), f.browse().max_messages()};
  case wire::Frame::kStatsRequest:
    return stats_command{};
  case wire::Frame::kPurge:
    return purge_command{f.purge().destination()};
  case wire::Frame::kUnsubscribe:
    return unsubscribe_command{f.unsubscribe().subscription_name()};
  case wire::Frame::kRetry:
    return retry_command{f.retry().destination(), f.retry().max_messages()};
  default:
    return unexpected_command{command_name(f)};
  }
}

result<void> protobuf_codec::encode(uint64_t request_id, const event& ev, std::string& out) {
  wire::Frame f;
  f.set_correlation_id(request_id);
  if (auto* d = std::get_if<delivery_event>(&ev)) {
    if (is_wire_message(d->envelope))
      return append_raw_dispatch(request_id, *d, limits_.max_frame_bytes, out);
    // A message the client could not read is not sent as an empty one.
    if (!fill_dispatch(*d, *f.mutable_dispatch()))
      return {codec_errc::unreadable_message, "stored message " + std::to_string(d->delivery_key) +
                                                  " (" + std::to_string(d->envelope.size()) +
                                                  " bytes) does not decode as an envelope"};
    return encode_frame(f, out, limits_.max_frame_bytes);
  }
  fill_frame(ev, limits_.max_frame_bytes, f);
  return encode_frame(f, out, limits_.max_frame_bytes);
}

} // namespace actormq::protocol
