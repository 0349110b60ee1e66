// Length-prefixed framing of the client protocol: a 4-byte big-endian length, then one
// serialized actormq.wire.Frame. Plain C++ (no CAF).
#pragma once

#include "common/result.hpp"
#include "protocol/actormq.pb.h"

#include <cstddef>
#include <cstdint>
#include <string>
#include <system_error>

namespace actormq::protocol {

// Error codes of the codec.
enum class codec_errc {
  ok = 0,
  frame_too_large = 1,    // the length prefix exceeds the maximum frame size
  malformed = 2,          // the frame bytes do not parse as a Frame
  unknown_command = 3,    // the Frame has no command set (or one this build does not know)
  encode_failed = 4,      // serialization failed (or the frame is over the maximum size)
  unreadable_message = 5, // a delivery's stored envelope does not decode (nothing is encoded)
};
const std::error_category& codec_category();
std::error_code make_error_code(codec_errc e);

constexpr uint32_t default_max_frame_bytes = 4u * 1024 * 1024;
constexpr size_t length_prefix_bytes = 4;

// Appends the encoded frame (prefix + bytes) to `out`.
// Errors: encode_failed (including a frame over max_frame_bytes).
result<void> encode_frame(const wire::Frame& frame, std::string& out,
                          uint32_t max_frame_bytes = default_max_frame_bytes);

// Incremental decoder: feed bytes as they arrive, then take frames while next() yields them.
//
//   decoder.feed(data, n);
//   wire::Frame f;
//   while (true) {
//     auto r = decoder.next(f);
//     if (!r) { /* error: report it, close the connection */ break; }
//     if (!*r) break;  // need more bytes
//     handle(f);
//   }
//
// After an error the decoder stays failed (every further next() returns the same error).
class frame_decoder {
public:
  explicit frame_decoder(uint32_t max_frame_bytes = default_max_frame_bytes);

  void feed(const char* data, size_t size);

  // true: `out` holds the next frame; false: more bytes are needed.
  // Errors: frame_too_large (known as soon as the prefix is complete), malformed, unknown_command.
  result<bool> next(wire::Frame& out);

  // Bytes fed but not yet consumed.
  size_t buffered() const noexcept { return buffer_.size() - offset_; }

  // Frees the buffer's memory when nothing is buffered (an idle connection).
  void release_memory();

private:
  std::string buffer_;
  size_t offset_ = 0;
  uint32_t max_frame_bytes_;
  std::error_code failed_;
  std::string failed_what_; // the message of the first error, repeated by later next() calls

  result<bool> fail(std::error_code code, std::string what);
  void compact();
};

// The name of a frame's command, for logs and errors ("send", "ack", "(none)").
const char* command_name(const wire::Frame& frame);

} // namespace actormq::protocol

namespace std {
template <> struct is_error_code_enum<actormq::protocol::codec_errc> : true_type {};
} // namespace std
