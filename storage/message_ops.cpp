// The operations of a batch on single messages: put (with the producer audit), delete, set
// flags, record a delivery. Formats: encoding.hpp.
#include "storage/batch.hpp"
#include "storage/encoding.hpp"
#include "storage/lmdb_support.hpp"
#include "storage/store.hpp"
#include "storage/store_impl.hpp"

#include <lmdb.h>

namespace actormq::storage::detail {
namespace {

// Raises the highest sequence ever used by a destination (store::last_sequence()).
int raise_sequence(const environment& e, batch_state& b, uint32_t id, uint64_t sequence) {
  std::string key = destination_key(id);
  return raise_u64_record(b, e.sequences, "sequences", key,
                          "sequence record of destination " + std::to_string(id), sequence);
}

// Rewrites one index entry in place: `change` edits it and says whether anything changed.
// Missing messages: r.error = not_found.
template <class Change>
int update_index(const environment& e, batch_state& b, uint32_t destination_id, uint64_t sequence,
                 op_result& r, Change change) {
  std::string mkey = message_key(destination_id, sequence);
  MDB_val k = as_val(mkey);
  MDB_val v;
  int rc = mdb_get(b.txn, e.index, &k, &v);
  if (rc == MDB_NOTFOUND) {
    r.error = store_errc::not_found;
    return 0;
  }
  if (rc != 0) {
    b.error = lmdb_text("mdb_get(index)", rc);
    return rc;
  }
  index_entry entry;
  if (!decode_index(as_view(v), entry)) {
    b.error = "index entry " + std::to_string(destination_id) + "/" + std::to_string(sequence) +
              " does not decode";
    return MDB_CORRUPTED;
  }
  if (!change(entry))
    return 0;
  std::string value = encode_index(entry);
  v = as_val(value);
  if ((rc = mdb_put(b.txn, e.index, &k, &v, 0)) != 0)
    b.error = lmdb_text("mdb_put(index)", rc);
  return rc;
}

} // namespace

int run(const environment& e, batch_state& b, put_op& op, op_result& r) {
  if (b.puts_fail_full) {
    r.error = store_errc::store_full; // the retry after MDB_MAP_FULL touches nothing
    return 0;
  }
  pending_destination* dest = nullptr;
  int rc = load_destination(e, b, op.destination_id, dest);
  if (rc == MDB_NOTFOUND) {
    r.error = store_errc::not_found;
    return 0;
  }
  if (rc != 0)
    return rc;
  std::string akey;
  audit_window window;
  if (!op.producer_id.empty()) {
    bool resend = false;
    if ((rc = read_audit(e, b, op, akey, window, resend, r)) != 0 || r.error)
      return rc;
    if (resend) {
      r.duplicate = true;
      ++dest->record.duplicates;
      dest->dirty = true;
      return 0;
    }
  }
  op.entry.size = static_cast<uint32_t>(op.payload.size());
  std::string mkey = message_key(op.destination_id, op.entry.sequence);
  std::string ivalue = encode_index(op.entry);
  MDB_val k = as_val(mkey);
  MDB_val v = as_val(ivalue);
  if ((rc = mdb_put(b.txn, e.index, &k, &v, 0)) != 0) {
    b.error = lmdb_text("mdb_put(index)", rc);
    return rc;
  }
  v = as_val(op.payload);
  if ((rc = mdb_put(b.txn, e.bodies, &k, &v, 0)) != 0) {
    b.error = lmdb_text("mdb_put(bodies)", rc);
    return rc;
  }
  if (!op.producer_id.empty() && (rc = write_audit(e, b, op, akey, window)) != 0)
    return rc;
  if ((rc = raise_sequence(e, b, op.destination_id, op.entry.sequence)) != 0)
    return rc;
  b.stored = true;
  ++dest->record.enqueued;
  dest->dirty = true;
  return 0;
}

int delete_message(const environment& e, batch_state& b, const std::string& mkey) {
  MDB_val k = as_val(mkey);
  int rc = mdb_del(b.txn, e.index, &k, nullptr);
  if (rc != 0) {
    if (rc != MDB_NOTFOUND)
      b.error = lmdb_text("mdb_del(index)", rc);
    return rc;
  }
  rc = mdb_del(b.txn, e.bodies, &k, nullptr);
  if (rc != 0 && rc != MDB_NOTFOUND) {
    b.error = lmdb_text("mdb_del(bodies)", rc);
    return rc;
  }
  return 0;
}

int run(const environment& e, batch_state& b, delete_op& op, op_result& r) {
  pending_destination* dest = nullptr;
  int rc = load_destination(e, b, op.destination_id, dest);
  if (rc == MDB_NOTFOUND) {
    r.error = store_errc::not_found;
    return 0;
  }
  if (rc != 0)
    return rc;
  rc = delete_message(e, b, message_key(op.destination_id, op.sequence));
  if (rc == MDB_NOTFOUND) {
    r.error = store_errc::not_found;
    return 0;
  }
  if (rc != 0)
    return rc;
  ++dest->record.dequeued;
  dest->dirty = true;
  return 0;
}

int run(const environment& e, batch_state& b, set_flags_op& op, op_result& r) {
  return update_index(e, b, op.destination_id, op.sequence, r, [&](index_entry& entry) {
    entry.flags = op.flags;
    return true;
  });
}

int run(const environment& e, batch_state& b, record_delivery_op& op, op_result& r) {
  return update_index(e, b, op.destination_id, op.sequence, r, [&](index_entry& entry) {
    if (entry.delivery_count >= op.delivery_count)
      return false;
    entry.delivery_count = op.delivery_count;
    return true;
  });
}

} // namespace actormq::storage::detail
