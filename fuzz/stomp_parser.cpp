// libFuzzer target: the STOMP frame parser and serializer (stomp_frame.hpp). Input: one byte
// that picks the version (its low 2 bits) and the size of the reads (the rest), then the bytes a
// client sent. Must hold, besides no crash and no sanitizer report:
// - after an error the parser repeats it and holds no bytes;
// - a frame the parser yields, serialized again (append_stomp_frame), parses to a frame of the
//   same command, body and headers; where the version escapes headers (1.2, but not in CONNECT),
//   to the same header names and values.
#include "fuzz/fuzz_check.hpp"
#include "protocol/stomp_frame.hpp"

namespace {

using namespace actormq::protocol;

constexpr stomp_frame_limits small_limits{16 * 1024, 64, 1024};
// Serializing escapes, so a frame may grow: the second parse gets room.
constexpr stomp_frame_limits large_limits{64 * 1024 * 1024, 1000, 1024 * 1024};

stomp_version version_of(uint8_t selector) {
  switch (selector & 3) {
  case 0:
    return stomp_version::v1_0;
  case 1:
    return stomp_version::v1_1;
  default:
    return stomp_version::v1_2;
  }
}

// 1.0 and CONNECT frames cannot carry a line break in a header: it becomes a space.
std::string unescapable(std::string text) {
  for (auto& c : text)
    if (c == '\r' || c == '\n')
      c = ' ';
  return text;
}

void check_reserialized(const stomp_frame& frame, stomp_version version) {
  std::string bytes;
  append_stomp_frame(frame, version, bytes);
  stomp_parser again(large_limits);
  again.set_version(version);
  again.feed(bytes.data(), bytes.size());
  stomp_frame parsed;
  auto r = again.next(parsed);
  FUZZ_CHECK(r && *r);
  FUZZ_CHECK(again.buffered() == 0);
  FUZZ_CHECK(parsed.command == frame.command);
  FUZZ_CHECK(parsed.body == frame.body);
  FUZZ_CHECK(parsed.has_content_length == frame.has_content_length);
  FUZZ_CHECK(parsed.headers.size() == frame.headers.size());
  const bool escaped = escapes_headers(version, frame.command);
  if (escaped && version == stomp_version::v1_2) {
    for (size_t i = 0; i < frame.headers.size(); ++i) {
      FUZZ_CHECK(parsed.headers[i].name == frame.headers[i].name);
      FUZZ_CHECK(parsed.headers[i].value == frame.headers[i].value);
    }
  } else if (!escaped) {
    // Unescaped header values keep everything but line breaks; the name ends at the first colon.
    for (size_t i = 0; i < frame.headers.size(); ++i)
      FUZZ_CHECK(parsed.headers[i].name + ":" + parsed.headers[i].value ==
                 unescapable(frame.headers[i].name + ":" + frame.headers[i].value));
  }
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0)
    return 0;
  const auto version = version_of(data[0]);
  const size_t piece = actormq::fuzz::piece_size(static_cast<uint8_t>(data[0] >> 2), size - 1);
  stomp_parser parser(small_limits);
  parser.set_version(version);
  stomp_frame frame;
  bool failed = false;
  actormq::fuzz::feed_in_pieces(
      data + 1, size - 1, piece, [&](const char* p, size_t n) { parser.feed(p, n); },
      [&] {
        while (!failed) {
          auto r = parser.next(frame);
          if (!r) {
            failed = true;
            auto again = parser.next(frame);
            FUZZ_CHECK(!again && again.code() == r.code() && again.message() == r.message());
            FUZZ_CHECK(parser.buffered() == 0);
            return;
          }
          if (!*r)
            return;
          check_reserialized(frame, version);
        }
      });
  return 0;
}
