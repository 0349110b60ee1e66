// Protobuf's varints and field tags, for the few places that write or walk encoded messages
// without parsing them (the origin stamp, a dispatch framed around stored bytes, the wire
// compatibility check of an envelope). Plain C++ (no CAF).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace actormq::protocol {

constexpr uint32_t wire_type_varint = 0;
constexpr uint32_t wire_type_fixed64 = 1;
constexpr uint32_t wire_type_length_delimited = 2;
constexpr uint32_t wire_type_fixed32 = 5;

// Bytes of `value` as a varint.
constexpr size_t varint_bytes(uint64_t value) {
  size_t n = 1;
  for (; value >= 0x80; value >>= 7)
    ++n;
  return n;
}

inline void append_varint(std::string& out, uint64_t value) {
  while (value >= 0x80) {
    out.push_back(static_cast<char>((value & 0x7f) | 0x80));
    value >>= 7;
  }
  out.push_back(static_cast<char>(value));
}

inline void append_tag(std::string& out, uint32_t field, uint32_t wire_type) {
  append_varint(out, (static_cast<uint64_t>(field) << 3) | wire_type);
}

// Reads the varint at bytes[i] and moves i past it; false if it runs past the end (or 10 bytes).
inline bool read_varint(std::string_view bytes, size_t& i, uint64_t& out) {
  out = 0;
  for (int shift = 0; shift < 64 && i < bytes.size(); shift += 7) {
    auto b = static_cast<uint8_t>(bytes[i++]);
    out |= static_cast<uint64_t>(b & 0x7f) << shift;
    if (!(b & 0x80))
      return true;
  }
  return false;
}

} // namespace actormq::protocol
