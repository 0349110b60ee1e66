// The replication stream of a replicated store (docs/replication.md): the master ships each
// committed part of a batch, in order, as one frame; a replica applies it to its own store in one
// transaction (store::apply_replicated) and records where it stands in the same transaction.
// Plain C++ (no CAF).
//
// A frame, little-endian: u32 body size, u32 CRC-32 of the body, then the body:
//   u8 version (1), u64 epoch, u64 sequence, u64 previous epoch, u8 flags, the operations.
// The operations and the flags are a journal record's (journal_records.hpp): the operations of one
// committed part and whether its puts failed store_full.
#pragma once

#include "common/result.hpp"
#include "storage/backend.hpp"

#include <cstddef>
#include <cstdint>
#include <deque>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace actormq::storage {

// Where a store stands in the replicated log: the sequence of the last batch it holds (0: none)
// and the epoch of the master that committed that batch.
struct replication_position {
  uint64_t epoch = 0;
  uint64_t sequence = 0;
  friend bool operator==(const replication_position& a, const replication_position& b) {
    return a.epoch == b.epoch && a.sequence == b.sequence;
  }
  friend bool operator!=(const replication_position& a, const replication_position& b) {
    return !(a == b);
  }
};

// Which of two positions has the newer data: the higher epoch, then the higher sequence.
inline bool newer(const replication_position& a, const replication_position& b) {
  return a.epoch != b.epoch ? a.epoch > b.epoch : a.sequence > b.sequence;
}

// One committed part of a batch, as shipped.
struct replicated_batch {
  uint64_t epoch = 0;          // of the master that committed it (never 0)
  uint64_t sequence = 0;       // its place in the log: the previous batch's plus one (from 1)
  uint64_t previous_epoch = 0; // the epoch of batch sequence - 1 (0 before the first)
  uint8_t flags = 0;           // journal record flags
  std::string operations;      // journal record payload

  replication_position position() const { return {epoch, sequence}; }
  replication_position previous() const { return {previous_epoch, sequence - 1}; }
};

constexpr size_t replication_frame_head = 8;  // size and CRC
constexpr size_t replication_body_fixed = 26; // version, epochs, sequence, flags
constexpr uint8_t replication_version = 1;

// The frame of `batch`.
std::string encode_replicated_batch(const replicated_batch& batch);

// The frame of the operations [first, last) of `ops`, committed by `epoch` at `sequence` after a
// batch of `previous_epoch`.
replicated_batch make_replicated_batch(const std::vector<operation>& ops, size_t first, size_t last,
                                       bool puts_fail_full, replication_position previous,
                                       uint64_t epoch);

// The operations a batch carries. Errors: corrupt.
result<std::vector<operation>> decode_replicated_operations(const replicated_batch& batch);

// Frames out of a byte stream that arrives in pieces of any size.
class replication_decoder {
public:
  static constexpr size_t default_max_frame = 256u << 20;
  explicit replication_decoder(size_t max_frame = default_max_frame) : max_frame_(max_frame) {}

  void feed(std::string_view bytes) { buffer_.append(bytes.data(), bytes.size()); }

  // The next whole frame, or nullopt when more bytes are needed. Errors (the stream is then
  // broken, every later call fails too): corrupt: a frame over the maximum size, a CRC that
  // does not match, an unknown version or flag, sequence 0, epoch 0 or a previous epoch above
  // the epoch.
  result<std::optional<replicated_batch>> next();

  size_t buffered() const noexcept { return buffer_.size() - consumed_; }

private:
  std::string buffer_;
  size_t consumed_ = 0;
  size_t max_frame_;
  std::string broken_;
};

// The master's log of recent batches: gives each committed part the next sequence and keeps the
// newest ones (at most `keep_bytes` of operations) for replicas that fall behind.
class replication_log {
public:
  // `start`: the position of the store the master opened; `epoch`: the master's (at least
  // start.epoch).
  replication_log(replication_position start, uint64_t epoch, size_t keep_bytes);

  // The next batch of the log, appended to it. Its sequence follows position().
  const replicated_batch& append(uint8_t flags, std::string operations);
  // Appends a batch already numbered (a store that ships its own commits): it must follow
  // position() (else false, nothing kept).
  bool append(replicated_batch batch);

  replication_position position() const noexcept { return position_; }
  uint64_t epoch() const noexcept { return epoch_; }

  enum class catch_up { batches, too_far_behind, diverged };
  // What a replica at `at` needs: the batches after it (`out`, in order), or too_far_behind
  // (the batches after it are no longer kept: it needs a full copy), or diverged (it holds a
  // batch at its position that this log does not: another master's, never acknowledged).
  catch_up since(replication_position at, std::vector<const replicated_batch*>& out) const;

private:
  void trim();

  replication_position position_;
  uint64_t epoch_;
  size_t keep_bytes_;
  size_t kept_bytes_ = 0;
  std::deque<replicated_batch> kept_;
};

} // namespace actormq::storage
