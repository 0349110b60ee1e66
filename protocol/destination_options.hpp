// Options written after a destination, ActiveMQ's form for a consumer's settings:
// "queue://orders?consumer.exclusive=true&consumer.priority=5". Plain C++ (no CAF).
#pragma once

#include "common/result.hpp"

#include <cstdint>
#include <map>
#include <string>
#include <string_view>

namespace actormq::protocol {

struct consumer_destination_options {
  bool exclusive = false;
  bool has_priority = false;
  int32_t priority = 0; // ActiveMQ: 0..127
};

struct destination_with_options {
  std::string destination;                    // the text before '?', as given
  std::map<std::string, std::string> options; // name -> value, as given
  consumer_destination_options consumer;
};

// Splits "destination?name=value&name=value". Recognises consumer.exclusive (true/false) and
// consumer.priority (0..127); other names are kept in `options` and otherwise ignored, as
// ActiveMQ ignores the consumer options it does not have. Errors (uri_errc, uri.hpp):
// bad_option for an option without a name or '=', a repeated name, or a bad value of a
// recognised option.
result<destination_with_options> split_destination_options(std::string_view text);

} // namespace actormq::protocol
