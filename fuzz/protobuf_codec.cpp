// libFuzzer target: the Protobuf client protocol as a node reads it (frame_codec.hpp,
// protobuf_codec.hpp). Input: one byte that picks the size of the reads, then the bytes a client
// sent. Must hold, besides no crash and no sanitizer report:
// - a frame the decoder yields re-encodes (encode_frame) to bytes that decode to the same frame;
// - after an error the decoder repeats it, and the codec yields nothing after a fatal refusal;
// - a send command's encoded bytes decode to its message, and that message delivered back to a
//   consumer (a dispatch) arrives as sent.
#include "protocol/protobuf_codec.hpp"
#include "fuzz/fuzz_check.hpp"
#include "protocol/envelope.hpp"
#include "protocol/frame_codec.hpp"
#include "protocol/wire_envelope.hpp"

namespace {

using namespace actormq::protocol;
namespace wire = actormq::wire;
using actormq::fuzz::canonical_bytes;

// Small, so that inputs reach the limit.
constexpr uint32_t max_frame_bytes = 64 * 1024;

void check_reencoding(const wire::Frame& frame) {
  std::string bytes;
  // Re-encoding may be longer than what arrived (a negative int32 written in 5 bytes comes back
  // in 10), so the default limit.
  auto encoded = encode_frame(frame, bytes);
  FUZZ_CHECK(encoded);
  frame_decoder again;
  again.feed(bytes.data(), bytes.size());
  wire::Frame decoded;
  auto r = again.next(decoded);
  FUZZ_CHECK(r && *r);
  FUZZ_CHECK(again.buffered() == 0);
  FUZZ_CHECK(canonical_bytes(decoded) == canonical_bytes(frame));
}

void fuzz_decoder(const uint8_t* data, size_t size, size_t piece) {
  frame_decoder decoder(max_frame_bytes);
  wire::Frame frame;
  bool failed = false;
  actormq::fuzz::feed_in_pieces(
      data, size, piece, [&](const char* p, size_t n) { decoder.feed(p, n); },
      [&] {
        while (!failed) {
          auto r = decoder.next(frame);
          if (!r) {
            failed = true;
            auto again = decoder.next(frame);
            FUZZ_CHECK(!again && again.code() == r.code() && again.message() == r.message());
            FUZZ_CHECK(decoder.buffered() == 0);
            return;
          }
          if (!*r)
            return;
          check_reencoding(frame);
        }
      });
}

void check_send(const send_command& send) {
  (void)check_envelope(send.message);
  envelope decoded;
  FUZZ_CHECK(decode_envelope(send.encoded, decoded));
  FUZZ_CHECK(canonical_bytes(decoded) == canonical_bytes(send.message));

  // Delivered back as it was stored: the consumer reads the message that was sent.
  protobuf_codec codec(codec_limits{max_frame_bytes});
  delivery_event d;
  d.consumer_id = 7;
  d.delivery_key = 42;
  d.envelope = send.encoded;
  std::string out;
  auto encoded = codec.encode(3, d, out);
  FUZZ_CHECK(encoded);
  frame_decoder client(max_frame_bytes);
  client.feed(out.data(), out.size());
  wire::Frame frame;
  auto r = client.next(frame);
  FUZZ_CHECK(r && *r && frame.has_dispatch());
  FUZZ_CHECK(frame.correlation_id() == 3 && frame.dispatch().delivery_key() == 42);
  envelope copy = send.message;
  wire::Message expected;
  to_wire(copy, expected);
  FUZZ_CHECK(canonical_bytes(frame.dispatch().message()) == canonical_bytes(expected));
}

void fuzz_codec(const uint8_t* data, size_t size, size_t piece) {
  protobuf_codec codec(codec_limits{max_frame_bytes});
  bool refused = false;
  command cmd;
  actormq::fuzz::feed_in_pieces(
      data, size, piece, [&](const char* p, size_t n) { codec.feed(p, n); },
      [&] {
        while (codec.next(cmd)) {
          FUZZ_CHECK(!refused);
          if (auto* r = std::get_if<refused_command>(&cmd.body); r && r->fatal)
            refused = true;
          if (auto* send = std::get_if<send_command>(&cmd.body))
            check_send(*send);
          // The answers a session core would write.
          std::string out;
          (void)codec.encode(cmd.request_id, receipt_event{}, out);
          (void)codec.encode(cmd.request_id, error_event{error_code::invalid_field, "no"}, out);
        }
      });
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0)
    return 0;
  const size_t piece = actormq::fuzz::piece_size(data[0], size - 1);
  fuzz_decoder(data + 1, size - 1, piece);
  fuzz_codec(data + 1, size - 1, piece);
  return 0;
}
