// Bytes as lower-case hex pairs separated by spaces ("0a 09 71"), for golden-byte tests.
#pragma once

#include <string>

namespace actormq::test {

inline std::string hex(const std::string& bytes) {
  static const char digits[] = "0123456789abcdef";
  std::string out;
  for (unsigned char c : bytes) {
    if (!out.empty())
      out.push_back(' ');
    out.push_back(digits[c >> 4]);
    out.push_back(digits[c & 0xf]);
  }
  return out;
}

} // namespace actormq::test
