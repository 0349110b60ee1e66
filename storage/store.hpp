// The LMDB message store: one environment in <data-dir>/store/, opened only under the master
// lock. Plain C++ (no CAF). One writer: apply() must be called from one thread at a time;
// read_payload(), browse() and the recovery calls may run on any thread (MDB_NOTLS) and use
// short read transactions.
#pragma once

#include "common/result.hpp"

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <utility>
#include <variant>
#include <vector>

namespace actormq::storage {

// Error codes of storage/. Each call documents which it returns.
enum class store_errc {
  ok = 0,
  store_full = 1,      // MDB_MAP_FULL: the configured maximum size is reached
  io_error = 2,        // an LMDB or file system call failed; the message names it
  corrupt = 3,         // a record does not decode
  schema_mismatch = 4, // the store was written by an incompatible schema version
  not_found = 5,       // no such destination or message
  lock_held = 6,       // master lock: another process holds it
  not_locked = 7,      // the store refuses to open without the master lock
  readers_full = 8,    // MDB_READERS_FULL
};
const std::error_category& store_category();
std::error_code make_error_code(store_errc e);

constexpr uint32_t schema_version = 1;

// Small per-message record kept apart from the body, so that recovery reads only these.
struct index_entry {
  uint64_t sequence = 0; // key within the destination, assigned by the queue
  uint32_t size = 0;     // payload bytes
  int32_t priority = 4;
  int64_t expiration_ms = 0;   // absolute; 0 = never
  uint32_t flags = 0;          // see index_flags
  uint32_t delivery_count = 0; // deliveries recorded before dispatch (0: never delivered)
};

enum index_flags : uint32_t {
  flag_redelivered = 1u << 0, // dispatched before a restart
  flag_in_transfer = 1u << 1, // reserved for bridges: marked as being forwarded
  flag_forwarded = 1u << 2,   // arrived from another node over a bridge (stored as given)
};

struct destination_record {
  uint32_t id = 0;
  std::string name;      // e.g. "queue://myQueue"
  uint64_t enqueued = 0; // persisted counts
  uint64_t dequeued = 0;
  uint64_t duplicates = 0;
};

// --- Operations of a batch (group commit). Each gets one op_result. ---

// Stores one message. With a non-empty producer_id the producer audit checks
// (producer_id, destination) first: a producer_sequence already committed, or already in this
// batch, makes the put a duplicate (not stored, counted). The audit is an exact window of the
// last 1024 sequences below the highest one stored: a send that arrives after a later one of
// its producer is stored; one more than 1024 below the highest counts as a resend.
struct put_op {
  uint32_t destination_id = 0;
  index_entry entry;
  std::string payload; // opaque to the store (the serialized wire message)
  std::string producer_id;
  uint64_t producer_sequence = 0;
};

// Deletes one message (acknowledged); counts it as dequeued. Missing messages: not_found.
struct delete_op {
  uint32_t destination_id = 0;
  uint64_t sequence = 0;
};

// Deletes every message of a destination; op_result::count says how many.
struct purge_op {
  uint32_t destination_id = 0;
};

// Creates a destination if it does not exist; op_result::destination_id names it.
struct create_destination_op {
  std::string name;
};

// Sets the flags of a stored message (e.g. redelivered). Missing messages: not_found.
struct set_flags_op {
  uint32_t destination_id = 0;
  uint64_t sequence = 0;
  uint32_t flags = 0;
};

// Bridges (store-and-forward): records in "transfers" that message (destination_id, sequence)
// is being forwarded over link link_id as link_sequence; raises the link's last link sequence.
// Missing messages: not_found (nothing is written). A link id that is empty, longer than
// 200 bytes or holds a '\0' fails with io_error. Marking an existing link sequence replaces it.
// The message itself is not changed (delete_op and purge_op leave its marks in place).
struct mark_transfer_op {
  std::string link_id; // 1 to 200 bytes, no '\0'
  uint64_t link_sequence = 0;
  uint32_t destination_id = 0;
  uint64_t sequence = 0;
};

// Removes a transfer mark (the other node confirmed it). With delete_message the marked
// message is deleted too (counted as dequeued, like delete_op) in the same transaction.
// Missing marks: not_found. A mark whose message is already gone is removed (ok).
struct clear_transfer_op {
  std::string link_id;
  uint64_t link_sequence = 0;
  bool delete_message = true;
};

// Removes a destination: every message (counted in op_result::count), its record and its name,
// in one transaction. A later create_destination_op of the name gets a new id. Missing: not_found.
struct remove_destination_op {
  uint32_t destination_id = 0;
};

// Records, before a message is dispatched, that it is being delivered (ActiveMQ's
// persistJMSRedelivered): raises the stored delivery count to `delivery_count` (never lowers
// it), so that after a crash the message comes back marked redelivered with its count.
// Missing messages: not_found.
struct record_delivery_op {
  uint32_t destination_id = 0;
  uint64_t sequence = 0;
  uint32_t delivery_count = 0;
};

// New alternatives are only ever appended, so that existing indices do not move.
using operation =
    std::variant<put_op, delete_op, purge_op, create_destination_op, set_flags_op, mark_transfer_op,
                 clear_transfer_op, remove_destination_op, record_delivery_op>;

struct op_result {
  std::error_code error;       // empty on success
  bool duplicate = false;      // put_op: the audit recognised a resend; nothing was stored
  uint64_t count = 0;          // purge_op: messages removed
  uint32_t destination_id = 0; // create_destination_op
};

// One transfer mark of a link.
struct transfer_record {
  uint64_t link_sequence = 0;
  uint32_t destination_id = 0;
  uint64_t sequence = 0;
};

struct store_options {
  std::filesystem::path directory;      // the environment folder (<data-dir>/store)
  uint64_t max_size_bytes = 1ull << 30; // mapped at open; MDB_MAP_FULL beyond it
  // Kept free for deletes: puts fail with store_full when the pages in use would pass
  // max_size_bytes minus this. 0: a tenth of the map, at least 2 MiB, at most a quarter.
  uint64_t reserve_bytes = 0;
  unsigned max_readers = 126;
  bool sync = true; // false only for benchmarks of the non-durable case
};

struct store_stats {
  uint64_t map_size = 0;       // configured maximum
  uint64_t used_bytes = 0;     // pages in use * page size
  uint64_t reserved_bytes = 0; // kept free for deletes (store_options::reserve_bytes)
  uint64_t commits = 0;
  uint64_t operations = 0;
  uint64_t last_batch_size = 0;
  uint64_t max_batch_size = 0;
  double last_commit_ms = 0;
  double mean_batch_size = 0;
  uint64_t readers_in_use = 0; // reader slots ever taken (LMDB's high-water mark)
  // Read transactions open now, in every process on the store. The oldest one pins the pages
  // freed since its snapshot: a reader that stays open lets the map fill up.
  uint64_t last_txn_id = 0;       // the newest committed write transaction
  uint64_t open_readers = 0;      // read transactions open now
  int64_t oldest_reader_pid = 0;  // 0 when no read transaction is open
  uint64_t oldest_reader_txn = 0; // the snapshot the oldest reader sees
  uint64_t oldest_reader_lag = 0; // commits made since that snapshot
  uint64_t stale_readers_cleared = 0;
};

// What open() found: the store's identity and what recovery needs.
struct store_info {
  std::string store_id; // UUID written when the store was created
  bool created = false; // true if open() created a new store
  uint32_t schema = schema_version;
  int stale_readers_cleared = 0;
};

class store {
public:
  // Opens or creates the environment. The caller must hold the master lock (the node does;
  // tests may open a store in a temporary folder directly).
  // Errors: io_error (folder or LMDB), schema_mismatch, corrupt.
  static result<std::unique_ptr<store>> open(const store_options& options);

  ~store();
  store(const store&) = delete;
  store& operator=(const store&) = delete;

  const store_info& info() const;

  // Runs every operation in one write transaction and one synced commit (group commit).
  // Returns one result per operation, in order. Puts that would take the pages in use above
  // the high-water mark (the map minus store_options::reserve_bytes) fail with store_full and
  // the rest of the batch commits without them, so that deletes always find free pages.
  // On MDB_MAP_FULL (e.g. pages pinned by a reader) the batch runs again after a one-record
  // commit (LMDB reuses freed pages one commit later), then without its puts, then in halves
  // committed one after the other, down to single operations; what still does not fit fails
  // with store_full. Operations whose commit fails otherwise fail with io_error.
  std::vector<op_result> apply(std::vector<operation>& batch);

  // Every destination with its persisted counts. Errors: io_error.
  result<std::vector<destination_record>> destinations() const;

  // The index entries of one destination in sequence order (reads no bodies). Errors: io_error.
  result<std::vector<index_entry>> recover(uint32_t destination_id) const;

  // The highest sequence ever used by a destination (0 if none), so that sequences are never
  // reused after a restart even when the newest messages were deleted.
  result<uint64_t> last_sequence(uint32_t destination_id) const;

  // One message's index entry. Errors: not_found, io_error, corrupt.
  result<index_entry> read_entry(uint32_t destination_id, uint64_t sequence) const;

  // One message's payload. Errors: not_found, io_error.
  result<std::string> read_payload(uint32_t destination_id, uint64_t sequence) const;

  // The transfer marks of one link in link-sequence order (none for an invalid link id).
  // Errors: io_error, corrupt.
  result<std::vector<transfer_record>> transfers(const std::string& link_id) const;

  // Every transfer mark of every link, by link id then link sequence (the queues leave the
  // marked messages to the bridges at recovery). Errors: io_error, corrupt.
  result<std::vector<std::pair<std::string, transfer_record>>> all_transfers() const;

  // The highest link sequence ever marked on a link (0 if none); survives clears and reopen.
  // Errors: io_error, corrupt.
  result<uint64_t> last_link_sequence(const std::string& link_id) const;

  // Runs mdb_reader_check; returns how many stale reader slots were cleared.
  int clear_stale_readers();

  store_stats stats() const;

private:
  struct impl;
  explicit store(std::unique_ptr<impl> p);
  std::unique_ptr<impl> impl_;
};

} // namespace actormq::storage

namespace std {
template <> struct is_error_code_enum<actormq::storage::store_errc> : true_type {};
} // namespace std
