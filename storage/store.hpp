// The LMDB message store, the node's storage::backend (backend.hpp declares the operations and
// records): one environment in <data-dir>/store/, opened only under the master lock. Plain C++
// (no CAF). One writer: apply() must be called from one thread at a time;
// read_payload(), browse() and the recovery calls may run on any thread (MDB_NOTLS) and use
// short read transactions; with the journal they first wait for a checkpoint when they might
// miss what batches wrote since the last one.
#pragma once

#include "storage/backend.hpp"
#include "storage/replication.hpp"

#include <cstdint>
#include <filesystem>
#include <memory>

namespace actormq::storage {

struct store_options {
  std::filesystem::path directory;      // the environment folder (<data-dir>/store)
  uint64_t max_size_bytes = 1ull << 30; // mapped at open; MDB_MAP_FULL beyond it
  // Kept free for deletes: puts fail with store_full when the pages in use would pass
  // max_size_bytes minus this. 0: a tenth of the map, at least 2 MiB, at most a quarter.
  uint64_t reserve_bytes = 0;
  unsigned max_readers = 126;
  bool sync = true; // false only for benchmarks of the non-durable case
  // A write-ahead journal (<directory>/journal, journal.hpp) in front of the LMDB file: a batch
  // is durable when its record is flushed (one fdatasync); LMDB commits at checkpoints. Only
  // with sync. The journal holds at most journal_bytes; a full journal checkpoints.
  bool journal = false;
  uint64_t journal_bytes = 32ull << 20;
};

class store final : public backend {
public:
  // Opens or creates the environment. The caller must hold the master lock (the node does;
  // tests may open a store in a temporary folder directly).
  // A store of schema 1 is migrated to the current schema in the transaction that opens it.
  // Errors: io_error (folder or LMDB), schema_mismatch (a newer schema), corrupt, store_full
  // (no room to migrate).
  static result<std::unique_ptr<store>> open(const store_options& options);

  ~store() override;
  store(const store&) = delete;
  store& operator=(const store&) = delete;

  const store_info& info() const override;

  // Runs every operation in one write transaction and one synced commit (group commit); with
  // the journal, in one nested transaction of the transaction open since the last checkpoint,
  // whose record is flushed to the journal before apply() returns (deletes and cleared transfer
  // marks alone are answered before the flush: see journal_records.hpp).
  // Returns one result per operation, in order. Puts that would take the pages in use above
  // the high-water mark (the map minus store_options::reserve_bytes) fail with store_full and
  // the rest of the batch commits without them, so that deletes always find free pages.
  // On MDB_MAP_FULL (e.g. pages pinned by a reader) the batch runs again after a one-record
  // commit (LMDB reuses freed pages one commit later), then without its puts, then in halves
  // committed one after the other, down to single operations; what still does not fit fails
  // with store_full. Operations whose commit fails otherwise fail with io_error.
  std::vector<op_result> apply(std::vector<operation>& batch) override;

  // Every destination with its persisted counts. Errors: io_error.
  result<std::vector<destination_record>> destinations() const override;

  // The index entries of one destination in sequence order (reads no bodies). Errors: io_error.
  result<std::vector<index_entry>> recover(uint32_t destination_id) const override;

  // The highest sequence ever used by a destination (0 if none), so that sequences are never
  // reused after a restart even when the newest messages were deleted.
  result<uint64_t> last_sequence(uint32_t destination_id) const override;

  // One message's index entry. Errors: not_found, io_error, corrupt.
  result<index_entry> read_entry(uint32_t destination_id, uint64_t sequence) const override;

  // One message's payload. Errors: not_found, io_error.
  result<std::string> read_payload(uint32_t destination_id, uint64_t sequence) const override;

  // The body one message references. Errors: not_found, io_error, corrupt.
  result<body_record> read_body(uint32_t destination_id, uint64_t sequence) const override;

  // Every stored body, by id. Errors: io_error, corrupt.
  result<std::vector<body_record>> bodies() const override;

  // The transfer marks of one link in link-sequence order (none for an invalid link id).
  // Errors: io_error, corrupt.
  result<std::vector<transfer_record>> transfers(const std::string& link_id) const override;

  // Every transfer mark of every link, by link id then link sequence (the queues leave the
  // marked messages to the bridges at recovery). Errors: io_error, corrupt.
  result<std::vector<std::pair<std::string, transfer_record>>> all_transfers() const override;

  // The highest link sequence ever marked on a link (0 if none); survives clears and reopen.
  // Errors: io_error, corrupt.
  result<uint64_t> last_link_sequence(const std::string& link_id) const override;

  // Runs mdb_reader_check; returns how many stale reader slots were cleared.
  result<std::vector<scheduled_entry>> scheduled() const override; // scheduled_ops.cpp
  int clear_stale_readers() override;

  store_stats stats() const override;

  // The room below the high-water mark, measured as apply() measures it (space.cpp); the
  // largest value if it cannot be measured (the next apply() finds out).
  uint64_t room_for_puts() override;

  // With the journal: commits the batches since the last checkpoint to the LMDB file (synced)
  // and starts the journal again. A failed checkpoint fails every later batch with io_error
  // until the store is opened again (which applies the journal); a failed commit whose batches
  // were committed again from the journal is a success that names the failure. Errors: io_error.
  result<std::string> checkpoint() override;
  bool checkpoint_due() const override;
  void set_checkpoint_requester(std::function<void()> requester) override;

  // Replication (replication.hpp, docs/replication.md; replicated_apply.cpp). Writer's thread
  // only, like apply().
  // Where the store stands in the replicated log: the position the last replicated or shipped
  // batch recorded ({0, 0} if none). Errors: io_error, corrupt.
  result<replication_position> log_position();
  // From now on batches of epochs below `epoch` are refused (stale_epoch). Never lowers it.
  void fence(uint64_t epoch);
  // A replica: applies a batch the master shipped, in one write transaction that also records
  // the batch's position, with a synced commit (with the journal: after a checkpoint, outside
  // the journal). The batch runs as it ran on the master (puts fail store_full as its flags
  // say; no room check). Errors: stale_epoch (below the fence or the position's epoch),
  // out_of_order (its previous() is not log_position()), corrupt, store_full, io_error;
  // nothing is applied then.
  result<void> apply_replicated(const replicated_batch& batch);
  // A master: from now on every committed part of a batch records the next position (epoch
  // `epoch`) in its transaction and is handed to `ship`, in order, after its commit (on the
  // writer's thread). Errors: io_error (a store with the journal: not supported yet),
  // stale_epoch (`epoch` 0 or below the fence or the position's epoch).
  result<void> start_shipping(uint64_t epoch, std::function<void(const replicated_batch&)> ship);
  // Ships nothing more.
  void stop_shipping();

  struct impl; // opaque outside storage/ (store_impl.hpp)

private:
  explicit store(std::unique_ptr<impl> p);
  std::unique_ptr<impl> impl_;
};

} // namespace actormq::storage
