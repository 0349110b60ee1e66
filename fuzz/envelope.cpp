// libFuzzer target: a stored message's envelope as the node reads it back (envelope.hpp,
// wire_envelope.hpp, origin_stamp.hpp) and delivers it over each protocol. Input: the stored bytes.
// Must hold, besides no crash and no sanitizer report, for bytes that decode as an envelope:
// - encoding it again (encode_envelope) gives bytes that decode to the same envelope;
// - an origin stamp on those bytes reads back as stamped and leaves the rest as it was;
// - bytes that pass as a wire Message (is_wire_message) parse as one, equal to the envelope's
//   wire form (to_wire) but for unknown fields;
// - delivered over the Protobuf protocol, the consumer reads the envelope's wire form (unknown
//   fields aside);
// - delivered over STOMP (1.0, 1.1, 1.2), the node writes frames a STOMP client parses, and the
//   MESSAGE's body is the envelope's body;
// - as a dead letter (dead_letter.hpp) it decodes, names its cause and original destination,
//   and a retry of it (when that destination parses) restores the destination and the body.
#include "protocol/envelope.hpp"
#include "fuzz/fuzz_check.hpp"
#include "protocol/dead_letter.hpp"
#include "protocol/origin_stamp.hpp"
#include "protocol/protobuf_codec.hpp"
#include "protocol/stomp_codec.hpp"
#include "protocol/wire_envelope.hpp"

namespace {

using namespace actormq::protocol;
namespace wire = actormq::wire;
using actormq::fuzz::canonical_bytes;

constexpr uint32_t max_frame_bytes = 64 * 1024;

wire::Message wire_form(const envelope& e) {
  envelope copy = e;
  wire::Message m;
  to_wire(copy, m);
  return m;
}

// `read` agrees with the wire form of `e`, unknown fields aside: those inside a typed property's
// value are kept by decoding and by to_wire (the value moves as a whole), so both sides drop them.
void check_wire_form(wire::Message read, const envelope& e) {
  auto expected = wire_form(e);
  for (auto& [key, value] : *read.mutable_typed_properties())
    value.DiscardUnknownFields();
  for (auto& [key, value] : *expected.mutable_typed_properties())
    value.DiscardUnknownFields();
  FUZZ_CHECK(canonical_bytes(read) == canonical_bytes(expected));
}

void check_stamp(const envelope& e, const std::string& stored) {
  std::string stamped = stored;
  origin_stamp(stamped, "0b5e6a56-8d2c-4f0e-9a53-4c1b2d3e4f50", 77);
  envelope read;
  FUZZ_CHECK(decode_envelope(stamped, read));
  FUZZ_CHECK(read.origin_store_id() == "0b5e6a56-8d2c-4f0e-9a53-4c1b2d3e4f50");
  FUZZ_CHECK(read.origin_sequence() == 77);
  envelope expected = e;
  expected.set_origin_store_id(read.origin_store_id());
  expected.set_origin_sequence(77);
  FUZZ_CHECK(canonical_bytes(read) == canonical_bytes(expected));
}

void check_protobuf_delivery(const envelope& e, const std::string& stored) {
  protobuf_codec codec(codec_limits{max_frame_bytes});
  delivery_event d;
  d.consumer_id = 5;
  d.delivery_key = 6;
  d.redelivered = true;
  d.envelope = stored;
  std::string out;
  auto r = codec.encode(8, d, out);
  if (stored.size() <= max_message_bytes(max_frame_bytes))
    FUZZ_CHECK(r);
  if (!r) {
    FUZZ_CHECK(out.empty());
    return;
  }
  frame_decoder client(max_frame_bytes);
  client.feed(out.data(), out.size());
  wire::Frame frame;
  auto next = client.next(frame);
  FUZZ_CHECK(next && *next && frame.has_dispatch() && client.buffered() == 0);
  FUZZ_CHECK(frame.dispatch().redelivered() && frame.dispatch().delivery_key() == 6);
  // Unknown fields of a stored envelope may pass through the raw dispatch; clients ignore them.
  wire::Message read = frame.dispatch().message();
  read.DiscardUnknownFields();
  check_wire_form(std::move(read), e);
}

void check_stomp_delivery(const envelope& e, const std::string& stored, const char* version) {
  stomp_codec codec(codec_limits{max_frame_bytes});
  std::string session = std::string("CONNECT\naccept-version:") + version + "\n\n" + '\0' +
                        "SUBSCRIBE\nid:s\ndestination:/queue/a\nack:client-individual\n\n" + '\0';
  codec.feed(session.data(), session.size());
  uint64_t consumer = 0;
  command cmd;
  while (codec.next(cmd))
    if (auto* open = std::get_if<open_consumer_command>(&cmd.body))
      consumer = open->consumer_id;
  FUZZ_CHECK(consumer != 0);
  delivery_event d;
  d.consumer_id = consumer;
  d.delivery_key = 6;
  d.envelope = stored;
  std::string out;
  FUZZ_CHECK(codec.encode(0, d, out));
  stomp_parser client(stomp_frame_limits{64 * 1024 * 1024, 100000, 1024 * 1024});
  client.set_version(codec.version());
  client.feed(out.data(), out.size());
  stomp_frame frame;
  auto r = client.next(frame);
  FUZZ_CHECK(r && *r);
  FUZZ_CHECK(client.buffered() == 0);
  FUZZ_CHECK(frame.command == "MESSAGE");
  FUZZ_CHECK(frame.body == e.body());
}

void check_dead_letter(const envelope& e, const std::string& stored) {
  std::string dead;
  FUZZ_CHECK(make_dead_letter(stored, "queue://ActiveMQ.DLQ", "expired", dead));
  envelope d;
  FUZZ_CHECK(decode_envelope(dead, d));
  FUZZ_CHECK(d.destination() == "queue://ActiveMQ.DLQ");
  FUZZ_CHECK(d.properties().at(dead_letter_cause_property) == "expired");
  FUZZ_CHECK(d.properties().count(original_destination_property) == 1);
  FUZZ_CHECK(d.body() == e.body());
  std::string back;
  std::string target;
  if (make_retry(dead, back, target)) {
    envelope r;
    FUZZ_CHECK(decode_envelope(back, r));
    FUZZ_CHECK(r.destination() == target);
    FUZZ_CHECK(r.properties().count(dead_letter_cause_property) == 0);
    FUZZ_CHECK(r.body() == e.body());
  }
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  (void)is_wire_message(bytes);
  envelope e;
  if (!decode_envelope(bytes, e))
    return 0;
  (void)check_envelope(e);

  std::string stored;
  encode_envelope(e, stored);
  envelope again;
  FUZZ_CHECK(decode_envelope(stored, again));
  std::string stored_again;
  encode_envelope(again, stored_again);
  FUZZ_CHECK(stored_again == stored);

  check_stamp(e, stored);
  if (is_wire_message(stored)) {
    wire::Message m;
    FUZZ_CHECK(m.ParseFromString(stored));
    m.DiscardUnknownFields(); // a field of a known number with another wire type, for one
    check_wire_form(std::move(m), e);
  }
  check_protobuf_delivery(e, stored);
  for (const char* version : {"1.0", "1.1", "1.2"})
    check_stomp_delivery(e, stored, version);
  check_dead_letter(e, stored);
  return 0;
}
