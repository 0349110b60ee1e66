// Scheduled messages in LMDB ("scheduled", docs/storage.md): the batch handlers of schedule_op
// and unschedule_op, and the list the scheduler loads when the node starts.
#include "storage/batch.hpp"
#include "storage/encoding.hpp"
#include "storage/journal_commit.hpp"
#include "storage/lmdb_support.hpp"
#include "storage/store.hpp"
#include "storage/store_impl.hpp"

#include <lmdb.h>

namespace actormq::storage {

namespace detail {

namespace {

std::string scheduled_key(uint64_t id) {
  std::string out;
  append_be(out, id, 8);
  return out;
}

} // namespace

int run(const environment& e, batch_state& b, schedule_op& op, op_result& r) {
  if (op.entry.id == 0) {
    r.error = store_errc::io_error; // 0 names no scheduled message
    return 0;
  }
  std::string audit_key;
  audit_window window;
  if (!op.producer_id.empty()) {
    bool resend = false;
    int rc = read_audit(e, b, op.producer_id, scheduled_audit_destination, op.producer_sequence,
                        audit_key, window, resend, r);
    if (rc != 0 || r.error)
      return rc;
    if (resend) {
      r.duplicate = true;
      return 0;
    }
  }
  std::string key = scheduled_key(op.entry.id);
  std::string value = encode_scheduled(op.entry);
  MDB_val k = as_val(key);
  MDB_val v = as_val(value);
  if (int rc = mdb_put(b.txn, e.scheduled, &k, &v, 0); rc != 0) {
    b.error = lmdb_text("mdb_put(scheduled)", rc);
    return rc;
  }
  if (!op.producer_id.empty())
    return write_audit(e, b, op.producer_sequence, audit_key, window);
  return 0;
}

int run(const environment& e, batch_state& b, unschedule_op& op, op_result& r) {
  std::string key = scheduled_key(op.id);
  MDB_val k = as_val(key);
  int rc = mdb_del(b.txn, e.scheduled, &k, nullptr);
  if (rc == MDB_NOTFOUND) {
    r.error = store_errc::not_found;
    return 0;
  }
  if (rc != 0) {
    b.error = lmdb_text("mdb_del(scheduled)", rc);
    return rc;
  }
  return 0;
}

} // namespace detail

result<std::vector<scheduled_entry>> store::scheduled() const {
  using namespace detail;
  // Lists see every batch so far: they wait for its checkpoint.
  if (auto seen = see_batches(*impl_); !seen)
    return seen.error();
  auto& d = *impl_;
  txn_guard txn;
  int rc = begin_read(d.env, txn);
  if (rc != 0)
    return lmdb_failure("mdb_txn_begin", rc);
  MDB_cursor* c = nullptr;
  if ((rc = mdb_cursor_open(txn.get(), d.scheduled, &c)) != 0)
    return lmdb_failure("mdb_cursor_open(scheduled)", rc);
  cursor_guard guard(c);
  std::vector<scheduled_entry> out;
  MDB_val k;
  MDB_val v;
  for (rc = mdb_cursor_get(c, &k, &v, MDB_FIRST); rc == 0;
       rc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
    scheduled_entry entry;
    if (k.mv_size != 8 || !decode_scheduled(as_view(v), entry))
      return failure{store_errc::corrupt, "a scheduled message does not decode"};
    entry.id = read_be(as_view(k), 0, 8);
    out.push_back(std::move(entry));
  }
  if (rc != MDB_NOTFOUND)
    return lmdb_failure("mdb_cursor_get(scheduled)", rc);
  return out;
}

} // namespace actormq::storage
