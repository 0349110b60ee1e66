// libFuzzer target: the STOMP over WebSocket codec (stomp_ws_codec.hpp). Input: one byte that
// picks the size of the reads, then the bytes a client sent (an upgrade request, then frames).
// The target plays the session core: CONNECTED for a connect, a receipt for the rest, the error
// for a refusal. Must hold, besides no crash and no sanitizer report:
// - the codec yields nothing after a fatal refusal or after the client's close (a disconnect);
// - before the upgrade it writes nothing but an HTTP answer; after it, only whole unmasked
//   WebSocket frames, and nothing after a close frame.
#include "protocol/stomp_ws_codec.hpp"
#include "fuzz/fuzz_check.hpp"

namespace {

using namespace actormq::protocol;

// The frames of what the node wrote after its upgrade answer; false if they do not parse.
bool whole_server_frames(std::string_view data) {
  bool closed = false;
  while (!data.empty()) {
    if (closed || data.size() < 2 || (static_cast<uint8_t>(data[1]) & 0x80) != 0)
      return false;
    uint64_t n = static_cast<uint8_t>(data[1]) & 0x7f;
    size_t at = 2;
    if (n == 126 || n == 127) {
      size_t bytes = n == 126 ? 2 : 8;
      if (data.size() < 2 + bytes)
        return false;
      n = 0;
      for (size_t i = 0; i < bytes; ++i)
        n = (n << 8) | static_cast<uint8_t>(data[2 + i]);
      at += bytes;
    }
    if (data.size() - at < n)
      return false;
    closed = (data[0] & 0x0f) == 8;
    data.remove_prefix(at + n);
  }
  return true;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0)
    return 0;
  const size_t piece = actormq::fuzz::piece_size(data[0], size - 1);
  stomp_ws_codec codec(codec_limits{64 * 1024});
  std::string handshake; // what the codec wrote by itself before its first frame
  std::string written;
  bool stopped = false;
  command cmd;
  auto take_output = [&] {
    std::string out;
    if (!codec.take_output(out))
      return;
    if (handshake.empty() && written.empty() && out.rfind("HTTP/1.1 101 ", 0) == 0) {
      auto end = out.find("\r\n\r\n");
      FUZZ_CHECK(end != std::string::npos);
      handshake = out.substr(0, end + 4);
      out.erase(0, end + 4);
    }
    written += out;
  };
  actormq::fuzz::feed_in_pieces(
      data + 1, size - 1, piece, [&](const char* p, size_t len) { codec.feed(p, len); },
      [&] {
        take_output();
        while (codec.next(cmd)) {
          FUZZ_CHECK(!stopped);
          take_output();
          event answer = receipt_event{};
          if (std::holds_alternative<connect_command>(cmd.body))
            answer = connected_event{"n", "s", 1, 1000, 3000, {}};
          if (auto* r = std::get_if<refused_command>(&cmd.body)) {
            stopped = r->fatal;
            answer = error_event{r->code, r->text};
          }
          if (std::holds_alternative<disconnect_command>(cmd.body))
            stopped = true;
          if (cmd.request_id != 0 || std::holds_alternative<error_event>(answer)) {
            std::string out;
            FUZZ_CHECK(codec.encode(cmd.request_id, answer, out));
            if (!codec.upgraded())
              FUZZ_CHECK(out.empty() || out.rfind("HTTP/1.1 4", 0) == 0);
            written += out;
          }
        }
      });
  if (codec.upgraded() && written.rfind("HTTP/1.1 ", 0) != 0)
    FUZZ_CHECK(whole_server_frames(written));
  return 0;
}
