#include "protocol/stomp_frame.hpp"

#include "protocol/frame_codec.hpp"
#include "protocol/quoted.hpp"

#include <algorithm>
#include <array>
#include <cctype>

namespace actormq::protocol {

namespace {

constexpr std::array<std::string_view, 15> stomp_commands{
    "CONNECT", "STOMP", "SEND",       "SUBSCRIBE", "UNSUBSCRIBE", "ACK",     "NACK", "BEGIN",
    "COMMIT",  "ABORT", "DISCONNECT", "CONNECTED", "MESSAGE",     "RECEIPT", "ERROR"};

// A buffer this large is given back once it is empty again.
constexpr size_t shrink_threshold_bytes = 256 * 1024;

// Replaces `text` with its 1.1/1.2 unescaped form; false (with `bad` set) on an undefined escape.
bool unescape(std::string& text, stomp_version version, std::string& bad) {
  if (text.find('\\') == std::string::npos)
    return true;
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '\\') {
      out.push_back(text[i]);
      continue;
    }
    char next = i + 1 < text.size() ? text[i + 1] : '\0';
    switch (next) {
    case 'n':
      out.push_back('\n');
      break;
    case 'c':
      out.push_back(':');
      break;
    case '\\':
      out.push_back('\\');
      break;
    case 'r':
      if (version == stomp_version::v1_2) {
        out.push_back('\r');
        break;
      }
      [[fallthrough]];
    default:
      bad = i + 1 < text.size() ? std::string{'\\', next} : std::string{"\\"};
      return false;
    }
    ++i;
  }
  text = std::move(out);
  return true;
}

void append_escaped(std::string_view text, stomp_version version, bool escape, std::string& out) {
  for (char c : text) {
    if (c == '\0') {
      out.push_back(' '); // a NUL would end the frame, and no version escapes one
      continue;
    }
    if (!escape) {
      out.push_back(c == '\n' || c == '\r' ? ' ' : c);
      continue;
    }
    switch (c) {
    case '\n':
      out += "\\n";
      break;
    case ':':
      out += "\\c";
      break;
    case '\\':
      out += "\\\\";
      break;
    case '\r':
      if (version == stomp_version::v1_2)
        out += "\\r";
      else
        out.push_back(c);
      break;
    default:
      out.push_back(c);
    }
  }
}

// A content-length: decimal digits only, no sign, no spaces. A number too large for 64 bits
// reads as UINT64_MAX (over any limit).
bool parse_length(const std::string& text, uint64_t& out) {
  if (text.empty())
    return false;
  uint64_t n = 0;
  for (char c : text) {
    if (c < '0' || c > '9')
      return false;
    auto digit = static_cast<uint64_t>(c - '0');
    n = n > (UINT64_MAX - digit) / 10 ? UINT64_MAX : n * 10 + digit;
  }
  out = n;
  return true;
}

} // namespace

const char* to_string(stomp_version v) {
  switch (v) {
  case stomp_version::v1_0:
    return "1.0";
  case stomp_version::v1_1:
    return "1.1";
  case stomp_version::v1_2:
    return "1.2";
  }
  return "1.2";
}

const std::string* stomp_frame::header(std::string_view name) const {
  for (auto& h : headers)
    if (h.name == name)
      return &h.value;
  return nullptr;
}

void stomp_frame::add(std::string name, std::string value) {
  headers.push_back({std::move(name), std::move(value)});
}

void stomp_frame::clear() {
  command.clear();
  headers.clear();
  body.clear();
  has_content_length = false;
}

bool is_stomp_command(std::string_view command) {
  return std::find(stomp_commands.begin(), stomp_commands.end(), command) != stomp_commands.end();
}

bool escapes_headers(stomp_version version, std::string_view command) {
  return version != stomp_version::v1_0 && command != "CONNECT" && command != "CONNECTED";
}

stomp_parser::stomp_parser(const stomp_frame_limits& limits) : limits_(limits) {}

void stomp_parser::feed(const char* data, size_t size) {
  if (failed_ || size == 0)
    return; // a failed parser never yields again; do not hold on to bytes
  buffer_.append(data, size);
}

void stomp_parser::release_memory() {
  if (buffered() != 0 || phase_ != phase::between)
    return;
  std::string().swap(buffer_);
  offset_ = 0;
}

result<bool> stomp_parser::fail(std::error_code code, std::string what) {
  failed_ = code;
  failed_what_ = std::move(what);
  std::string().swap(buffer_);
  offset_ = 0;
  frame_.clear();
  return failure{failed_, failed_what_};
}

result<bool> stomp_parser::next(stomp_frame& out) {
  if (failed_)
    return failure{failed_, failed_what_};
  if (phase_ == phase::between) {
    // Heart-beats: LF or CRLF between frames.
    while (offset_ < buffer_.size()) {
      char c = buffer_[offset_];
      if (c == '\n') {
        ++offset_;
      } else if (c == '\r') {
        if (offset_ + 1 == buffer_.size())
          return false; // a CRLF still arriving
        if (buffer_[offset_ + 1] != '\n')
          break; // not a heart-beat: the command line reports it
        offset_ += 2;
      } else {
        break;
      }
    }
    if (offset_ == buffer_.size()) {
      buffer_.clear();
      offset_ = 0;
      if (buffer_.capacity() > shrink_threshold_bytes)
        buffer_.shrink_to_fit();
      return false;
    }
    frame_.clear();
    phase_ = phase::head;
    line_start_ = scan_ = offset_;
  }
  if (phase_ == phase::head) {
    bool done = false;
    if (auto r = read_head(done); !r || !done)
      return r;
  }
  auto r = read_body();
  if (!r || !*r)
    return r;
  out = std::move(frame_);
  frame_ = stomp_frame{};
  return true;
}

result<bool> stomp_parser::read_head(bool& done) {
  while (true) {
    // A NUL ends a frame; in the head it means a frame without the empty line after its headers.
    auto eol = buffer_.find_first_of("\n\0", scan_, 2);
    if (eol != std::string::npos && buffer_[eol] == '\0')
      return fail(codec_errc::malformed,
                  frame_.command.empty()
                      ? "a NUL in the command line " +
                            quoted(std::string_view(buffer_).substr(line_start_, eol - line_start_))
                      : "a NUL in the headers of a " + frame_.command +
                            " frame: an empty line must end the headers");
    if (eol == std::string::npos) {
      scan_ = buffer_.size();
      if (scan_ - line_start_ > limits_.max_header_line_bytes)
        return line_too_long();
      if (scan_ - offset_ >= limits_.max_frame_bytes)
        return fail(codec_errc::frame_too_large,
                    "the headers of a frame are over the frame limit of " +
                        std::to_string(limits_.max_frame_bytes) + " bytes");
      return false;
    }
    size_t end = eol;
    if (end > line_start_ && buffer_[end - 1] == '\r')
      --end;
    if (end - line_start_ > limits_.max_header_line_bytes)
      return line_too_long();
    std::string_view line(buffer_.data() + line_start_, end - line_start_);
    line_start_ = scan_ = eol + 1;
    if (line_start_ - offset_ > limits_.max_frame_bytes)
      return fail(codec_errc::frame_too_large,
                  "the headers of a frame are over the frame limit of " +
                      std::to_string(limits_.max_frame_bytes) + " bytes");
    if (frame_.command.empty() || !line.empty()) {
      if (auto r = take_line(line); !r)
        return r;
      continue;
    }
    done = true;
    return end_of_head();
  }
}

result<bool> stomp_parser::line_too_long() {
  // The same text whether the line's end has arrived or not (at least the limit's bytes have).
  return fail(codec_errc::frame_too_large,
              "a header line over the limit of " + std::to_string(limits_.max_header_line_bytes) +
                  " bytes, starting " +
                  quoted(std::string_view(buffer_).substr(
                      line_start_, std::min<size_t>(32, limits_.max_header_line_bytes))));
}

result<bool> stomp_parser::take_line(std::string_view line) {
  if (frame_.command.empty()) {
    if (line.find(':') != std::string_view::npos)
      return fail(codec_errc::unknown_command,
                  "a frame without a command: its first line " + quoted(line) + " is a header");
    if (!is_stomp_command(line))
      return fail(codec_errc::unknown_command,
                  "unknown command " + quoted(line) +
                      " (STOMP's are CONNECT, STOMP, SEND, SUBSCRIBE, UNSUBSCRIBE, ACK, NACK, "
                      "BEGIN, COMMIT, ABORT, DISCONNECT)");
    frame_.command = std::string(line);
    return true;
  }
  if (frame_.headers.size() >= limits_.max_headers)
    return fail(codec_errc::frame_too_large, "a " + frame_.command + " frame with more than " +
                                                 std::to_string(limits_.max_headers) +
                                                 " headers (the limit)");
  auto colon = line.find(':');
  if (colon == std::string_view::npos)
    return fail(codec_errc::malformed,
                "header line " + quoted(line) + " in a " + frame_.command + " frame has no colon");
  if (colon == 0)
    return fail(codec_errc::malformed,
                "header line " + quoted(line) + " in a " + frame_.command + " frame has no name");
  std::string name(line.substr(0, colon));
  std::string value(line.substr(colon + 1));
  if (escapes_headers(version_, frame_.command)) {
    std::string bad;
    if (!unescape(name, version_, bad) || !unescape(value, version_, bad))
      return fail(codec_errc::malformed,
                  "undefined escape " + quoted(bad) + " in header line " + quoted(line) +
                      " (STOMP " + to_string(version_) + " defines " +
                      (version_ == stomp_version::v1_2 ? "\\r " : "") + "\\n \\c \\\\)");
  }
  frame_.add(std::move(name), std::move(value));
  return true;
}

result<bool> stomp_parser::end_of_head() {
  body_start_ = scan_ = line_start_;
  phase_ = phase::body;
  auto* length = frame_.header("content-length");
  frame_.has_content_length = length != nullptr;
  if (!length)
    return true;
  if (!parse_length(*length, content_length_))
    return fail(codec_errc::malformed, "content-length " + quoted(*length) + " in a " +
                                           frame_.command +
                                           " frame is not a number of bytes (digits only)");
  uint64_t head = body_start_ - offset_;
  if (content_length_ >= limits_.max_frame_bytes ||
      head + content_length_ + 1 > limits_.max_frame_bytes)
    return fail(codec_errc::frame_too_large,
                "a " + frame_.command + " frame with a content-length of " + *length +
                    " bytes is over the frame limit of " + std::to_string(limits_.max_frame_bytes) +
                    " bytes");
  return true;
}

result<bool> stomp_parser::body_too_large() {
  // The same text whether the NUL has arrived or not.
  return fail(codec_errc::frame_too_large, "a " + frame_.command +
                                               " frame over the frame limit of " +
                                               std::to_string(limits_.max_frame_bytes) + " bytes");
}

result<bool> stomp_parser::read_body() {
  if (frame_.has_content_length) {
    size_t nul = body_start_ + static_cast<size_t>(content_length_);
    if (buffer_.size() <= nul)
      return false;
    if (buffer_[nul] != '\0')
      return fail(codec_errc::malformed,
                  "the " + std::to_string(content_length_) + " bytes of a " + frame_.command +
                      " frame's content-length are not followed by its NUL: the content-length "
                      "does not match the body");
    frame_.body.assign(buffer_, body_start_, content_length_);
    return finish_frame(nul + 1);
  }
  auto nul = buffer_.find('\0', scan_);
  if (nul == std::string::npos) {
    scan_ = buffer_.size();
    if (scan_ - offset_ >= limits_.max_frame_bytes)
      return body_too_large();
    return false;
  }
  if (nul + 1 - offset_ > limits_.max_frame_bytes)
    return body_too_large();
  frame_.body.assign(buffer_, body_start_, nul - body_start_);
  return finish_frame(nul + 1);
}

bool stomp_parser::finish_frame(size_t end) {
  offset_ = end;
  phase_ = phase::between;
  // The consumed bytes go once they are the larger part, so that many small frames in one read
  // do not move the rest again and again.
  if (offset_ == buffer_.size()) {
    buffer_.clear();
    offset_ = 0;
    if (buffer_.capacity() > shrink_threshold_bytes)
      buffer_.shrink_to_fit();
  } else if (offset_ >= buffer_.size() - offset_) {
    buffer_.erase(0, offset_);
    offset_ = 0;
  }
  return true;
}

void append_stomp_frame(const stomp_frame& frame, stomp_version version, std::string& out) {
  bool escape = escapes_headers(version, frame.command);
  out += frame.command;
  out.push_back('\n');
  for (auto& h : frame.headers) {
    append_escaped(h.name, version, escape, out);
    out.push_back(':');
    append_escaped(h.value, version, escape, out);
    out.push_back('\n');
  }
  out.push_back('\n');
  out += frame.body;
  out.push_back('\0');
}

} // namespace actormq::protocol
