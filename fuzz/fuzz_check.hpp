// What the libFuzzer targets share: a property check that aborts (so that libFuzzer keeps the
// input as a crash), a canonical encoding for comparing Protobuf messages, and reads cut into
// pieces.
#pragma once

#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/io/zero_copy_stream_impl_lite.h>
#include <google/protobuf/message_lite.h>
#include <google/protobuf/stubs/logging.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

#define FUZZ_CHECK(condition)                                                                      \
  ((condition) ? (void)0 : ::actormq::fuzz::property_failed(#condition, __FILE__, __LINE__))

namespace actormq::fuzz {

[[noreturn]] inline void property_failed(const char* what, const char* file, int line) {
  std::fprintf(stderr, "%s:%d: property does not hold: %s\n", file, line, what);
  std::abort();
}

// Protobuf logs every string field that is not UTF-8; fuzzing makes millions of them.
inline const bool protobuf_logs_silenced = (google::protobuf::SetLogHandler(nullptr), true);

// Deterministic serialization (map entries in key order): equal messages give equal bytes, and a
// NaN compares equal to itself.
inline std::string canonical_bytes(const google::protobuf::MessageLite& m) {
  std::string out;
  {
    google::protobuf::io::StringOutputStream stream(&out);
    google::protobuf::io::CodedOutputStream coded(&stream);
    coded.SetSerializationDeterministic(true);
    m.SerializeToCodedStream(&coded);
  }
  return out;
}

// Hands `data` to `feed` in pieces of `piece` bytes (at least 1), calling `drain` after each, as
// a connection's reads would arrive.
template <class Feed, class Drain>
void feed_in_pieces(const uint8_t* data, size_t size, size_t piece, Feed&& feed, Drain&& drain) {
  piece = std::max<size_t>(piece, 1);
  for (size_t at = 0; at < size; at += piece) {
    feed(reinterpret_cast<const char*>(data) + at, std::min(piece, size - at));
    drain();
  }
}

// The piece size a target's first input byte picks: 0 means all at once.
inline size_t piece_size(uint8_t selector, size_t size) {
  return selector == 0 ? size : selector;
}

} // namespace actormq::fuzz
