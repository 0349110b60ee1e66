#include "protocol/destination_options.hpp"

#include "protocol/uri.hpp"

#include <charconv>

namespace actormq::protocol {

namespace {

failure bad(const std::string& what) {
  return failure{uri_errc::bad_option, what};
}

} // namespace

result<destination_with_options> split_destination_options(std::string_view text) {
  destination_with_options out;
  auto question = text.find('?');
  out.destination = std::string(text.substr(0, question));
  if (question == std::string_view::npos)
    return out;
  auto rest = text.substr(question + 1);
  while (!rest.empty()) {
    auto amp = rest.find('&');
    auto item = rest.substr(0, amp);
    rest = amp == std::string_view::npos ? std::string_view{} : rest.substr(amp + 1);
    auto eq = item.find('=');
    if (eq == std::string_view::npos || eq == 0)
      return bad("destination option '" + std::string(item) + "' is not name=value");
    std::string name(item.substr(0, eq));
    std::string value(item.substr(eq + 1));
    if (!out.options.emplace(name, value).second)
      return bad("destination option '" + name + "' is given twice");
    if (name == "consumer.exclusive") {
      if (value != "true" && value != "false")
        return bad("consumer.exclusive takes true or false, not '" + value + "'");
      out.consumer.exclusive = value == "true";
    } else if (name == "consumer.priority") {
      int32_t n = -1;
      auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), n);
      if (ec != std::errc{} || end != value.data() + value.size() || n < 0 || n > 127)
        return bad("consumer.priority takes a number from 0 to 127, not '" + value + "'");
      out.consumer.has_priority = true;
      out.consumer.priority = n;
    }
  }
  return out;
}

} // namespace actormq::protocol
