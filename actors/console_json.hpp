// JSON text for the console: a small writer for its answers and a parser for request bodies
// (the send action's). Strings go through actormq::json_string, which also escapes markup.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <variant>
#include <vector>

namespace actormq::actors::console_detail {

// A finite number as JSON (integral values with every digit), otherwise null.
void json_number(std::string& out, double d);

// A small JSON builder: objects and arrays with commas placed for the caller.
class json_writer {
public:
  json_writer& begin_object();
  json_writer& end_object();
  json_writer& begin_array();
  json_writer& end_array();
  json_writer& key(std::string_view k);
  json_writer& str(std::string_view s);
  json_writer& num(int64_t v);
  json_writer& unum(uint64_t v);
  json_writer& real(double v);
  json_writer& boolean(bool b);
  json_writer& null();
  template <class T> json_writer& field(std::string_view k, const T& v) {
    key(k);
    if constexpr (std::is_same_v<T, bool>)
      return boolean(v);
    else if constexpr (std::is_floating_point_v<T>)
      return real(v);
    else if constexpr (std::is_integral_v<T> && std::is_signed_v<T>)
      return num(v);
    else if constexpr (std::is_integral_v<T>)
      return unum(v);
    else
      return str(v);
  }
  std::string& out() { return out_; }

private:
  void value_prefix();
  std::string out_;
  bool first_ = true;
  bool after_key_ = false;
};

// A JSON value, parsed from a request body.
struct json_value {
  using object = std::map<std::string, json_value>;
  using array = std::vector<json_value>;
  std::variant<std::nullptr_t, bool, double, std::string, std::shared_ptr<array>,
               std::shared_ptr<object>>
      v;
};

// The value `text` holds, or nullopt with `error` saying what is wrong and at which offset.
std::optional<json_value> parse_json(std::string_view text, std::string& error);

} // namespace actormq::actors::console_detail
