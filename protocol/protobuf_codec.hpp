// The codec of ActorMQ's own client protocol (protocol "actormq"): length-prefixed Protobuf
// frames (frame_codec.hpp, actormq.proto) to commands, events to frames. A wire Message becomes
// an envelope and back (wire_envelope.hpp). Plain C++ (no CAF).
#pragma once

#include "protocol/frame_codec.hpp"
#include "protocol/session_codec.hpp"

#include <cstdint>
#include <string>

namespace actormq::protocol {

// A message must fit in a Dispatch (and a BrowseReply) frame once the node has added its
// fields: a Frame's correlation id, the Dispatch header (consumer id, delivery key, redelivered,
// delivery count, the message's tag and length) or the BrowseReply's take at most 56 bytes, and
// the origin identity the queue stamps (origin_stamp.hpp: a 36-byte store id and the sequence)
// 49; the rest is margin.
constexpr uint32_t dispatch_overhead_bytes = 128;

// The largest serialized Message a node with this frame limit accepts from a producer.
constexpr uint32_t max_message_bytes(uint32_t max_frame_bytes) {
  return max_frame_bytes > dispatch_overhead_bytes ? max_frame_bytes - dispatch_overhead_bytes : 0;
}

class protobuf_codec final : public session_codec {
public:
  explicit protobuf_codec(const codec_limits& limits);

  const char* protocol() const noexcept override { return "actormq"; }
  void feed(const char* data, size_t size) override;
  bool next(command& out) override;
  // Nothing once the codec has stopped reading (after a fatal refusal).
  size_t buffered() const noexcept override { return failed_ ? 0 : decoder_.buffered(); }
  void release_memory() override { decoder_.release_memory(); }
  result<void> encode(uint64_t request_id, const event& ev, std::string& out) override;

private:
  // Turns a decoded frame into a command (or a refusal).
  command_body to_command(wire::Frame& frame);

  codec_limits limits_;
  frame_decoder decoder_;
  wire::Frame frame_; // reused between frames
  bool failed_ = false;
};

} // namespace actormq::protocol
