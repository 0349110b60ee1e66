// Private to storage/: the write-ahead journal in front of the LMDB store (docs/storage.md,
// "Journal"). A batch is durable once its record is in the journal and the journal is flushed:
// one fdatasync of a file whose blocks already exist, instead of LMDB's two synced writes per
// commit. The store commits to LMDB at checkpoints; the journal then starts again at its
// beginning. On open, the records after the last checkpoint are applied again.
//
// File: a 64-byte header ("ACTORMQJ", version, the store id), then records:
//   u32 payload size, u32 CRC-32 of the rest, u64 record number, u8 flags, payload.
// Record numbers rise by one from record to record and across restarts, so that the records of
// an earlier round, still in the file behind the newest one, end a replay: the first record
// that is torn, fails its CRC or does not carry the next number is the end.
#pragma once

#include "common/result.hpp"

#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

namespace actormq::storage::detail {

class journal {
public:
  static constexpr uint64_t header_size = 64;
  static constexpr uint64_t record_overhead = 17;

  // Opens (creates) the journal at `path` for the store `store_id`, of at most `capacity` bytes.
  // A journal of another store is refused (corrupt), unless `discard_foreign` (a new store:
  // the file is what a removed store left). Errors: io_error, corrupt.
  static result<std::unique_ptr<journal>> open(const std::filesystem::path& path,
                                               const std::string& store_id, uint64_t capacity,
                                               bool discard_foreign);
  ~journal();
  journal(const journal&) = delete;
  journal& operator=(const journal&) = delete;

  using record_handler =
      std::function<result<void>(uint64_t number, uint8_t flags, std::string_view payload)>;
  // Hands over, in order, the records numbered applied + 1, applied + 2, ... up to `limit` from
  // the start of the file, up to the first that is missing, torn or of an earlier round. Returns
  // the number of the last record handed over (`applied` if none), or the first failure of
  // `handle`.
  result<uint64_t> replay(uint64_t applied, const record_handler& handle,
                          uint64_t limit = UINT64_MAX);

  // True if a record of `payload_size` bytes fits behind the last one.
  bool fits(size_t payload_size) const noexcept;
  // Writes the next record behind the last one (not yet durable: flush()). Errors: io_error.
  result<void> append(uint64_t number, uint8_t flags, std::string_view payload);
  // Makes every appended record durable (fdatasync). Errors: io_error.
  result<void> flush();
  // After a checkpoint: the next record is written at the start again.
  void restart() noexcept { end_ = header_size; }

  uint64_t capacity() const noexcept { return capacity_; }
  uint64_t used() const noexcept { return end_; }

private:
  journal(int fd, std::string path, uint64_t capacity, uint64_t prepared);
  // Extends the zero-filled, flushed part of the file to hold `end` bytes, so that the flush of
  // a record then writes no file metadata. Errors: io_error.
  result<void> prepare(uint64_t end);

  int fd_;
  std::string path_;
  uint64_t capacity_;
  uint64_t prepared_; // bytes of the file that exist on disk (zeros or records)
  uint64_t end_ = header_size;
};

} // namespace actormq::storage::detail
