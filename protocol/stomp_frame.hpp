// STOMP frames (STOMP 1.0, 1.1 and 1.2): an incremental parser and a serializer. A frame is a
// command line, header lines, an empty line, a body and a NUL; lines end in LF or CRLF, and empty
// lines between frames are heart-beats. The parser knows nothing of what the commands mean: the
// STOMP session codec (stomp_codec.hpp) does. Plain C++ (no CAF).
#pragma once

#include "common/result.hpp"

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace actormq::protocol {

enum class stomp_version : uint8_t { v1_0 = 10, v1_1 = 11, v1_2 = 12 };

// "1.0", "1.1", "1.2".
const char* to_string(stomp_version v);

struct stomp_header {
  std::string name;
  std::string value;
};

struct stomp_frame {
  std::string command;               // "SEND"
  std::vector<stomp_header> headers; // in arrival order; a repeated name is kept
  std::string body;
  bool has_content_length = false; // the body's length came from a content-length header

  // The value of the first header named `name` (the one that counts, per the specification),
  // or nullptr.
  const std::string* header(std::string_view name) const;
  void add(std::string name, std::string value);
  void clear();
};

// True for the commands of STOMP 1.2, a client's and a server's.
bool is_stomp_command(std::string_view command);

// Whether frames of `command` escape their header names and values in `version` (1.1 and 1.2
// do, except in CONNECT and CONNECTED frames; 1.0 does not).
bool escapes_headers(stomp_version version, std::string_view command);

struct stomp_frame_limits {
  uint32_t max_frame_bytes = 4u * 1024 * 1024; // from the command line to the NUL
  uint32_t max_headers = 1000;                 // header lines in one frame
  uint32_t max_header_line_bytes = 10 * 1024;  // one line, the command line included
};

// Incremental parser: feed bytes as they arrive, then take frames while next() yields them.
// Errors (codec_errc, frame_codec.hpp; the text names the problem): frame_too_large (a frame,
// a header line or the number of headers over its limit), unknown_command (a first line that is
// no STOMP command, or a header), malformed (a header line without a colon or a name, an
// undefined escape, a content-length that is no number or does not end at the NUL). After an
// error the parser stays failed.
class stomp_parser {
public:
  explicit stomp_parser(const stomp_frame_limits& limits = {});

  // The escaping rules for frames from now on (1.2 until the session has agreed on a version).
  void set_version(stomp_version v) noexcept { version_ = v; }

  void feed(const char* data, size_t size);

  // true: `out` holds the next frame; false: more bytes are needed. Heart-beats (empty lines
  // between frames) are consumed silently.
  result<bool> next(stomp_frame& out);

  // Bytes fed but not yet made into frames.
  size_t buffered() const noexcept { return buffer_.size() - offset_; }

  // Frees the buffer's memory when nothing is buffered (an idle connection).
  void release_memory();

private:
  enum class phase : uint8_t { between, head, body };

  result<bool> fail(std::error_code code, std::string what);
  result<bool> read_head(bool& done);
  result<bool> read_body();
  result<bool> take_line(std::string_view line);
  result<bool> line_too_long();
  result<bool> body_too_large();
  result<bool> end_of_head();
  bool finish_frame(size_t end);

  stomp_frame_limits limits_;
  stomp_version version_ = stomp_version::v1_2;
  std::string buffer_;
  size_t offset_ = 0; // the first byte not yet consumed (a frame's first byte once in a frame)
  phase phase_ = phase::between;
  size_t line_start_ = 0; // the header line being read
  size_t scan_ = 0;       // where the search for the line's end or the NUL goes on
  size_t body_start_ = 0;
  uint64_t content_length_ = 0;
  stomp_frame frame_; // the frame being read
  std::error_code failed_;
  std::string failed_what_;
};

// Appends the frame's bytes: headers escaped as `version` escapes them (1.0 and CONNECT/
// CONNECTED frames cannot carry a line break in a header, so one becomes a space; no frame can
// carry a NUL in a header, which becomes a space too). The caller adds content-length when the
// body needs it.
void append_stomp_frame(const stomp_frame& frame, stomp_version version, std::string& out);

} // namespace actormq::protocol
