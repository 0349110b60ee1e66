// The interface through which every actor reaches storage: batches of operations (puts,
// deletes, flag and delivery changes, destinations, transfer marks) and the reads that recovery and
// dispatch need. Two implementations: storage::store (LMDB, store.hpp) and
// storage::memory_backend (memory_backend.hpp, for tests). Plain C++ (no CAF).
// One writer: apply() must be called from one thread at a time; the reads may run on any thread.
#pragma once

#include "common/result.hpp"

#include <cstdint>
#include <functional>
#include <limits>
#include <string>
#include <system_error>
#include <utility>
#include <variant>
#include <vector>

namespace actormq::storage {

// Error codes of storage/. Each call documents which it returns.
enum class store_errc {
  ok = 0,
  store_full = 1,      // the configured maximum size, or the file system's room, is reached
  io_error = 2,        // an LMDB or file system call failed; the message names it
  corrupt = 3,         // a record does not decode
  schema_mismatch = 4, // the store was written by an incompatible schema version
  not_found = 5,       // no such destination or message
  lock_held = 6,       // master lock: another process holds it
  not_locked = 7,      // the store refuses to open without the master lock
  readers_full = 8,    // MDB_READERS_FULL
  stale_epoch = 9,     // replication: a batch of an epoch older than the replica's
  out_of_order = 10,   // replication: a batch that does not follow the replica's position
};
const std::error_category& store_category();
std::error_code make_error_code(store_errc e);

// 2: bodies keyed by a body id with a reference count (schema 1 kept them by message key;
// open() migrates a schema 1 store, store_migration.cpp).
constexpr uint32_t schema_version = 2;

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
  flag_grouped = 1u << 3,     // has a JMSXGroupID: recovery reads it from the body
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
  std::string payload; // opaque to the store (the encoded envelope, protocol/envelope.hpp)
  std::string producer_id;
  uint64_t producer_sequence = 0;
};

// One message stored once and referenced by several destinations (a topic's durable
// subscriptions, a composite destination): one body, one index entry per target, each with its
// own destination and sequence. The producer audit is applied once, on audit_destination_id (the
// destination the producer sent to), which counts a resend as a duplicate. Every target counts
// the message as enqueued; the audit destination counts it only if it is a target. A target
// with the (destination, sequence) of an earlier one, or of a stored message, replaces it.
// No such audit destination or target destination: not_found, nothing stored. No targets: only
// the audit is applied. A producer id that cannot be a key: io_error, as for put_op.
struct shared_put_target {
  uint32_t destination_id = 0;
  index_entry entry; // its size is set to the payload's size when stored
};
struct shared_put_op {
  uint32_t audit_destination_id = 0;
  std::vector<shared_put_target> targets;
  std::string payload;
  std::string producer_id;
  uint64_t producer_sequence = 0;
};

// Moves a stored message to another destination (dead-letter queues, moves in the console)
// without copying its body: the entry (flags, delivery count, priority, expiration) goes to
// (to_destination_id, to_sequence), replacing a message stored there, and leaves the source.
// The source counts it as dequeued, the target as enqueued; the target's last sequence is
// raised. Transfer marks of the source stay as they are (like delete_op). No such source or
// target destination or source message: not_found, nothing changed.
struct move_op {
  uint32_t from_destination_id = 0;
  uint64_t from_sequence = 0;
  uint32_t to_destination_id = 0;
  uint64_t to_sequence = 0;
};

// Moves a stored message to another destination with a new index entry, in one operation so
// that no split of a batch can leave it in both places or in neither (dead-letter queues and
// the retry out of them). The message (from_destination_id, from_sequence) leaves its source
// and is stored as (to_destination_id, entry.sequence) with `entry` (its size is set to the
// body's size); a message stored there is replaced. With a payload, the message gets it as a
// new body (its old body loses a reference) and the operation fails with store_full as a put
// does; without one, it keeps its body (referenced, not copied). The source counts it as
// dequeued, the target as enqueued; the target's last sequence is raised. No such source or
// target destination or source message: not_found, nothing changed.
struct relocate_op {
  uint32_t from_destination_id = 0;
  uint64_t from_sequence = 0;
  uint32_t to_destination_id = 0;
  index_entry entry;
  std::string payload; // empty: the message keeps its body
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

// A message held for scheduled delivery (ActiveMQ's AMQ_SCHEDULED_* properties,
// docs/scheduled.md), kept in "scheduled" by its id until its last delivery or its cancellation.
struct scheduled_entry {
  uint64_t id = 0;          // never 0; the node never gives one twice
  std::string destination;  // canonical URI it is delivered to
  int64_t next_ms = 0;      // when it is due next, milliseconds since the epoch
  int64_t period_ms = 0;    // between repeated deliveries (AMQ_SCHEDULED_PERIOD)
  int32_t repeats_left = 0; // deliveries after the next one; -1: no end (a cron without repeat)
  std::string cron;         // AMQ_SCHEDULED_CRON, or empty
  uint32_t delivered = 0;   // deliveries so far
  std::string payload;      // the encoded envelope (protocol/envelope.hpp)
};

// Stores a scheduled message, replacing the one of the same id (its next time, repeats left).
// Id 0: io_error, nothing stored. With a producer id (a producer's scheduled send, not a
// reschedule) the producer audit applies as for put_op, in a window of the producer's scheduled
// sends (scheduled_audit_destination): a resend after a failover is a duplicate, nothing stored.
struct schedule_op {
  scheduled_entry entry;
  std::string producer_id;
  uint64_t producer_sequence = 0;
};

// The audit window of scheduled sends is keyed as a destination that never exists (ids start at 1).
constexpr uint32_t scheduled_audit_destination = 0;

// Removes a scheduled message (delivered for the last time, or cancelled). Missing: not_found.
struct unschedule_op {
  uint64_t id = 0;
};

// New alternatives are only ever appended, so that existing indices do not move.
using operation =
    std::variant<put_op, delete_op, purge_op, create_destination_op, set_flags_op, mark_transfer_op,
                 clear_transfer_op, remove_destination_op, record_delivery_op, shared_put_op,
                 move_op, schedule_op, unschedule_op, relocate_op>;

struct op_result {
  std::error_code error;  // empty on success
  bool duplicate = false; // put_op, shared_put_op: the audit recognised a resend; nothing stored
  uint64_t count = 0;     // purge_op: messages removed
  uint32_t destination_id = 0; // create_destination_op
};

// A stored body: its id (from 1, never reused) and how many index entries reference it. A body
// is deleted in the transaction that removes its last reference.
struct body_record {
  uint64_t id = 0;
  uint32_t references = 0;
  uint64_t size = 0; // payload bytes
};

// One transfer mark of a link.
struct transfer_record {
  uint64_t link_sequence = 0;
  uint32_t destination_id = 0;
  uint64_t sequence = 0;
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
  uint64_t checkpoints = 0;     // journal: commits of the batches since the last checkpoint
  uint64_t journal_records = 0; // journal: records written
  double last_checkpoint_ms = 0;
};

// What open() found: the store's identity and what recovery needs.
struct store_info {
  std::string store_id; // UUID written when the store was created
  bool created = false; // true if open() created a new store
  uint32_t schema = schema_version;
  uint32_t migrated_from = 0; // the schema open() migrated the store from (0: none)
  int stale_readers_cleared = 0;
  uint64_t replayed_records = 0; // journal records applied by open() (journal.hpp)
};

// Every call documents the errors it returns; both implementations return the same ones for the
// same operations (tests/storage/backend_differential_test.cpp), except what only LMDB can meet:
// the memory backend never returns store_full, readers_full or io_error from a failed commit.
class backend {
public:
  virtual ~backend() = default;

  // The store's identity (the memory backend makes one up when it is created).
  virtual const store_info& info() const = 0;

  // Runs the operations in order (each sees the ones before it) and returns one result per
  // operation. A stored put sets its entry.size to the payload's size. store::apply() says how
  // LMDB commits a batch and when puts fail with store_full.
  virtual std::vector<op_result> apply(std::vector<operation>& batch) = 0;

  // Every destination with its persisted counts, by id. Errors: io_error.
  virtual result<std::vector<destination_record>> destinations() const = 0;

  // The index entries of one destination in sequence order (reads no bodies). Errors: io_error.
  virtual result<std::vector<index_entry>> recover(uint32_t destination_id) const = 0;

  // The highest sequence ever used by a destination (0 if none), so that sequences are never
  // reused after a restart even when the newest messages were deleted.
  virtual result<uint64_t> last_sequence(uint32_t destination_id) const = 0;

  // One message's index entry. Errors: not_found, io_error, corrupt.
  virtual result<index_entry> read_entry(uint32_t destination_id, uint64_t sequence) const = 0;

  // One message's payload. Errors: not_found, io_error.
  virtual result<std::string> read_payload(uint32_t destination_id, uint64_t sequence) const = 0;

  // The body one message references. Errors: not_found (no such message, or a message
  // migrated from schema 1 that had lost its body), io_error, corrupt.
  virtual result<body_record> read_body(uint32_t destination_id, uint64_t sequence) const = 0;

  // Every stored body, by id. Errors: io_error, corrupt.
  virtual result<std::vector<body_record>> bodies() const = 0;

  // The transfer marks of one link in link-sequence order (none for an invalid link id).
  // Errors: io_error, corrupt.
  virtual result<std::vector<transfer_record>> transfers(const std::string& link_id) const = 0;

  // Every transfer mark of every link, by link id (byte order) then link sequence.
  // Errors: io_error, corrupt.
  virtual result<std::vector<std::pair<std::string, transfer_record>>> all_transfers() const = 0;

  // The highest link sequence ever marked on a link (0 if none); survives clears and reopen.
  // Errors: io_error, corrupt.
  virtual result<uint64_t> last_link_sequence(const std::string& link_id) const = 0;

  // Every scheduled message, by id. Errors: io_error, corrupt.
  virtual result<std::vector<scheduled_entry>> scheduled() const = 0;

  // Clears reader slots left by killed processes (LMDB); returns how many. Memory: 0.
  virtual int clear_stale_readers() = 0;

  virtual store_stats stats() const = 0;

  // About how many bytes of messages puts may still store before they fail with store_full
  // (the high-water mark, store.hpp), for a writer that waits for room before it tries again.
  // Called from the writer's thread. Backends without a limit: the largest value.
  virtual uint64_t room_for_puts() { return std::numeric_limits<uint64_t>::max(); }

  // A store with a journal (store.hpp) keeps its batches in the journal and commits them to its
  // main file at checkpoints. The writer's thread calls checkpoint() when checkpoint_due() says
  // that batches wait for one (after a short delay, so that one checkpoint takes many); readers
  // on other threads call `requester` when they need one at once. Returns, on success, what went
  // wrong on the way (empty if nothing: a failed commit whose batches were committed again from
  // the journal). Errors: io_error.
  virtual result<std::string> checkpoint() { return std::string(); }
  virtual bool checkpoint_due() const { return false; }
  virtual void set_checkpoint_requester(std::function<void()> requester) { (void)requester; }
};

} // namespace actormq::storage

namespace std {
template <> struct is_error_code_enum<actormq::storage::store_errc> : true_type {};
} // namespace std
