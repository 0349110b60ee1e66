// The Protobuf session codec: frames to commands (with refusals for what a client may not send)
// and events to frames, checked by decoding what it writes with the frame codec.
#include "protocol/envelope.hpp"
#include "protocol/protobuf_codec.hpp"
#include "protocol/session_codec.hpp"
#include "protocol/wire_envelope.hpp"

#include <catch2/catch.hpp>

#include <string>

using namespace actormq;
using namespace actormq::protocol;

namespace {

std::string framed(const wire::Frame& f) {
  std::string out;
  REQUIRE(encode_frame(f, out).ok());
  return out;
}

// The commands the codec makes of `bytes`, fed one byte at a time.
std::vector<command> commands_of(session_codec& codec, const std::string& bytes) {
  std::vector<command> out;
  for (char c : bytes) {
    codec.feed(&c, 1);
    command cmd;
    while (codec.next(cmd))
      out.push_back(std::move(cmd));
  }
  return out;
}

wire::Frame connect_frame(uint64_t corr, wire::ProtocolVersion version = wire::PROTOCOL_VERSION_1) {
  wire::Frame f;
  f.set_correlation_id(corr);
  f.mutable_connect()->set_protocol_version(version);
  f.mutable_connect()->set_client_id("client-a");
  return f;
}

wire::Frame decode_one(const std::string& bytes) {
  frame_decoder d;
  d.feed(bytes.data(), bytes.size());
  wire::Frame f;
  auto r = d.next(f);
  REQUIRE(r.ok());
  REQUIRE(*r);
  CHECK(d.buffered() == 0);
  return f;
}

} // namespace

TEST_CASE("the protocols named actormq and stomp are the Protobuf and STOMP codecs",
          "[protocol][session-codec]") {
  auto codec = make_session_codec("actormq", {});
  REQUIRE(codec);
  CHECK(std::string(codec->protocol()) == "actormq");
  CHECK_FALSE(codec->closes_after_error());
  CHECK_FALSE(codec->negotiates_heartbeats());
  auto stomp = make_session_codec("stomp", {});
  REQUIRE(stomp);
  CHECK(std::string(stomp->protocol()) == "stomp");
  CHECK(stomp->closes_after_error());
  CHECK(stomp->negotiates_heartbeats());
  CHECK(make_session_codec("amqp", {}) == nullptr);
  CHECK(session_protocols() == std::vector<std::string>{"actormq", "stomp", "stomp-ws"});
}

TEST_CASE("frames become commands, whatever the split", "[protocol][session-codec]") {
  protobuf_codec codec({});
  wire::Frame send;
  send.set_correlation_id(7);
  auto& m = *send.mutable_send()->mutable_message();
  m.set_destination("queue://q");
  m.set_body("payload");
  m.set_priority(6);
  m.set_producer_id("p");
  m.set_producer_sequence(2);
  m.set_origin_store_id("forged"); // the node sets it, not the producer
  m.set_origin_sequence(99);
  wire::Frame ack;
  ack.mutable_ack()->set_consumer_id(3);
  ack.mutable_ack()->add_delivery_keys(10);
  ack.mutable_ack()->add_delivery_keys(11);
  wire::Frame open;
  open.set_correlation_id(8);
  open.mutable_open_consumer()->set_consumer_id(3);
  open.mutable_open_consumer()->set_destination("q");
  open.mutable_open_consumer()->set_prefetch(5);
  open.mutable_open_consumer()->set_ack_mode(wire::ACK_MODE_INDIVIDUAL);
  open.mutable_open_consumer()->set_priority(-2);
  auto cmds =
      commands_of(codec, framed(connect_frame(1)) + framed(send) + framed(ack) + framed(open));
  REQUIRE(cmds.size() == 4);
  CHECK(cmds[0].request_id == 1);
  REQUIRE(std::holds_alternative<connect_command>(cmds[0].body));
  CHECK(std::get<connect_command>(cmds[0].body).client_id == "client-a");
  CHECK(cmds[1].request_id == 7);
  auto& e = std::get<send_command>(cmds[1].body).message;
  CHECK(e.destination() == "queue://q");
  CHECK(e.body() == "payload");
  CHECK(e.priority() == 6);
  CHECK(e.producer_sequence() == 2);
  CHECK(e.origin_store_id().empty());
  CHECK(e.origin_sequence() == 0);
  CHECK(cmds[2].request_id == 0);
  auto& a = std::get<ack_command>(cmds[2].body);
  CHECK(a.consumer_id == 3);
  CHECK(a.delivery_keys == std::vector<uint64_t>{10, 11});
  auto& o = std::get<open_consumer_command>(cmds[3].body);
  CHECK(o.consumer_id == 3);
  CHECK(o.destination == "q");
  CHECK(o.prefetch == 5);
  CHECK(o.mode == ack_mode::individual);
  CHECK(o.priority == -2);
  CHECK(codec.buffered() == 0);
}

TEST_CASE("a durable consumer and an unsubscribe become commands", "[protocol][session-codec]") {
  protobuf_codec codec({});
  wire::Frame open;
  open.set_correlation_id(2);
  open.mutable_open_consumer()->set_consumer_id(1);
  open.mutable_open_consumer()->set_destination("topic://prices");
  open.mutable_open_consumer()->set_durable(true);
  open.mutable_open_consumer()->set_subscription_name("s1");
  wire::Frame unsubscribe;
  unsubscribe.set_correlation_id(3);
  unsubscribe.mutable_unsubscribe()->set_subscription_name("s1");
  auto cmds = commands_of(codec, framed(connect_frame(1)) + framed(open) + framed(unsubscribe));
  REQUIRE(cmds.size() == 3);
  auto& o = std::get<open_consumer_command>(cmds[1].body);
  CHECK(o.durable);
  CHECK(o.subscription_name == "s1");
  CHECK(cmds[2].request_id == 3);
  CHECK(std::get<unsubscribe_command>(cmds[2].body).subscription_name == "s1");
  CHECK(std::string(command_name(cmds[2].body)) == "unsubscribe");
}

TEST_CASE("transaction frames and the transaction ids of Send and Ack become commands",
          "[protocol][session-codec]") {
  protobuf_codec codec({});
  wire::Frame begin;
  begin.set_correlation_id(2);
  begin.mutable_begin_transaction()->set_transaction_id("t1");
  wire::Frame send;
  send.mutable_send()->mutable_message()->set_destination("queue://a");
  send.mutable_send()->mutable_message()->set_body("x");
  send.mutable_send()->set_transaction_id("t1");
  wire::Frame ack;
  ack.mutable_ack()->set_consumer_id(4);
  ack.mutable_ack()->add_delivery_keys(9);
  ack.mutable_ack()->set_transaction_id("t1");
  wire::Frame commit;
  commit.set_correlation_id(3);
  commit.mutable_commit_transaction()->set_transaction_id("t1");
  wire::Frame rollback;
  rollback.mutable_rollback_transaction()->set_transaction_id("t2");
  auto cmds = commands_of(codec, framed(connect_frame(1)) + framed(begin) + framed(send) +
                                     framed(ack) + framed(commit) + framed(rollback));
  REQUIRE(cmds.size() == 6);
  CHECK(std::get<begin_command>(cmds[1].body).transaction_id == "t1");
  CHECK(cmds[1].request_id == 2);
  auto& s = std::get<send_command>(cmds[2].body);
  CHECK(s.transaction_id == "t1");
  CHECK(s.message.destination() == "queue://a");
  // The transaction id is the Send's, not the message's: the stored bytes do not carry it.
  CHECK(s.encoded.find("t1") == std::string::npos);
  auto& a = std::get<ack_command>(cmds[3].body);
  CHECK(a.transaction_id == "t1");
  CHECK(a.delivery_keys == std::vector<uint64_t>{9});
  CHECK(std::get<commit_command>(cmds[4].body).transaction_id == "t1");
  CHECK(std::string(command_name(cmds[4].body)) == "commit_transaction");
  CHECK(std::get<rollback_command>(cmds[5].body).transaction_id == "t2");
  CHECK(cmds[5].request_id == 0);
}

TEST_CASE("a connect the node cannot take is refused, fatally", "[protocol][session-codec]") {
  protobuf_codec codec({});
  auto cmds = commands_of(codec, framed(connect_frame(0)));
  REQUIRE(cmds.size() == 1);
  auto& r = std::get<refused_command>(cmds[0].body);
  CHECK(r.fatal);
  CHECK(r.code == error_code::invalid_field);
  protobuf_codec other({});
  cmds = commands_of(other, framed(connect_frame(4, wire::PROTOCOL_VERSION_UNSPECIFIED)));
  REQUIRE(cmds.size() == 1);
  CHECK(cmds[0].request_id == 4); // answered with the connect's id
  CHECK(std::get<refused_command>(cmds[0].body).code == error_code::protocol_version);
}

TEST_CASE("after a connect refused fatally the codec yields nothing more",
          "[protocol][session-codec]") {
  protobuf_codec codec({});
  wire::Frame heartbeat;
  heartbeat.mutable_heartbeat();
  auto cmds = commands_of(codec, framed(connect_frame(0)) + framed(heartbeat));
  REQUIRE(cmds.size() == 1);
  CHECK(std::get<refused_command>(cmds[0].body).fatal);
  CHECK(codec.buffered() == 0);
  auto more = framed(heartbeat);
  codec.feed(more.data(), more.size());
  command cmd;
  CHECK_FALSE(codec.next(cmd));
  CHECK(codec.buffered() == 0);
}

TEST_CASE("a message over the frame limit is refused, the connection goes on",
          "[protocol][session-codec]") {
  codec_limits limits{1024};
  protobuf_codec codec(limits);
  wire::Frame send;
  send.set_correlation_id(3);
  send.mutable_send()->mutable_message()->set_body(std::string(1000, 'x'));
  wire::Frame fits;
  fits.set_correlation_id(4);
  fits.mutable_send()->mutable_message()->set_body(
      std::string(max_message_bytes(1024) - 4, 'y')); // tag 1 byte, length 2, body
  auto cmds = commands_of(codec, framed(send) + framed(fits));
  REQUIRE(cmds.size() == 2);
  auto& r = std::get<refused_command>(cmds[0].body);
  CHECK_FALSE(r.fatal);
  CHECK(r.code == error_code::frame_too_large);
  CHECK(r.name == "send");
  CHECK(std::holds_alternative<send_command>(cmds[1].body));
}

TEST_CASE("an unknown ack mode and a node's own command are refused", "[protocol][session-codec]") {
  protobuf_codec codec({});
  wire::Frame open;
  open.set_correlation_id(2);
  open.mutable_open_consumer()->set_ack_mode(static_cast<wire::AckMode>(7));
  wire::Frame dispatch;
  dispatch.mutable_dispatch()->set_consumer_id(1);
  auto cmds = commands_of(codec, framed(open) + framed(dispatch));
  REQUIRE(cmds.size() == 2);
  auto& r = std::get<refused_command>(cmds[0].body);
  CHECK_FALSE(r.fatal);
  CHECK(r.code == error_code::invalid_field);
  CHECK(r.text == "ack_mode 7 is unknown (0 auto, 1 client, 2 individual)");
  CHECK(std::get<unexpected_command>(cmds[1].body).name == "dispatch");
}

TEST_CASE("malformed input ends the codec with one fatal refusal", "[protocol][session-codec]") {
  protobuf_codec codec({});
  std::string garbage("\x00\x00\x00\x02\xff\xff", 6);
  auto cmds = commands_of(codec, garbage + framed(connect_frame(1)));
  REQUIRE(cmds.size() == 1);
  auto& r = std::get<refused_command>(cmds[0].body);
  CHECK(r.fatal);
  CHECK(r.code == error_code::malformed_frame);
  protobuf_codec small(codec_limits{64});
  std::string huge("\x00\x01\x00\x00", 4);
  cmds = commands_of(small, huge);
  REQUIRE(cmds.size() == 1);
  CHECK(std::get<refused_command>(cmds[0].body).code == error_code::frame_too_large);
}

TEST_CASE("events become frames", "[protocol][session-codec]") {
  protobuf_codec codec({});
  std::string out;
  connected_event c{"node-a", "store", 12, 1000, 3000, {"tcp://127.0.0.1:1"}};
  REQUIRE(codec.encode(5, c, out).ok());
  auto f = decode_one(out);
  CHECK(f.correlation_id() == 5);
  CHECK(f.connected().protocol_version() == wire::PROTOCOL_VERSION_1);
  CHECK(f.connected().node_name() == "node-a");
  CHECK(f.connected().session_id() == 12);
  CHECK(f.connected().failover_uris(0) == "tcp://127.0.0.1:1");

  out.clear();
  REQUIRE(codec.encode(6, error_event{error_code::store_full, "full"}, out).ok());
  f = decode_one(out);
  CHECK(f.error().code() == wire::ERROR_STORE_FULL);
  CHECK(f.error().message() == "full");

  envelope e;
  e.set_destination("queue://q");
  e.set_body("b");
  (*e.mutable_typed_properties())["n"].set_long_value(3);
  std::string stored;
  encode_envelope(e, stored);
  out.clear();
  REQUIRE(codec.encode(0, delivery_event{4, 17, true, 2, stored}, out).ok());
  f = decode_one(out);
  CHECK(f.dispatch().consumer_id() == 4);
  CHECK(f.dispatch().delivery_key() == 17);
  CHECK(f.dispatch().redelivered());
  CHECK(f.dispatch().delivery_count() == 2);
  CHECK(f.dispatch().message().body() == "b");
  CHECK(f.dispatch().message().typed_properties().at("n").long_value() == 3);

  out.clear();
  REQUIRE(codec.encode(0, heartbeat_event{}, out).ok());
  CHECK(decode_one(out).has_heartbeat());
}

TEST_CASE("a browse reply holds what fits in one frame", "[protocol][session-codec]") {
  protobuf_codec codec(codec_limits{1024});
  envelope e;
  e.set_body(std::string(300, 'z'));
  std::string stored;
  encode_envelope(e, stored);
  browse_reply_event reply;
  reply.pending = 10;
  for (uint64_t k = 1; k <= 10; ++k)
    reply.messages.push_back(delivery_event{0, k, false, 1, stored});
  std::string out;
  REQUIRE(codec.encode(9, reply, out).ok());
  CHECK(out.size() <= 1024 + length_prefix_bytes);
  auto f = decode_one(out);
  CHECK(f.browse_reply().pending() == 10);
  REQUIRE(f.browse_reply().messages_size() == 3);
  CHECK(f.browse_reply().messages(2).delivery_key() == 3);
}

TEST_CASE("a delivery of a wire-compatible envelope is framed around its bytes as they are",
          "[protocol][session-codec]") {
  wire::Message m;
  m.set_destination("queue://q");
  m.set_body(std::string(3000, 'b'));
  m.set_priority(7);
  (*m.mutable_properties())["k"] = "v";
  m.set_correlation_id("c");
  auto stored = m.SerializeAsString();
  REQUIRE(is_wire_message(stored));
  protobuf_codec codec({});
  for (uint64_t request : {uint64_t{0}, uint64_t{300}}) {
    std::string out;
    REQUIRE(codec.encode(request, delivery_event{5, 1ull << 40, true, 3, stored}, out).ok());
    wire::Frame expected;
    expected.set_correlation_id(request);
    auto* d = expected.mutable_dispatch();
    d->set_consumer_id(5);
    d->set_delivery_key(1ull << 40);
    d->set_redelivered(true);
    d->set_delivery_count(3);
    *d->mutable_message() = m;
    CHECK(out == framed(expected)); // the same bytes Protobuf itself writes
  }
  std::string small;
  protobuf_codec tiny(codec_limits{1024});
  auto r = tiny.encode(0, delivery_event{5, 1, false, 1, stored}, small);
  CHECK_FALSE(r.ok());
  CHECK(small.empty());
}

TEST_CASE("a delivery whose stored envelope does not decode is an error, not an empty message",
          "[protocol][session-codec]") {
  std::string unreadable("\x12\x05"
                         "ab",
                         4); // a length past the end
  REQUIRE_FALSE(is_wire_message(unreadable));
  envelope e;
  REQUIRE_FALSE(decode_envelope(unreadable, e));
  protobuf_codec codec({});
  std::string out = "before";
  auto r = codec.encode(0, delivery_event{5, 42, false, 1, unreadable}, out);
  REQUIRE_FALSE(r.ok());
  CHECK(r.code() == codec_errc::unreadable_message);
  CHECK(r.message().find("42") != std::string::npos);
  CHECK(out == "before"); // nothing written
  // The codec goes on: the next event encodes.
  out.clear();
  REQUIRE(codec.encode(0, heartbeat_event{}, out).ok());
  CHECK(decode_one(out).has_heartbeat());
}

TEST_CASE("is_wire_message tells envelope-only fields and bad bytes", "[protocol][session-codec]") {
  CHECK(is_wire_message(""));
  envelope e;
  e.set_body("x");
  std::string bytes;
  encode_envelope(e, bytes);
  CHECK(is_wire_message(bytes));
  e.set_message_id("id");
  encode_envelope(e, bytes);
  CHECK_FALSE(is_wire_message(bytes));
  e.clear_message_id();
  (*e.mutable_typed_properties())["n"].set_int_value(1);
  encode_envelope(e, bytes);
  CHECK(is_wire_message(bytes)); // typed properties are a Message's field 15 too
  e.set_body_type(store::BODY_TEXT);
  encode_envelope(e, bytes);
  CHECK_FALSE(is_wire_message(bytes));
  CHECK_FALSE(is_wire_message(std::string("\x12\x05"
                                          "ab",
                                          4))); // length past the end
  CHECK_FALSE(is_wire_message(std::string("\x12", 1)));
  CHECK_FALSE(is_wire_message(std::string("\x0f", 1))); // wire type 7
}

TEST_CASE("a send's bytes are its envelope's, typed properties included",
          "[protocol][session-codec]") {
  wire::Message m;
  m.set_destination("queue://q");
  m.set_body("body");
  m.set_producer_id("p");
  (*m.mutable_typed_properties())["weight"].set_int_value(2500);
  // A client that writes field 16 (the envelope's body type) must not inject it.
  std::string injected = m.SerializeAsString() + std::string("\x80\x01\x01", 3);
  wire::Frame f;
  f.set_correlation_id(2);
  REQUIRE(f.mutable_send()->mutable_message()->ParseFromString(injected));
  protobuf_codec codec({});
  auto cmds = commands_of(codec, framed(f));
  REQUIRE(cmds.size() == 1);
  auto& send = std::get<send_command>(cmds[0].body);
  REQUIRE_FALSE(send.encoded.empty());
  envelope from_bytes;
  REQUIRE(decode_envelope(send.encoded, from_bytes));
  CHECK(from_bytes.typed_properties().at("weight").int_value() == 2500);
  CHECK(from_bytes.body_type() == store::BODY_BYTES);
  CHECK(from_bytes.body() == "body");
  CHECK(from_bytes.SerializeAsString() == send.message.SerializeAsString());
}
