// Length-prefixed framing: see frame_codec.hpp and docs/protocol.md.
#include "protocol/frame_codec.hpp"

#include <climits>
#include <utility>

namespace actormq::protocol {

namespace {

class codec_category_impl : public std::error_category {
public:
  const char* name() const noexcept override { return "actormq.protocol.codec"; }

  std::string message(int code) const override {
    switch (static_cast<codec_errc>(code)) {
    case codec_errc::ok:
      return "ok";
    case codec_errc::frame_too_large:
      return "frame too large";
    case codec_errc::malformed:
      return "malformed frame";
    case codec_errc::unknown_command:
      return "unknown command";
    case codec_errc::encode_failed:
      return "frame encoding failed";
    case codec_errc::unreadable_message:
      return "unreadable stored message";
    }
    return "unknown codec error " + std::to_string(code);
  }
};

// Compaction keeps the decoder's memory proportional to what is still unconsumed: the consumed
// prefix is dropped once it is at least as large as the rest, and a buffer that once held a big
// frame gives its memory back once it is mostly empty.
constexpr size_t shrink_threshold_bytes = 64 * 1024;

uint32_t read_be32(const char* p) {
  auto b = [p](int i) { return static_cast<uint32_t>(static_cast<unsigned char>(p[i])); };
  return (b(0) << 24) | (b(1) << 16) | (b(2) << 8) | b(3);
}

void append_be32(std::string& out, uint32_t v) {
  out.push_back(static_cast<char>((v >> 24) & 0xff));
  out.push_back(static_cast<char>((v >> 16) & 0xff));
  out.push_back(static_cast<char>((v >> 8) & 0xff));
  out.push_back(static_cast<char>(v & 0xff));
}

} // namespace

const std::error_category& codec_category() {
  static const codec_category_impl instance;
  return instance;
}

std::error_code make_error_code(codec_errc e) {
  return {static_cast<int>(e), codec_category()};
}

result<void> encode_frame(const wire::Frame& frame, std::string& out, uint32_t max_frame_bytes) {
  const size_t size = frame.ByteSizeLong();
  if (size > max_frame_bytes || size > static_cast<size_t>(INT_MAX)) {
    return {codec_errc::encode_failed, std::string{"cannot encode "} + command_name(frame) +
                                           " frame of " + std::to_string(size) +
                                           " bytes: the maximum frame size is " +
                                           std::to_string(max_frame_bytes) + " bytes"};
  }
  const size_t start = out.size();
  append_be32(out, static_cast<uint32_t>(size));
  out.resize(start + length_prefix_bytes + size);
  if (!frame.SerializeToArray(out.data() + start + length_prefix_bytes, static_cast<int>(size))) {
    out.resize(start);
    return {codec_errc::encode_failed,
            std::string{"cannot serialize "} + command_name(frame) + " frame"};
  }
  return {};
}

frame_decoder::frame_decoder(uint32_t max_frame_bytes) : max_frame_bytes_(max_frame_bytes) {}

void frame_decoder::feed(const char* data, size_t size) {
  if (failed_ || size == 0)
    return; // a failed decoder never yields again; do not hold on to bytes
  compact();
  buffer_.append(data, size);
}

void frame_decoder::release_memory() {
  if (buffered() != 0)
    return;
  std::string().swap(buffer_);
  offset_ = 0;
}

void frame_decoder::compact() {
  if (offset_ == 0)
    return;
  const size_t rest = buffer_.size() - offset_;
  if (offset_ < rest)
    return;
  buffer_.erase(0, offset_);
  offset_ = 0;
  if (buffer_.capacity() > shrink_threshold_bytes && buffer_.size() < buffer_.capacity() / 4)
    buffer_.shrink_to_fit();
}

result<bool> frame_decoder::fail(std::error_code code, std::string what) {
  failed_ = code;
  failed_what_ = std::move(what);
  buffer_.clear();
  buffer_.shrink_to_fit();
  offset_ = 0;
  return failure{failed_, failed_what_};
}

result<bool> frame_decoder::next(wire::Frame& out) {
  if (failed_)
    return failure{failed_, failed_what_};
  if (buffered() < length_prefix_bytes)
    return false;
  const uint32_t size = read_be32(buffer_.data() + offset_);
  if (size > max_frame_bytes_ || size > static_cast<uint32_t>(INT_MAX)) {
    return fail(codec_errc::frame_too_large, "frame length " + std::to_string(size) +
                                                 " exceeds the maximum frame size of " +
                                                 std::to_string(max_frame_bytes_) + " bytes");
  }
  if (buffered() < length_prefix_bytes + size)
    return false;
  const char* body = buffer_.data() + offset_ + length_prefix_bytes;
  if (!out.ParseFromArray(body, static_cast<int>(size))) {
    return fail(codec_errc::malformed,
                "frame of " + std::to_string(size) + " bytes does not parse as a Frame");
  }
  offset_ += length_prefix_bytes + size;
  if (offset_ == buffer_.size()) {
    buffer_.clear(); // cheap: keeps the capacity for the next frame
    offset_ = 0;
    if (buffer_.capacity() > shrink_threshold_bytes)
      buffer_.shrink_to_fit();
  }
  if (out.command_case() == wire::Frame::COMMAND_NOT_SET) {
    return fail(codec_errc::unknown_command, "frame (correlation id " +
                                                 std::to_string(out.correlation_id()) +
                                                 ") has no command this node knows");
  }
  return true;
}

const char* command_name(const wire::Frame& frame) {
  using F = wire::Frame;
  switch (frame.command_case()) {
  case F::kConnect:
    return "connect";
  case F::kConnected:
    return "connected";
  case F::kOpenConsumer:
    return "open_consumer";
  case F::kCloseConsumer:
    return "close_consumer";
  case F::kCredit:
    return "credit";
  case F::kSend:
    return "send";
  case F::kDispatch:
    return "dispatch";
  case F::kAck:
    return "ack";
  case F::kReceipt:
    return "receipt";
  case F::kError:
    return "error";
  case F::kHeartbeat:
    return "heartbeat";
  case F::kDisconnect:
    return "disconnect";
  case F::kBrowse:
    return "browse";
  case F::kBrowseReply:
    return "browse_reply";
  case F::kStatsRequest:
    return "stats_request";
  case F::kStatsReply:
    return "stats_reply";
  case F::kPurge:
    return "purge";
  case F::kClusterUpdate:
    return "cluster_update";
  case F::kUnsubscribe:
    return "unsubscribe";
  case F::kBeginTransaction:
    return "begin_transaction";
  case F::kCommitTransaction:
    return "commit_transaction";
  case F::kRollbackTransaction:
    return "rollback_transaction";
  case F::kRetry:
    return "retry";
  case F::COMMAND_NOT_SET:
    return "(none)";
  }
  return "(unknown)";
}

} // namespace actormq::protocol
