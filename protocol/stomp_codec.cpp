#include "protocol/stomp_codec.hpp"

#include "protocol/destination.hpp"
#include "protocol/envelope.hpp"
#include "protocol/frame_codec.hpp"
#include "protocol/protobuf_codec.hpp"
#include "protocol/quoted.hpp"
#include "protocol/uri.hpp"

#include <google/protobuf/stubs/common.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <chrono>
#include <unordered_set>

namespace actormq::protocol {

namespace {

// Headers with a meaning of their own in SEND or MESSAGE frames: never message properties.
constexpr std::array<std::string_view, 15> reserved_headers{
    "destination", "content-length", "receipt",     "transaction",    "persistent",
    "priority",    "expires",        "timestamp",   "correlation-id", "reply-to",
    "type",        "message-id",     "redelivered", "subscription",   "ack"};

std::string lower(std::string s) {
  for (auto& c : s)
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

bool parse_digits(std::string_view text, uint64_t max, uint64_t& out) {
  if (text.empty() || text.size() > 19)
    return false;
  uint64_t n = 0;
  for (char c : text) {
    if (c < '0' || c > '9')
      return false;
    n = n * 10 + static_cast<uint64_t>(c - '0');
  }
  if (n > max)
    return false;
  out = n;
  return true;
}

// "1000,5000" -> 1000 and 5000.
bool parse_heart_beat(std::string_view text, uint32_t& send_ms, uint32_t& receive_ms) {
  auto comma = text.find(',');
  if (comma == std::string_view::npos)
    return false;
  uint64_t a = 0;
  uint64_t b = 0;
  if (!parse_digits(text.substr(0, comma), UINT32_MAX, a) ||
      !parse_digits(text.substr(comma + 1), UINT32_MAX, b))
    return false;
  send_ms = static_cast<uint32_t>(a);
  receive_ms = static_cast<uint32_t>(b);
  return true;
}

// The highest version in an accept-version list this node speaks; false if none.
bool negotiate(std::string_view accepted, stomp_version& out) {
  bool found = false;
  while (!accepted.empty()) {
    auto comma = accepted.find(',');
    auto token = accepted.substr(0, comma);
    accepted = comma == std::string_view::npos ? std::string_view{} : accepted.substr(comma + 1);
    while (!token.empty() && token.front() == ' ')
      token.remove_prefix(1);
    while (!token.empty() && token.back() == ' ')
      token.remove_suffix(1);
    for (auto v : {stomp_version::v1_0, stomp_version::v1_1, stomp_version::v1_2})
      if (token == to_string(v) && (!found || v > out)) {
        out = v;
        found = true;
      }
  }
  return found;
}

error_code error_of(std::error_code ec) {
  if (ec == codec_errc::frame_too_large)
    return error_code::frame_too_large;
  if (ec == codec_errc::unknown_command)
    return error_code::unknown_command;
  return error_code::malformed_frame;
}

// Protobuf's own test, so that what passes here is what Protobuf encodes as a string field.
bool is_utf8(std::string_view text) {
  return google::protobuf::internal::IsStructurallyValidUTF8(text.data(),
                                                             static_cast<int>(text.size()));
}

int64_t system_now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

} // namespace

bool is_stomp_message_header(std::string_view name) {
  return std::find(reserved_headers.begin(), reserved_headers.end(), name) !=
         reserved_headers.end();
}

std::string stomp_ack_id(uint64_t consumer_id, uint64_t key) {
  return std::to_string(consumer_id) + "-" + std::to_string(key);
}

bool parse_stomp_ack_id(std::string_view text, uint64_t& consumer_id, uint64_t& key) {
  auto dash = text.find('-');
  return dash != std::string_view::npos &&
         parse_digits(text.substr(0, dash), UINT64_MAX, consumer_id) &&
         parse_digits(text.substr(dash + 1), UINT64_MAX, key);
}

stomp_codec::stomp_codec(const codec_limits& limits, stomp_options options)
    : limits_(limits), options_(std::move(options)),
      parser_(stomp_frame_limits{limits.max_frame_bytes, options_.max_headers,
                                 options_.max_header_line_bytes}) {
  if (!options_.now_ms)
    options_.now_ms = system_now_ms;
}

void stomp_codec::feed(const char* data, size_t size) {
  if (!failed_)
    parser_.feed(data, size);
}

bool stomp_codec::next(command& out) {
  while (pending_.empty()) {
    if (failed_)
      return false;
    auto r = parser_.next(frame_);
    if (!r) {
      failed_ = true;
      push(0, refused_command{error_of(r.code()), r.message(), true, ""});
      break;
    }
    if (!*r)
      return false;
    take_frame(frame_);
  }
  out = std::move(pending_.front());
  pending_.pop_front();
  return true;
}

void stomp_codec::push(uint64_t request_id, command_body body) {
  pending_.push_back(command{request_id, std::move(body)});
}

uint64_t stomp_codec::request_for(const stomp_frame& frame, bool always,
                                  uint64_t opening_consumer) {
  auto* receipt = frame.header("receipt");
  if (!receipt && !always)
    return 0;
  auto id = next_request_++;
  requests_[id] = pending_request{receipt ? *receipt : std::string{}, opening_consumer};
  return id;
}

void stomp_codec::refuse(const stomp_frame& frame, error_code code, std::string text) {
  failed_ = true;
  push(request_for(frame), refused_command{code, std::move(text), true, lower(frame.command)});
}

void stomp_codec::take_frame(stomp_frame& frame) {
  auto& cmd = frame.command;
  if (cmd == "CONNECT" || cmd == "STOMP")
    return take_connect(frame);
  if (!connected_)
    return refuse(frame, error_code::not_connected,
                  "a " + cmd + " frame before CONNECT: the first frame must be CONNECT or STOMP");
  if (cmd == "SEND")
    return take_send(frame);
  if (cmd == "SUBSCRIBE")
    return take_subscribe(frame);
  if (cmd == "UNSUBSCRIBE")
    return take_unsubscribe(frame);
  if (cmd == "ACK" || cmd == "NACK")
    return take_ack(frame, cmd == "NACK");
  if (cmd == "DISCONNECT")
    return take_disconnect(frame);
  if (cmd == "BEGIN" || cmd == "COMMIT" || cmd == "ABORT")
    return take_transaction(frame);
  // CONNECTED, MESSAGE, RECEIPT, ERROR: the parser knows no other commands.
  failed_ = true;
  push(0, unexpected_command{cmd});
}

void stomp_codec::take_connect(stomp_frame& frame) {
  if (connected_)
    return refuse(frame, error_code::unknown_command, frame.command + " sent twice");
  auto version = stomp_version::v1_0;
  if (auto* accepted = frame.header("accept-version"); accepted && !negotiate(*accepted, version)) {
    version_refused_ = true;
    return refuse(frame, error_code::protocol_version,
                  "none of the versions " + quoted(*accepted) +
                      " the client accepts is spoken here (1.0, 1.1, 1.2)");
  }
  connect_command c;
  if (auto* hb = frame.header("heart-beat");
      hb && version != stomp_version::v1_0 &&
      !parse_heart_beat(*hb, c.client_heartbeat_ms, c.wanted_heartbeat_ms))
    return refuse(frame, error_code::invalid_field,
                  "heart-beat " + quoted(*hb) +
                      " is not two numbers of milliseconds (\"send,receive\", e.g. 10000,10000)");
  if (auto* v = frame.header("client-id"))
    c.client_id = *v;
  connection_id_ = c.client_id;
  if (auto* v = frame.header("login"))
    c.user = *v;
  if (auto* v = frame.header("passcode"))
    c.password = *v;
  version_ = version;
  parser_.set_version(version);
  connected_ = true;
  client_heartbeat_ms_ = c.client_heartbeat_ms;
  wanted_heartbeat_ms_ = c.wanted_heartbeat_ms;
  // A receipt header on CONNECT has no meaning: CONNECTED answers it.
  auto request = next_request_++;
  requests_[request] = pending_request{};
  push(request, std::move(c));
}

void stomp_codec::take_send(stomp_frame& frame) {
  auto* dest = frame.header("destination");
  if (!dest)
    return refuse(frame, error_code::bad_destination, "SEND without a destination header");
  auto uri = destination_uri(*dest, stomp_destination_use::send);
  if (!uri)
    return refuse(frame, error_code::bad_destination, "SEND: " + uri.message());
  send_command send;
  if (auto* transaction = frame.header("transaction"))
    send.transaction_id = *transaction;
  auto& e = send.message;
  e.set_destination(*uri);
  e.set_priority(default_priority);
  e.set_timestamp_ms(options_.now_ms());
  // ActiveMQ's rule: a body with a content-length is bytes, one without is text.
  e.set_body_type(frame.has_content_length ? store::BODY_BYTES : store::BODY_TEXT);
  // Headers become the envelope's string fields, which Protobuf only encodes and decodes as
  // UTF-8: a message stored with other bytes could not be read back.
  for (auto& h : frame.headers)
    if (!is_utf8(h.name) || !is_utf8(h.value))
      return refuse(frame, error_code::invalid_field,
                    "SEND: header " + quoted(h.name) + " is not UTF-8 text (STOMP headers are)");
  std::unordered_set<std::string_view> seen;
  for (auto& h : frame.headers) {
    if (!seen.insert(h.name).second)
      continue; // a repeated header: the first counts
    auto& v = h.value;
    uint64_t n = 0;
    if (h.name == "persistent") {
      auto flag = lower(v);
      if (flag != "true" && flag != "false")
        return refuse(frame, error_code::invalid_field,
                      "SEND: persistent " + quoted(v) + " is neither true nor false");
      e.set_persistent(flag == "true");
    } else if (h.name == "priority") {
      if (!parse_digits(v, max_priority, n))
        return refuse(frame, error_code::invalid_field,
                      "SEND: priority " + quoted(v) + " is not a number from 0 to 9");
      e.set_priority(static_cast<int32_t>(n));
    } else if (h.name == "expires") {
      if (!parse_digits(v, INT64_MAX, n))
        return refuse(frame, error_code::invalid_field,
                      "SEND: expires " + quoted(v) +
                          " is not a time in milliseconds since the epoch (0: never)");
      e.set_expiration_ms(static_cast<int64_t>(n));
    } else if (h.name == "correlation-id") {
      e.set_correlation_id(v);
    } else if (h.name == "reply-to") {
      auto reply = destination_uri(v, stomp_destination_use::send);
      if (!reply)
        return refuse(frame, error_code::bad_destination, "SEND: reply-to: " + reply.message());
      e.set_reply_to(*reply);
    } else if (h.name == "type") {
      e.set_type(v);
    } else if (!is_stomp_message_header(h.name)) {
      (*e.mutable_properties())[h.name] = v;
    }
  }
  e.set_body(std::move(frame.body));
  encode_envelope(e, send.encoded);
  auto limit = max_message_bytes(limits_.max_frame_bytes);
  if (send.encoded.size() > limit)
    return refuse(frame, error_code::frame_too_large,
                  "SEND: a message of " + std::to_string(send.encoded.size()) +
                      " bytes (body and headers) is over this node's maximum of " +
                      std::to_string(limit) + " bytes");
  push(request_for(frame), std::move(send));
}

void stomp_codec::take_subscribe(stomp_frame& frame) {
  auto* dest = frame.header("destination");
  if (!dest)
    return refuse(frame, error_code::bad_destination, "SUBSCRIBE without a destination header");
  auto uri = destination_uri(*dest, stomp_destination_use::subscribe);
  if (!uri)
    return refuse(frame, error_code::bad_destination, "SUBSCRIBE: " + uri.message());
  auto* id = frame.header("id");
  if (!id && version_ != stomp_version::v1_0)
    return refuse(frame, error_code::invalid_field,
                  "SUBSCRIBE without an id header (STOMP 1.1 and 1.2 need one)");
  std::string sub_id = id ? *id : *dest; // STOMP 1.0: the destination names the subscription
  if (consumer_of_id_.count(sub_id))
    return refuse(frame, error_code::invalid_field,
                  "SUBSCRIBE: subscription id " + quoted(sub_id) + " is already in use");
  open_consumer_command open;
  open.destination = *uri;
  if (auto* selector = frame.header("selector")) {
    open.selector = *selector;
    // STOMP's properties are all strings: as in ActiveMQ, its selectors compare them as numbers
    // where the other side is one.
    open.convert_string_expressions = true;
  }
  // ActiveMQ's durable topic subscription: the name, under the CONNECT's client-id.
  if (auto* name = frame.header("activemq.subscriptionName")) {
    open.durable = true;
    open.subscription_name = *name;
  }
  if (auto* ack = frame.header("ack")) {
    if (*ack == "client")
      open.mode = ack_mode::client;
    else if (*ack == "client-individual")
      open.mode = ack_mode::individual;
    else if (*ack != "auto")
      return refuse(frame, error_code::invalid_field,
                    "SUBSCRIBE: ack " + quoted(*ack) + " is not auto, client or client-individual");
  }
  open.node_acks = open.mode == ack_mode::auto_ack;
  uint64_t n = 0;
  if (auto* prefetch = frame.header("activemq.prefetchSize")) {
    if (!parse_digits(*prefetch, UINT32_MAX, n))
      return refuse(frame, error_code::invalid_field,
                    "SUBSCRIBE: activemq.prefetchSize " + quoted(*prefetch) +
                        " is not a number of messages");
    open.prefetch = static_cast<uint32_t>(n);
  }
  if (auto* priority = frame.header("activemq.priority")) {
    if (!parse_digits(*priority, 127, n))
      return refuse(frame, error_code::invalid_field,
                    "SUBSCRIBE: activemq.priority " + quoted(*priority) +
                        " is not a number from 0 to 127");
    open.priority = static_cast<int32_t>(n);
  }
  // ActiveMQ's exclusive consumer (docs/groups.md).
  if (auto* exclusive = frame.header("activemq.exclusive"))
    open.exclusive = *exclusive == "true";
  open.consumer_id = next_consumer_++;
  subscriptions_[open.consumer_id] = subscription{sub_id, open.mode, {}};
  consumer_of_id_[sub_id] = open.consumer_id;
  push(request_for(frame, true, open.consumer_id), std::move(open));
}

void stomp_codec::take_unsubscribe(stomp_frame& frame) {
  // ActiveMQ's removal of a durable subscription (with what it holds): its consumer on this
  // connection, if the id names one, is closed first.
  if (auto* name = frame.header("activemq.subscriptionName")) {
    if (auto* id = frame.header("id"))
      if (auto i = consumer_of_id_.find(*id); i != consumer_of_id_.end()) {
        auto consumer = i->second;
        consumer_of_id_.erase(i);
        subscriptions_.erase(consumer);
        push(0, close_consumer_command{consumer});
      }
    push(request_for(frame), unsubscribe_command{*name});
    return;
  }
  auto* id = frame.header("id");
  if (!id && version_ == stomp_version::v1_0)
    id = frame.header("destination");
  if (!id)
    return refuse(frame, error_code::invalid_field,
                  version_ == stomp_version::v1_0
                      ? "UNSUBSCRIBE without an id or destination header"
                      : "UNSUBSCRIBE without an id header");
  auto i = consumer_of_id_.find(*id);
  if (i == consumer_of_id_.end())
    return refuse(frame, error_code::unknown_consumer,
                  "UNSUBSCRIBE: no subscription " + quoted(*id) + " on this connection");
  auto consumer = i->second;
  consumer_of_id_.erase(i);
  subscriptions_.erase(consumer);
  push(request_for(frame), close_consumer_command{consumer});
}

void stomp_codec::take_ack(stomp_frame& frame, bool reject) {
  auto& cmd = frame.command;
  // STOMP 1.2 names the delivery by the MESSAGE's ack header (`id`); 1.0 and 1.1 by its
  // message-id, and 1.1 adds the subscription.
  auto* ack_id = frame.header("id");
  auto* message_id = frame.header("message-id");
  auto* sub_id = frame.header("subscription");
  if (!ack_id && !message_id)
    return refuse(frame, error_code::invalid_field,
                  cmd + " without " +
                      (version_ == stomp_version::v1_2 ? "an id header" : "a message-id header"));
  subscription* sub = nullptr;
  uint64_t consumer = 0;
  size_t index = 0;
  auto find_in = [&](uint64_t c, subscription& s, auto&& match) {
    for (size_t j = 0; j < s.unacked.size(); ++j)
      if (match(s.unacked[j])) {
        sub = &s;
        consumer = c;
        index = j;
        return true;
      }
    return false;
  };
  if (ack_id) {
    uint64_t c = 0;
    uint64_t key = 0;
    if (parse_stomp_ack_id(*ack_id, c, key))
      if (auto i = subscriptions_.find(c); i != subscriptions_.end())
        find_in(c, i->second, [key](const unacked_delivery& u) { return u.key == key; });
  } else {
    auto match = [message_id](const unacked_delivery& u) { return u.message_id == *message_id; };
    if (sub_id) {
      if (auto i = consumer_of_id_.find(*sub_id); i != consumer_of_id_.end())
        if (auto j = subscriptions_.find(i->second); j != subscriptions_.end())
          find_in(j->first, j->second, match);
    } else {
      for (auto& [c, s] : subscriptions_)
        if (find_in(c, s, match))
          break;
    }
  }
  if (!sub) {
    std::string what = ack_id ? "id " + quoted(*ack_id) : "message-id " + quoted(*message_id);
    return refuse(frame, error_code::unknown_delivery,
                  cmd + " for an unknown " + what +
                      ": no unacknowledged message of a client or client-individual "
                      "subscription has it (acknowledged already, never delivered, or its "
                      "subscription acknowledges automatically)");
  }
  // A `client` subscription's ACK (and NACK) covers every earlier delivery too.
  size_t first = sub->mode == ack_mode::client ? 0 : index;
  ack_command ack;
  ack.consumer_id = consumer;
  ack.reject = reject;
  if (auto* transaction = frame.header("transaction"))
    ack.transaction_id = *transaction;
  for (size_t j = first; j <= index; ++j)
    ack.delivery_keys.push_back(sub->unacked[j].key);
  sub->unacked.erase(sub->unacked.begin() + static_cast<std::ptrdiff_t>(first),
                     sub->unacked.begin() + static_cast<std::ptrdiff_t>(index) + 1);
  auto credit = static_cast<uint32_t>(ack.delivery_keys.size());
  push(request_for(frame), std::move(ack));
  push(0, credit_command{consumer, credit});
}

void stomp_codec::take_transaction(stomp_frame& frame) {
  auto& cmd = frame.command;
  auto* transaction = frame.header("transaction");
  if (!transaction || transaction->empty())
    return refuse(frame, error_code::invalid_field, cmd + " without a transaction header");
  auto request = request_for(frame);
  if (cmd == "BEGIN")
    push(request, begin_command{*transaction});
  else if (cmd == "COMMIT")
    push(request, commit_command{*transaction});
  else
    push(request, rollback_command{*transaction});
}

void stomp_codec::take_disconnect(stomp_frame& frame) {
  // Nothing after DISCONNECT is read.
  failed_ = true;
  push(request_for(frame), disconnect_command{});
}

} // namespace actormq::protocol
