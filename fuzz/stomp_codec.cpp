// libFuzzer target: the STOMP session codec (stomp_codec.hpp) with a node's answers. Input: one
// byte that picks the size of the reads, then the bytes a client sent. The target plays the
// session core: it answers CONNECT with CONNECTED, most requests with a receipt and every fifth
// with an error, and delivers each message sent to every subscription. Must hold, besides no
// crash and no sanitizer report:
// - the codec yields nothing after a fatal refusal (or DISCONNECT);
// - a send command's encoded bytes decode to its message;
// - an ACK or NACK names deliveries the codec delivered to that consumer and not yet acknowledged;
// - everything the codec writes parses as STOMP frames of the agreed version, and a MESSAGE's
//   body is the body sent.
#include "protocol/stomp_codec.hpp"
#include "fuzz/fuzz_check.hpp"
#include "protocol/envelope.hpp"

#include <map>
#include <set>

namespace {

using namespace actormq::protocol;
using actormq::fuzz::canonical_bytes;

constexpr uint32_t max_frame_bytes = 64 * 1024;

struct node {
  stomp_codec codec{codec_limits{max_frame_bytes}, stomp_options{64, 1024, [] { return 1000; }}};
  std::set<uint64_t> consumers;                     // opened and not refused or closed
  std::map<uint64_t, std::set<uint64_t>> delivered; // consumer -> keys not acknowledged
  std::map<uint64_t, std::string> body_of;          // delivery key -> body
  uint64_t next_key = 1;
  std::string written;
  bool stopped = false;

  void answer(uint64_t request_id, const event& ev) {
    if (request_id == 0)
      return;
    (void)codec.encode(request_id, ev, written);
  }

  void deliver(const send_command& send) {
    for (auto consumer : consumers) {
      delivery_event d;
      d.consumer_id = consumer;
      d.delivery_key = next_key++;
      d.envelope = send.encoded;
      auto r = codec.encode(0, d, written);
      FUZZ_CHECK(r);
      delivered[consumer].insert(d.delivery_key);
      body_of[d.delivery_key] = send.message.body();
    }
  }

  void take(command& cmd) {
    FUZZ_CHECK(!stopped);
    const bool refuse = cmd.request_id % 5 == 4;
    error_event refusal{error_code::invalid_field, "refused\nby the node: \\:\r"};
    std::visit(
        [&](auto& body) {
          using T = std::decay_t<decltype(body)>;
          if constexpr (std::is_same_v<T, connect_command>) {
            connected_event c;
            c.node_name = "n";
            c.session_id = 9;
            c.heartbeat_ms = 1000;
            c.inactivity_timeout_ms = 3000;
            answer(cmd.request_id, c);
            (void)codec.encode(0, heartbeat_event{}, written);
          } else if constexpr (std::is_same_v<T, send_command>) {
            (void)check_envelope(body.message);
            envelope decoded;
            FUZZ_CHECK(decode_envelope(body.encoded, decoded));
            FUZZ_CHECK(canonical_bytes(decoded) == canonical_bytes(body.message));
            if (refuse)
              return answer(cmd.request_id, refusal);
            deliver(body);
            answer(cmd.request_id, receipt_event{});
          } else if constexpr (std::is_same_v<T, open_consumer_command>) {
            FUZZ_CHECK(cmd.request_id != 0);
            FUZZ_CHECK(consumers.count(body.consumer_id) == 0);
            if (refuse)
              return answer(cmd.request_id, refusal);
            consumers.insert(body.consumer_id);
            answer(cmd.request_id, receipt_event{});
          } else if constexpr (std::is_same_v<T, close_consumer_command>) {
            FUZZ_CHECK(consumers.erase(body.consumer_id) == 1);
            delivered.erase(body.consumer_id);
            answer(cmd.request_id, receipt_event{});
          } else if constexpr (std::is_same_v<T, ack_command>) {
            auto& keys = delivered[body.consumer_id];
            for (auto key : body.delivery_keys)
              FUZZ_CHECK(keys.erase(key) == 1);
            answer(cmd.request_id, refuse ? event{refusal} : event{receipt_event{}});
          } else if constexpr (std::is_same_v<T, refused_command>) {
            FUZZ_CHECK(body.fatal);
            stopped = true;
            answer(cmd.request_id, error_event{body.code, body.text});
            if (cmd.request_id == 0)
              (void)codec.encode(0, error_event{body.code, body.text}, written);
          } else if constexpr (std::is_same_v<T, disconnect_command>) {
            stopped = true;
            answer(cmd.request_id, receipt_event{});
          } else if constexpr (std::is_same_v<T, unexpected_command>) {
            stopped = true;
          } else {
            answer(cmd.request_id, receipt_event{});
          }
        },
        cmd.body);
  }
};

// What the node wrote, read as a client reads it.
void check_written(const node& n) {
  stomp_parser client(stomp_frame_limits{64 * 1024 * 1024, 100000, 1024 * 1024});
  client.set_version(n.codec.version());
  client.feed(n.written.data(), n.written.size());
  stomp_frame frame;
  while (true) {
    auto r = client.next(frame);
    FUZZ_CHECK(r);
    if (!*r)
      break;
    FUZZ_CHECK(frame.command == "CONNECTED" || frame.command == "MESSAGE" ||
               frame.command == "RECEIPT" || frame.command == "ERROR");
    if (frame.command == "MESSAGE") {
      // A message sent over STOMP has no message id of its own: "ID:<consumer>-<key>".
      auto* id = frame.header("message-id");
      FUZZ_CHECK(id && id->rfind("ID:", 0) == 0);
      uint64_t consumer = 0;
      uint64_t key = 0;
      FUZZ_CHECK(parse_stomp_ack_id(std::string_view(*id).substr(3), consumer, key));
      FUZZ_CHECK(n.body_of.count(key) == 1 && n.body_of.at(key) == frame.body);
    }
  }
  FUZZ_CHECK(client.buffered() == 0);
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0)
    return 0;
  const size_t piece = actormq::fuzz::piece_size(data[0], size - 1);
  node n;
  command cmd;
  actormq::fuzz::feed_in_pieces(
      data + 1, size - 1, piece, [&](const char* p, size_t len) { n.codec.feed(p, len); },
      [&] {
        while (n.codec.next(cmd))
          n.take(cmd);
      });
  check_written(n);
  return 0;
}
