// Private to storage/: one write transaction of apply() (batch_commit.cpp) and the handlers of
// its operations (message_ops.cpp, producer_audit.cpp, destination_ops.cpp, transfer_marks.cpp).
#pragma once

#include "storage/encoding.hpp"
#include "storage/store.hpp"
#include "storage/store_impl.hpp"

#include <lmdb.h>

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace actormq::storage::detail {

// A destination's record as changed by the running batch; written back before the commit.
struct pending_destination {
  destination_record record;
  bool dirty = false;
};

struct batch_state {
  MDB_txn* txn = nullptr;
  bool puts_fail_full = false; // the retry above the high-water mark or after MDB_MAP_FULL
  bool stored = false;         // a put wrote a message
  uint64_t last_body_id = 0;   // the highest body id given, in this batch or before it
  bool new_bodies = false;     // a body was added: meta's last body id is written at the end
  // Opened by the first delete, so that a delete finds its entry once (read, then delete in
  // place); closed before the commit, or freed by LMDB with an aborted transaction.
  MDB_cursor* index_cursor = nullptr;
  std::map<uint32_t, pending_destination> destinations;
  std::string error; // names the failed call when a handler returns non-zero
};

// Handlers return 0 (the op's own result is set) or an LMDB code that fails the batch; then
// b.error names the failed call.

// message_ops.cpp
int run(const environment& e, batch_state& b, put_op& op, op_result& r);
int run(const environment& e, batch_state& b, delete_op& op, op_result& r);
int run(const environment& e, batch_state& b, set_flags_op& op, op_result& r);
int run(const environment& e, batch_state& b, record_delivery_op& op, op_result& r);
int run(const environment& e, batch_state& b, shared_put_op& op, op_result& r);
int run(const environment& e, batch_state& b, move_op& op, op_result& r);
int run(const environment& e, batch_state& b, relocate_op& op, op_result& r);
// Deletes the index entry of one message and releases its body; MDB_NOTFOUND if it is not
// stored.
int delete_message(const environment& e, batch_state& b, const std::string& mkey);

// bodies.cpp: bodies and their reference counts ("message_bodies", "body_refs").
// Stores `payload` as a new body with a new id (above every id given before; `id` is set).
int add_body(const environment& e, batch_state& b, const std::string& payload, uint64_t& id);
// Records that body `id` has `references` (at least 1) references.
int set_references(const environment& e, batch_state& b, uint64_t id, uint32_t references);
// Drops one reference to body `id`; the body is deleted with its last one. Id 0 (no body): 0.
int release_body(const environment& e, batch_state& b, uint64_t id);
// Writes the index entry `mkey` -> (entry, body_id). A message stored under `mkey` is replaced
// and its body released, unless it referenced body_id itself: then `added_reference` is false
// (the entry's reference was already counted). 0 or the LMDB code that failed.
int write_index(const environment& e, batch_state& b, const std::string& mkey,
                const index_entry& entry, uint64_t body_id, bool& added_reference);

// scheduled_ops.cpp
int run(const environment& e, batch_state& b, schedule_op& op, op_result& r);
int run(const environment& e, batch_state& b, unschedule_op& op, op_result& r);

// destination_ops.cpp
int run(const environment& e, batch_state& b, create_destination_op& op, op_result& r);
int run(const environment& e, batch_state& b, purge_op& op, op_result& r);
int run(const environment& e, batch_state& b, remove_destination_op& op, op_result& r);

// transfer_marks.cpp
int run(const environment& e, batch_state& b, mark_transfer_op& op, op_result& r);
int run(const environment& e, batch_state& b, clear_transfer_op& op, op_result& r);

// producer_audit.cpp: the exact window of a put's (producer, destination).
// Reads the window into `window` (its key into `key`) and sets `resend` if producer_sequence
// is in it. A producer id that cannot be an LMDB key fails the put (r.error = io_error).
int read_audit(const environment& e, batch_state& b, const std::string& producer_id,
               uint32_t destination_id, uint64_t producer_sequence, std::string& key,
               audit_window& window, bool& resend, op_result& r);
// Adds producer_sequence to the window and writes it back under `key`.
int write_audit(const environment& e, batch_state& b, uint64_t producer_sequence,
                const std::string& key, audit_window& window);

// batch_commit.cpp
// Runs [first, last) of `batch` in `txn` (results at the same places), then writes the records
// they changed; with check_room, a part that stored a put checks the high-water mark. 0,
// above_high_water or the LMDB code that failed (`error` names it). `last_body_id` goes in as
// the highest body id given so far and comes out raised by the part.
int run_operations(const environment& e, MDB_txn* txn, std::vector<operation>& batch, size_t first,
                   size_t last, bool puts_fail_full, bool check_room,
                   std::vector<op_result>& results, uint64_t& last_body_id, std::string& error);
// Raises the u64 high-water record under `key` in `db` (named `db_name` in errors) to `value`;
// a lower or equal value leaves it. `what` names the record if it does not decode.
int raise_u64_record(batch_state& b, MDB_dbi db, const char* db_name, const std::string& key,
                     const std::string& what, uint64_t value);
// Loads (once per batch) the record of a destination; MDB_NOTFOUND if there is none.
int load_destination(const environment& e, batch_state& b, uint32_t id, pending_destination*& out);

// space.cpp
// Puts stop at the high-water mark, so that deletes always find free pages (docs/storage.md).
// 0, above_high_water (`error` says why) or the LMDB code that failed.
int check_high_water(const environment& e, batch_state& b, std::string& error);

} // namespace actormq::storage::detail
