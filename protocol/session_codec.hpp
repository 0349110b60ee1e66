// A wire protocol as the session sees it: bytes in, commands out; events in, bytes out. One codec
// per connection (it may keep per-connection state, such as a half-read frame). The codec owns
// its protocol's framing, frame limits and malformed input: the session core never sees bytes.
// A listener names its protocol in the configuration (listener `protocol`) and every connection
// it accepts gets a codec of that protocol. Plain C++ (no CAF).
#pragma once

#include "common/result.hpp"
#include "protocol/session_commands.hpp"

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace actormq::protocol {

struct codec_limits {
  uint32_t max_frame_bytes = 4u * 1024 * 1024; // the node sets limits.max_frame_bytes
};

class session_codec {
public:
  virtual ~session_codec() = default;

  // The protocol's name as the configuration gives it ("actormq").
  virtual const char* protocol() const noexcept = 0;

  // Bytes as they arrive.
  virtual void feed(const char* data, size_t size) = 0;

  // The next command: true if `out` holds one, false if more bytes are needed. After a fatal
  // refused_command it yields nothing more.
  virtual bool next(command& out) = 0;

  // Bytes fed but not yet made into commands (a frame still arriving).
  virtual size_t buffered() const noexcept = 0;

  // Frees buffer memory when nothing is buffered (an idle connection).
  virtual void release_memory() = 0;

  // Appends the bytes of `ev`, answering request `request_id` (0: not an answer), to `out`.
  // Errors: codec_errc::encode_failed (frame_codec.hpp), e.g. over the frame limit;
  // codec_errc::unreadable_message when a delivery's stored envelope does not decode (nothing is
  // appended: the client gets no empty message).
  virtual result<void> encode(uint64_t request_id, const event& ev, std::string& out) = 0;

  // Bytes the codec answers by itself, for no command (a WebSocket handshake, pong or close):
  // appended to `out`; true if there were any. The session writes them after feeding and before
  // each command it takes.
  virtual bool take_output(std::string& out) {
    (void)out;
    return false;
  }

  // True if the protocol ends a connection after any error it writes (STOMP): the session
  // closes the connection once an error event is written, not only after fatal ones.
  virtual bool closes_after_error() const noexcept { return false; }

  // True if the protocol's connect negotiates heartbeats (STOMP's heart-beat header): then
  // connect_command::client_heartbeat_ms 0 means the client promised to send none, and the node
  // does not close it for being silent. False: the node's inactivity timeout applies as it is.
  virtual bool negotiates_heartbeats() const noexcept { return false; }
  // The id the node gives the connection when its client names none (temporary destinations
  // are named after it, docs/topics.md): STOMP maps its short temporary names with it.
  virtual void set_connection_id(std::string id) { (void)id; }
};

// The protocols a listener may name.
const std::vector<std::string>& session_protocols();

// A codec of `protocol` (one of session_protocols()); nullptr for an unknown name.
std::unique_ptr<session_codec> make_session_codec(std::string_view protocol,
                                                  const codec_limits& limits);

} // namespace actormq::protocol
