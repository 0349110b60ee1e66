#include "protocol/session_codec.hpp"

#include "protocol/protobuf_codec.hpp"
#include "protocol/stomp_codec.hpp"
#include "protocol/stomp_ws_codec.hpp"

namespace actormq::protocol {

const std::vector<std::string>& session_protocols() {
  static const std::vector<std::string> names{"actormq", "stomp", "stomp-ws"};
  return names;
}

std::unique_ptr<session_codec> make_session_codec(std::string_view protocol,
                                                  const codec_limits& limits) {
  if (protocol == "actormq")
    return std::make_unique<protobuf_codec>(limits);
  if (protocol == "stomp")
    return std::make_unique<stomp_codec>(limits);
  if (protocol == "stomp-ws")
    return std::make_unique<stomp_ws_codec>(limits);
  return nullptr;
}

} // namespace actormq::protocol
