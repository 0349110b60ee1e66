// Base64 (RFC 4648's standard alphabet) decoding, the project's one implementation: the console
// reads HTTP Basic credentials with it.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace actormq {

// The bytes `in` encodes, or nullopt when it holds a character outside the alphabet. Decoding
// stops at the first '=' (padding is optional).
inline std::optional<std::string> base64_decode(std::string_view in) {
  auto val = [](char c) -> int {
    if (c >= 'A' && c <= 'Z')
      return c - 'A';
    if (c >= 'a' && c <= 'z')
      return c - 'a' + 26;
    if (c >= '0' && c <= '9')
      return c - '0' + 52;
    if (c == '+')
      return 62;
    if (c == '/')
      return 63;
    return -1;
  };
  std::string out;
  uint32_t acc = 0;
  int bits = 0;
  for (char c : in) {
    if (c == '=')
      break;
    int v = val(c);
    if (v < 0)
      return std::nullopt;
    acc = (acc << 6) | static_cast<uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out += static_cast<char>((acc >> bits) & 0xff);
    }
  }
  return out;
}

} // namespace actormq
