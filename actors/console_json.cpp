// The console's JSON answers and request bodies through nlohmann::json (console_json.hpp).
#include "actors/console_json.hpp"

#include <cmath>
#include <cstdio>
#include <cstdlib>

namespace actormq::actors::console_detail {

json json_real(double d) {
  if (!std::isfinite(d))
    return nullptr;
  if (std::floor(d) == d && std::fabs(d) < 9007199254740992.0) // integral: every digit
    return static_cast<int64_t>(d);
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.9g", d);
  return std::strtod(buf, nullptr);
}

std::string console_text(const json& j) {
  // The dump's markup characters can only stand inside strings (JSON's own syntax has none), so
  // they are escaped on the text; \b and \f are spelled \u0008 and \u000c, as the console's
  // answers always spelled them. The dump writes U+FFFD for invalid UTF-8 as it is (not \ufffd).
  auto dumped = j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  static const char* hex = "0123456789abcdef";
  std::string out;
  out.reserve(dumped.size());
  for (size_t i = 0; i < dumped.size(); ++i) {
    char c = dumped[i];
    if (c == '\\' && i + 1 < dumped.size()) {
      char e = dumped[++i];
      out += e == 'b' ? "\\u0008" : e == 'f' ? "\\u000c" : std::string{'\\', e};
    } else if (c == '<' || c == '>' || c == '&' || c == '\'' || c == 0x7f) {
      out += "\\u00";
      out += hex[(c >> 4) & 15];
      out += hex[c & 15];
    } else {
      out += c;
    }
  }
  return out;
}

namespace {

constexpr int max_depth = 32;

struct too_deep {};

bool hex4(std::string_view s, size_t at, unsigned& cp) {
  if (at + 4 > s.size())
    return false;
  cp = 0;
  for (size_t k = at; k < at + 4; ++k) {
    char h = s[k];
    cp <<= 4;
    if (h >= '0' && h <= '9')
      cp |= static_cast<unsigned>(h - '0');
    else if (h >= 'a' && h <= 'f')
      cp |= static_cast<unsigned>(h - 'a' + 10);
    else if (h >= 'A' && h <= 'F')
      cp |= static_cast<unsigned>(h - 'A' + 10);
    else
      return false;
  }
  return true;
}

// The body with each lone surrogate escape (one not part of a pair) spelled \ufffd, which takes
// as many characters, so offsets in errors stay those of the body. A high surrogate followed by
// another escape than a low surrogate is left for the parser to refuse.
std::string lone_surrogates_replaced(std::string_view text) {
  std::string out(text);
  bool in_string = false;
  for (size_t i = 0; i < out.size(); ++i) {
    char c = out[i];
    if (!in_string) {
      in_string = c == '"';
      continue;
    }
    if (c == '"') {
      in_string = false;
      continue;
    }
    if (c != '\\' || i + 1 >= out.size())
      continue;
    unsigned cp = 0;
    if (out[i + 1] != 'u' || !hex4(out, i + 2, cp)) {
      ++i; // a two-character escape (or a bad one, which the parser refuses)
      continue;
    }
    if (cp >= 0xd800 && cp < 0xdc00 && out.compare(i + 6, 2, "\\u") == 0) {
      i += 11; // a pair, or a high surrogate the parser refuses
      continue;
    }
    if (cp >= 0xd800 && cp < 0xe000)
      out.replace(i, 6, "\\ufffd");
    i += 5;
  }
  return out;
}

} // namespace

std::optional<nlohmann::json> parse_body(std::string_view text, std::string& error) {
  // The callback sees every value with the number of containers around it.
  auto depth_limit = [](int depth, nlohmann::json::parse_event_t event, nlohmann::json&) {
    using ev = nlohmann::json::parse_event_t;
    if (depth > max_depth &&
        (event == ev::value || event == ev::object_start || event == ev::array_start))
      throw too_deep{};
    return true;
  };
  // The library skips a UTF-8 byte order mark; the console has always refused one.
  if (text.substr(0, 3) == "\xef\xbb\xbf") {
    error = "a byte order mark before the JSON value";
    return std::nullopt;
  }
  try {
    return nlohmann::json::parse(lone_surrogates_replaced(text), depth_limit);
  } catch (const too_deep&) {
    error = "JSON nested too deeply (more than " + std::to_string(max_depth) + " levels)";
  } catch (const nlohmann::json::exception& e) {
    // The library's text without its "[json.exception.parse_error.101] " tag.
    std::string_view what = e.what();
    auto tag_end = what.find("] ");
    error = std::string(tag_end == std::string_view::npos ? what : what.substr(tag_end + 2));
  }
  return std::nullopt;
}

} // namespace actormq::actors::console_detail
