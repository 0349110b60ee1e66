// What the loader (loader.cpp) and the validation (validate.cpp) share in their error texts.
#pragma once

#include "config/loader.hpp"

#include <string>
#include <string_view>

namespace actormq::config::detail {

inline failure fail(config_errc code, std::string what) {
  return failure{make_error_code(code), std::move(what)};
}

inline std::string in_quotes(std::string_view s) {
  std::string out = "\"";
  out.append(s);
  out += '"';
  return out;
}

} // namespace actormq::config::detail
