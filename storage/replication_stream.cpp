// The replication stream: frames, their decoder, and the master's log of recent batches
// (replication.hpp).
#include "storage/replication.hpp"

#include "storage/encoding.hpp"
#include "storage/journal_records.hpp"

#include <zlib.h>

#include <algorithm>

namespace actormq::storage {
namespace {

uint32_t crc_of(std::string_view bytes) {
  uLong crc = crc32(0L, Z_NULL, 0);
  // crc32 takes at most 4 GiB at a time; frames are far smaller (the decoder's maximum).
  return static_cast<uint32_t>(
      crc32(crc, reinterpret_cast<const Bytef*>(bytes.data()), static_cast<uInt>(bytes.size())));
}

constexpr uint8_t known_flags = detail::record_puts_fail_full;

} // namespace

std::string encode_replicated_batch(const replicated_batch& batch) {
  std::string body;
  body.reserve(replication_body_fixed + batch.operations.size());
  body.push_back(static_cast<char>(replication_version));
  detail::append_le(body, batch.epoch, 8);
  detail::append_le(body, batch.sequence, 8);
  detail::append_le(body, batch.previous_epoch, 8);
  body.push_back(static_cast<char>(batch.flags));
  body += batch.operations;
  std::string frame;
  frame.reserve(replication_frame_head + body.size());
  detail::append_le(frame, body.size(), 4);
  detail::append_le(frame, crc_of(body), 4);
  frame += body;
  return frame;
}

replicated_batch make_replicated_batch(const std::vector<operation>& ops, size_t first, size_t last,
                                       bool puts_fail_full, replication_position previous,
                                       uint64_t epoch) {
  replicated_batch batch;
  batch.epoch = epoch;
  batch.sequence = previous.sequence + 1;
  batch.previous_epoch = previous.epoch;
  batch.flags = puts_fail_full ? detail::record_puts_fail_full : 0;
  batch.operations = detail::encode_operations(ops, first, last);
  return batch;
}

result<std::vector<operation>> decode_replicated_operations(const replicated_batch& batch) {
  std::vector<operation> ops;
  if (!detail::decode_operations(batch.operations, ops))
    return failure{store_errc::corrupt,
                   "replicated batch " + std::to_string(batch.sequence) + " does not decode"};
  return ops;
}

result<std::optional<replicated_batch>> replication_decoder::next() {
  if (!broken_.empty())
    return failure{store_errc::corrupt, broken_};
  std::string_view rest(buffer_);
  rest.remove_prefix(consumed_);
  if (rest.size() < replication_frame_head)
    return std::optional<replicated_batch>();
  auto size = static_cast<size_t>(detail::read_le(rest, 0, 4));
  auto crc = static_cast<uint32_t>(detail::read_le(rest, 4, 4));
  auto fail = [&](std::string why) -> result<std::optional<replicated_batch>> {
    broken_ = "replication stream: " + why;
    return failure{store_errc::corrupt, broken_};
  };
  if (size < replication_body_fixed || size > max_frame_)
    return fail("a frame of " + std::to_string(size) + " bytes (at least " +
                std::to_string(replication_body_fixed) + ", at most " + std::to_string(max_frame_) +
                ")");
  if (rest.size() - replication_frame_head < size)
    return std::optional<replicated_batch>();
  auto body = rest.substr(replication_frame_head, size);
  if (crc_of(body) != crc)
    return fail("a frame whose CRC does not match");
  if (static_cast<uint8_t>(body[0]) != replication_version)
    return fail("frame version " + std::to_string(static_cast<uint8_t>(body[0])));
  replicated_batch batch;
  batch.epoch = detail::read_le(body, 1, 8);
  batch.sequence = detail::read_le(body, 9, 8);
  batch.previous_epoch = detail::read_le(body, 17, 8);
  batch.flags = static_cast<uint8_t>(body[25]);
  if ((batch.flags & ~known_flags) != 0)
    return fail("unknown flags " + std::to_string(batch.flags));
  if (batch.epoch == 0 || batch.sequence == 0 || batch.previous_epoch > batch.epoch)
    return fail("batch " + std::to_string(batch.sequence) + " of epoch " +
                std::to_string(batch.epoch) + " after epoch " +
                std::to_string(batch.previous_epoch));
  batch.operations.assign(body.substr(replication_body_fixed));
  consumed_ += replication_frame_head + size;
  // Drops what was read once it is most of the buffer, so that the buffer does not grow.
  if (consumed_ > buffer_.size() / 2) {
    buffer_.erase(0, consumed_);
    consumed_ = 0;
  }
  return std::optional<replicated_batch>(std::move(batch));
}

replication_log::replication_log(replication_position start, uint64_t epoch, size_t keep_bytes)
    : position_(start), epoch_(std::max(epoch, start.epoch)), keep_bytes_(keep_bytes) {}

const replicated_batch& replication_log::append(uint8_t flags, std::string operations) {
  replicated_batch batch;
  batch.epoch = epoch_;
  batch.sequence = position_.sequence + 1;
  batch.previous_epoch = position_.epoch;
  batch.flags = flags;
  batch.operations = std::move(operations);
  append(std::move(batch));
  return kept_.back();
}

bool replication_log::append(replicated_batch batch) {
  if (batch.previous() != position_ || batch.epoch < position_.epoch)
    return false;
  position_ = batch.position();
  epoch_ = std::max(epoch_, batch.epoch);
  kept_bytes_ += batch.operations.size();
  kept_.push_back(std::move(batch));
  trim();
  return true;
}

void replication_log::trim() {
  // The newest batch stays, whatever its size, so that a replica one behind catches up.
  while (kept_.size() > 1 && kept_bytes_ > keep_bytes_) {
    kept_bytes_ -= kept_.front().operations.size();
    kept_.pop_front();
  }
}

replication_log::catch_up replication_log::since(replication_position at,
                                                 std::vector<const replicated_batch*>& out) const {
  out.clear();
  if (at == position_)
    return catch_up::batches;
  if (at.sequence >= position_.sequence)
    return catch_up::diverged; // it holds a batch this log never had
  if (kept_.empty() || at.sequence + 1 < kept_.front().sequence)
    return catch_up::too_far_behind;
  // The first batch it needs must follow the very batch it holds.
  size_t first = static_cast<size_t>(at.sequence + 1 - kept_.front().sequence);
  if (kept_[first].previous_epoch != at.epoch)
    return catch_up::diverged;
  for (size_t i = first; i < kept_.size(); ++i)
    out.push_back(&kept_[i]);
  return catch_up::batches;
}

} // namespace actormq::storage
