// The one reading of a boolean option's text, for the tools and the client's URI options:
// "true" or "false" in any letter case.
#pragma once

#include <cctype>
#include <optional>
#include <string_view>

namespace actormq {

// true or false, or nullopt when the text is neither.
inline std::optional<bool> parse_bool(std::string_view text) {
  auto equals = [text](std::string_view word) {
    if (text.size() != word.size())
      return false;
    for (size_t i = 0; i < text.size(); ++i)
      if (std::tolower(static_cast<unsigned char>(text[i])) != word[i])
        return false;
    return true;
  };
  if (equals("true"))
    return true;
  if (equals("false"))
    return false;
  return std::nullopt;
}

} // namespace actormq
