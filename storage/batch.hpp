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
// Deletes the index entry and body of one message; MDB_NOTFOUND if it is not stored.
int delete_message(const environment& e, batch_state& b, const std::string& mkey);

// destination_ops.cpp
int run(const environment& e, batch_state& b, create_destination_op& op, op_result& r);
int run(const environment& e, batch_state& b, purge_op& op, op_result& r);
int run(const environment& e, batch_state& b, remove_destination_op& op, op_result& r);

// transfer_marks.cpp
int run(const environment& e, batch_state& b, mark_transfer_op& op, op_result& r);
int run(const environment& e, batch_state& b, clear_transfer_op& op, op_result& r);

// producer_audit.cpp: the exact window of a put's (producer, destination).
// Reads the window into `window` (its key into `key`) and sets `resend` if op.producer_sequence
// is in it. A producer id that cannot be an LMDB key fails the put (r.error = io_error).
int read_audit(const environment& e, batch_state& b, const put_op& op, std::string& key,
               audit_window& window, bool& resend, op_result& r);
// Adds op.producer_sequence to the window and writes it back under `key`.
int write_audit(const environment& e, batch_state& b, const put_op& op, const std::string& key,
                audit_window& window);

// batch_commit.cpp
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
