// The operations of a batch on whole destinations: create one (ids never reused), purge its
// messages, remove it. Formats: encoding.hpp.
#include "storage/batch.hpp"
#include "storage/encoding.hpp"
#include "storage/lmdb_support.hpp"
#include "storage/store.hpp"
#include "storage/store_impl.hpp"

#include <lmdb.h>

#include <algorithm>
#include <string_view>
#include <vector>

namespace actormq::storage::detail {
namespace {

// The index keys of one destination, in sequence order.
int collect_keys(const environment& e, MDB_txn* txn, uint32_t id, std::vector<std::string>& keys) {
  MDB_cursor* c = nullptr;
  int rc = mdb_cursor_open(txn, e.index, &c);
  if (rc != 0)
    return rc;
  cursor_guard guard(c);
  std::string prefix = destination_key(id);
  MDB_val k = as_val(prefix);
  MDB_val v;
  for (rc = mdb_cursor_get(c, &k, &v, MDB_SET_RANGE); rc == 0;
       rc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
    auto key = as_view(k);
    if (key.size() != message_key_size || key.substr(0, 4) != prefix)
      break;
    keys.emplace_back(key);
  }
  return rc == MDB_NOTFOUND || rc == 0 ? 0 : rc;
}

// Deletes every message of a destination (loaded into `dest`); r.count says how many.
// 0, or the LMDB code that failed; r.error is set (not_found) if there is no such destination.
int delete_all(const environment& e, batch_state& b, uint32_t id, pending_destination*& dest,
               op_result& r) {
  int rc = load_destination(e, b, id, dest);
  if (rc == MDB_NOTFOUND) {
    r.error = store_errc::not_found;
    return rc;
  }
  if (rc != 0)
    return rc;
  std::vector<std::string> keys;
  if ((rc = collect_keys(e, b.txn, id, keys)) != 0) {
    b.error = lmdb_text("mdb_cursor_get(index)", rc);
    return rc;
  }
  for (const auto& key : keys)
    if ((rc = delete_message(e, b, key)) != 0)
      return rc;
  r.count = keys.size();
  return 0;
}

// Ids start at 1; the next is one above the highest (keys are big-endian, so MDB_LAST).
int next_destination_id(const environment& e, MDB_txn* txn, uint32_t& id) {
  MDB_cursor* c = nullptr;
  int rc = mdb_cursor_open(txn, e.destinations, &c);
  if (rc != 0)
    return rc;
  cursor_guard guard(c);
  MDB_val k;
  MDB_val v;
  rc = mdb_cursor_get(c, &k, &v, MDB_LAST);
  uint32_t highest = 0;
  if (rc == 0) {
    if (k.mv_size != 4)
      return MDB_CORRUPTED;
    highest = static_cast<uint32_t>(read_be(as_view(k), 0, 4));
  } else if (rc != MDB_NOTFOUND) {
    return rc;
  }
  MDB_val mk = as_val(meta_last_destination_key);
  rc = mdb_get(txn, e.meta, &mk, &v);
  if (rc == 0) {
    uint32_t last = 0;
    if (!decode_u32(as_view(v), last))
      return MDB_CORRUPTED;
    highest = std::max(highest, last);
  } else if (rc != MDB_NOTFOUND) {
    return rc;
  }
  id = highest + 1;
  std::string value = encode_u32(id);
  v = as_val(value);
  return mdb_put(txn, e.meta, &mk, &v, 0);
}

} // namespace

int run(const environment& e, batch_state& b, create_destination_op& op, op_result& r) {
  if (op.name.empty() || op.name.size() > e.max_key_size) {
    r.error = store_errc::io_error; // not usable as an LMDB key
    return 0;
  }
  MDB_val nk = as_val(op.name);
  MDB_val v;
  int rc = mdb_get(b.txn, e.destination_names, &nk, &v);
  if (rc == 0) {
    std::string_view idv = as_view(v);
    uint32_t id = 0;
    if (!decode_u32(idv, id)) {
      b.error = "destination name record of " + op.name + " does not decode";
      return MDB_CORRUPTED;
    }
    r.destination_id = id;
    return 0;
  }
  if (rc != MDB_NOTFOUND) {
    b.error = lmdb_text("mdb_get(destination_names)", rc);
    return rc;
  }
  uint32_t id = 0;
  if ((rc = next_destination_id(e, b.txn, id)) != 0) {
    b.error = lmdb_text("mdb_cursor_get(destinations)", rc);
    return rc;
  }
  destination_record record;
  record.id = id;
  record.name = op.name;
  std::string key = destination_key(id);
  std::string value = encode_destination(record);
  MDB_val k = as_val(key);
  v = as_val(value);
  if ((rc = mdb_put(b.txn, e.destinations, &k, &v, 0)) != 0) {
    b.error = lmdb_text("mdb_put(destinations)", rc);
    return rc;
  }
  std::string idv = encode_u32(id);
  v = as_val(idv);
  if ((rc = mdb_put(b.txn, e.destination_names, &nk, &v, 0)) != 0) {
    b.error = lmdb_text("mdb_put(destination_names)", rc);
    return rc;
  }
  b.destinations[id] = pending_destination{record, false};
  r.destination_id = id;
  return 0;
}

int run(const environment& e, batch_state& b, purge_op& op, op_result& r) {
  pending_destination* dest = nullptr;
  int rc = delete_all(e, b, op.destination_id, dest, r);
  if (r.error)
    return 0; // no such destination; the batch goes on
  if (rc != 0)
    return rc;
  dest->record.dequeued += r.count;
  dest->dirty = true;
  return 0;
}

int run(const environment& e, batch_state& b, remove_destination_op& op, op_result& r) {
  pending_destination* dest = nullptr;
  int rc = delete_all(e, b, op.destination_id, dest, r);
  if (r.error)
    return 0; // no such destination; the batch goes on
  if (rc != 0)
    return rc;
  MDB_val nk = as_val(dest->record.name);
  if ((rc = mdb_del(b.txn, e.destination_names, &nk, nullptr)) != 0 && rc != MDB_NOTFOUND) {
    b.error = lmdb_text("mdb_del(destination_names)", rc);
    return rc;
  }
  std::string key = destination_key(op.destination_id);
  MDB_val k = as_val(key);
  if ((rc = mdb_del(b.txn, e.destinations, &k, nullptr)) != 0 && rc != MDB_NOTFOUND) {
    b.error = lmdb_text("mdb_del(destinations)", rc);
    return rc;
  }
  // Not written back at the end of the batch.
  b.destinations.erase(op.destination_id);
  return 0;
}

} // namespace actormq::storage::detail
