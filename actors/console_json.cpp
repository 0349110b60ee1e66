// The console's JSON writer and the parser of request bodies (declared in console_json.hpp).
#include "actors/console_json.hpp"
#include "common/json.hpp"

#include <cmath>
#include <cstdio>
#include <cstdlib>

namespace actormq::actors::console_detail {

using actormq::json_string;

void json_number(std::string& out, double d) {
  if (!std::isfinite(d)) {
    out += "null";
    return;
  }
  char buf[32];
  if (std::floor(d) == d && std::fabs(d) < 9007199254740992.0) // integral: every digit
    std::snprintf(buf, sizeof buf, "%.0f", d);
  else
    std::snprintf(buf, sizeof buf, "%.9g", d);
  out += buf;
}

json_writer& json_writer::begin_object() {
  value_prefix();
  out_ += '{';
  first_ = true;
  return *this;
}
json_writer& json_writer::end_object() {
  out_ += '}';
  first_ = false;
  return *this;
}
json_writer& json_writer::begin_array() {
  value_prefix();
  out_ += '[';
  first_ = true;
  return *this;
}
json_writer& json_writer::end_array() {
  out_ += ']';
  first_ = false;
  return *this;
}
json_writer& json_writer::key(std::string_view k) {
  if (!first_)
    out_ += ',';
  json_string(out_, k);
  out_ += ':';
  after_key_ = true;
  return *this;
}
json_writer& json_writer::str(std::string_view s) {
  value_prefix();
  json_string(out_, s);
  return *this;
}
json_writer& json_writer::num(int64_t v) {
  value_prefix();
  out_ += std::to_string(v);
  return *this;
}
json_writer& json_writer::unum(uint64_t v) {
  value_prefix();
  out_ += std::to_string(v);
  return *this;
}
json_writer& json_writer::real(double v) {
  value_prefix();
  json_number(out_, v);
  return *this;
}
json_writer& json_writer::boolean(bool b) {
  value_prefix();
  out_ += b ? "true" : "false";
  return *this;
}
json_writer& json_writer::null() {
  value_prefix();
  out_ += "null";
  return *this;
}
void json_writer::value_prefix() {
  if (!after_key_ && !first_)
    out_ += ',';
  after_key_ = false;
  first_ = false;
}

namespace {

class json_parser {
public:
  explicit json_parser(std::string_view text) : s_(text) {}

  // The value, or nullopt with error() set.
  std::optional<json_value> parse() {
    auto v = value(0);
    if (!v)
      return std::nullopt;
    ws();
    if (i_ != s_.size())
      return fail("unexpected text after the JSON value");
    return v;
  }
  const std::string& error() const { return error_; }

private:
  std::nullopt_t fail(std::string what) {
    if (error_.empty())
      error_ = what + " at offset " + std::to_string(i_);
    return std::nullopt;
  }
  void ws() {
    while (i_ < s_.size() && (s_[i_] == ' ' || s_[i_] == '\t' || s_[i_] == '\n' || s_[i_] == '\r'))
      ++i_;
  }
  bool literal(std::string_view word) {
    if (s_.substr(i_, word.size()) != word)
      return false;
    i_ += word.size();
    return true;
  }
  std::optional<json_value> value(int depth) {
    if (depth > 32)
      return fail("JSON nested too deeply");
    ws();
    if (i_ >= s_.size())
      return fail("unexpected end of JSON");
    char c = s_[i_];
    if (c == '{')
      return obj(depth);
    if (c == '[')
      return arr(depth);
    if (c == '"') {
      auto s = string();
      if (!s)
        return std::nullopt;
      return json_value{std::move(*s)};
    }
    if (literal("true"))
      return json_value{true};
    if (literal("false"))
      return json_value{false};
    if (literal("null"))
      return json_value{nullptr};
    if (c == '-' || (c >= '0' && c <= '9'))
      return number();
    return fail("unexpected character in JSON");
  }
  std::optional<json_value> number() {
    size_t start = i_;
    if (s_[i_] == '-')
      ++i_;
    auto digits = [&] {
      size_t b = i_;
      while (i_ < s_.size() && s_[i_] >= '0' && s_[i_] <= '9')
        ++i_;
      return i_ > b;
    };
    if (!digits())
      return fail("bad number");
    if (i_ < s_.size() && s_[i_] == '.') {
      ++i_;
      if (!digits())
        return fail("bad number");
    }
    if (i_ < s_.size() && (s_[i_] == 'e' || s_[i_] == 'E')) {
      ++i_;
      if (i_ < s_.size() && (s_[i_] == '+' || s_[i_] == '-'))
        ++i_;
      if (!digits())
        return fail("bad number");
    }
    return json_value{std::strtod(std::string(s_.substr(start, i_ - start)).c_str(), nullptr)};
  }
  static void utf8(std::string& out, uint32_t cp) {
    if (cp < 0x80) {
      out += static_cast<char>(cp);
    } else if (cp < 0x800) {
      out += static_cast<char>(0xc0 | (cp >> 6));
      out += static_cast<char>(0x80 | (cp & 0x3f));
    } else if (cp < 0x10000) {
      out += static_cast<char>(0xe0 | (cp >> 12));
      out += static_cast<char>(0x80 | ((cp >> 6) & 0x3f));
      out += static_cast<char>(0x80 | (cp & 0x3f));
    } else {
      out += static_cast<char>(0xf0 | (cp >> 18));
      out += static_cast<char>(0x80 | ((cp >> 12) & 0x3f));
      out += static_cast<char>(0x80 | ((cp >> 6) & 0x3f));
      out += static_cast<char>(0x80 | (cp & 0x3f));
    }
  }
  std::optional<uint32_t> hex4() {
    if (i_ + 4 > s_.size())
      return std::nullopt;
    uint32_t v = 0;
    for (int k = 0; k < 4; ++k) {
      char h = s_[i_++];
      v <<= 4;
      if (h >= '0' && h <= '9')
        v |= h - '0';
      else if (h >= 'a' && h <= 'f')
        v |= h - 'a' + 10;
      else if (h >= 'A' && h <= 'F')
        v |= h - 'A' + 10;
      else
        return std::nullopt;
    }
    return v;
  }
  std::optional<std::string> string() {
    ++i_; // "
    std::string out;
    while (i_ < s_.size()) {
      char c = s_[i_++];
      if (c == '"')
        return out;
      if (static_cast<unsigned char>(c) < 0x20) {
        fail("control character in a JSON string");
        return std::nullopt;
      }
      if (c != '\\') {
        out += c;
        continue;
      }
      if (i_ >= s_.size())
        break;
      char e = s_[i_++];
      switch (e) {
      case '"':
      case '\\':
      case '/':
        out += e;
        break;
      case 'b':
        out += '\b';
        break;
      case 'f':
        out += '\f';
        break;
      case 'n':
        out += '\n';
        break;
      case 'r':
        out += '\r';
        break;
      case 't':
        out += '\t';
        break;
      case 'u': {
        auto cp = hex4();
        if (!cp) {
          fail("bad \\u escape");
          return std::nullopt;
        }
        if (*cp >= 0xd800 && *cp < 0xdc00 && s_.substr(i_, 2) == "\\u") {
          i_ += 2;
          auto lo = hex4();
          if (!lo || *lo < 0xdc00 || *lo > 0xdfff) {
            fail("bad surrogate pair");
            return std::nullopt;
          }
          *cp = 0x10000 + ((*cp - 0xd800) << 10) + (*lo - 0xdc00);
        } else if (*cp >= 0xd800 && *cp < 0xe000) {
          *cp = 0xfffd;
        }
        utf8(out, *cp);
        break;
      }
      default:
        fail("bad escape in a JSON string");
        return std::nullopt;
      }
    }
    fail("unterminated JSON string");
    return std::nullopt;
  }
  std::optional<json_value> arr(int depth) {
    ++i_;
    auto a = std::make_shared<json_value::array>();
    ws();
    if (i_ < s_.size() && s_[i_] == ']') {
      ++i_;
      return json_value{a};
    }
    for (;;) {
      auto v = value(depth + 1);
      if (!v)
        return std::nullopt;
      a->push_back(std::move(*v));
      ws();
      if (i_ < s_.size() && s_[i_] == ',') {
        ++i_;
        continue;
      }
      if (i_ < s_.size() && s_[i_] == ']') {
        ++i_;
        return json_value{a};
      }
      return fail("expected , or ] in a JSON array");
    }
  }
  std::optional<json_value> obj(int depth) {
    ++i_;
    auto o = std::make_shared<json_value::object>();
    ws();
    if (i_ < s_.size() && s_[i_] == '}') {
      ++i_;
      return json_value{o};
    }
    for (;;) {
      ws();
      if (i_ >= s_.size() || s_[i_] != '"')
        return fail("expected a key in a JSON object");
      auto k = string();
      if (!k)
        return std::nullopt;
      ws();
      if (i_ >= s_.size() || s_[i_] != ':')
        return fail("expected : in a JSON object");
      ++i_;
      auto v = value(depth + 1);
      if (!v)
        return std::nullopt;
      (*o)[*k] = std::move(*v);
      ws();
      if (i_ < s_.size() && s_[i_] == ',') {
        ++i_;
        continue;
      }
      if (i_ < s_.size() && s_[i_] == '}') {
        ++i_;
        return json_value{o};
      }
      return fail("expected , or } in a JSON object");
    }
  }

  std::string_view s_;
  size_t i_ = 0;
  std::string error_;
};

} // namespace

std::optional<json_value> parse_json(std::string_view text, std::string& error) {
  json_parser parser(text);
  auto parsed = parser.parse();
  if (!parsed)
    error = parser.error();
  return parsed;
}

} // namespace actormq::actors::console_detail
