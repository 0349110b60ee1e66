// The storage::backend of the actor tests: the LMDB store's semantics (backend.hpp, store.hpp) in
// memory, without persistence. tests/storage/backend_differential_test.cpp holds the two to the
// same observable results. What only LMDB can meet it never returns: store_full (there is no
// map to fill), readers_full, io_error from a failed commit. Names and producer ids longer than
// LMDB's default key size (511 bytes) are refused with io_error as the store refuses them.
// Thread-safe: apply() and the reads take one mutex.
#pragma once

#include "storage/backend.hpp"

#include <memory>
#include <string>

namespace actormq::storage {

class memory_backend final : public backend {
public:
  // An empty store with a new random store id.
  memory_backend();
  // An empty store with the given store id (tests that need a known one).
  explicit memory_backend(std::string store_id);
  ~memory_backend() override;
  memory_backend(const memory_backend&) = delete;
  memory_backend& operator=(const memory_backend&) = delete;

  const store_info& info() const override;
  std::vector<op_result> apply(std::vector<operation>& batch) override;
  result<std::vector<destination_record>> destinations() const override;
  result<std::vector<index_entry>> recover(uint32_t destination_id) const override;
  result<uint64_t> last_sequence(uint32_t destination_id) const override;
  result<index_entry> read_entry(uint32_t destination_id, uint64_t sequence) const override;
  result<std::string> read_payload(uint32_t destination_id, uint64_t sequence) const override;
  result<body_record> read_body(uint32_t destination_id, uint64_t sequence) const override;
  result<std::vector<body_record>> bodies() const override;
  result<std::vector<transfer_record>> transfers(const std::string& link_id) const override;
  result<std::vector<std::pair<std::string, transfer_record>>> all_transfers() const override;
  result<uint64_t> last_link_sequence(const std::string& link_id) const override;
  result<std::vector<scheduled_entry>> scheduled() const override;
  int clear_stale_readers() override; // 0: there are no reader slots
  store_stats stats() const override; // counts commits and operations; sizes are 0

  // The longest key the LMDB store accepts with LMDB's default build (mdb_env_get_maxkeysize).
  static constexpr size_t max_key_size = 511;

private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

} // namespace actormq::storage
