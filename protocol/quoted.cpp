#include "protocol/quoted.hpp"

#include <cctype>

namespace actormq::protocol {

std::string printable(std::string_view text, size_t max) {
  static const char digits[] = "0123456789abcdef";
  std::string out;
  for (size_t i = 0; i < text.size() && i < max; ++i) {
    auto u = static_cast<unsigned char>(text[i]);
    if (std::isprint(u)) {
      out.push_back(text[i]);
    } else {
      out += "\\x";
      out.push_back(digits[u >> 4]);
      out.push_back(digits[u & 0xf]);
    }
  }
  if (text.size() > max)
    out += "...";
  return out;
}

std::string quoted(std::string_view text, size_t max) {
  return "'" + printable(text, max) + "'";
}

} // namespace actormq::protocol
