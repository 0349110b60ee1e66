// Message bodies and their reference counts: a body is stored once under its own id and
// referenced by the index entries of one or more destinations; it is deleted in the
// transaction that drops its last reference. Formats: encoding.hpp.
#include "storage/batch.hpp"
#include "storage/encoding.hpp"
#include "storage/lmdb_support.hpp"
#include "storage/store.hpp"
#include "storage/store_impl.hpp"

#include <lmdb.h>

namespace actormq::storage::detail {

int add_body(const environment& e, batch_state& b, const std::string& payload, uint64_t& id) {
  id = b.last_body_id + 1;
  std::string key = body_key(id);
  MDB_val k = as_val(key);
  MDB_val v = as_val(payload);
  // Ids only grow and are never reused, so the new key sorts after every stored one.
  int rc = mdb_put(b.txn, e.message_bodies, &k, &v, MDB_APPEND);
  if (rc != 0) {
    b.error = lmdb_text("mdb_put(message_bodies)", rc);
    return rc;
  }
  b.last_body_id = id;
  b.new_bodies = true;
  return 0;
}

int set_references(const environment& e, batch_state& b, uint64_t id, uint32_t references) {
  std::string key = body_key(id);
  MDB_val k = as_val(key);
  if (references <= 1) { // one reference is the absence of a record
    int rc = mdb_del(b.txn, e.body_refs, &k, nullptr);
    if (rc != 0 && rc != MDB_NOTFOUND) {
      b.error = lmdb_text("mdb_del(body_refs)", rc);
      return rc;
    }
    return 0;
  }
  std::string value = encode_u32(references);
  MDB_val v = as_val(value);
  int rc = mdb_put(b.txn, e.body_refs, &k, &v, 0);
  if (rc != 0)
    b.error = lmdb_text("mdb_put(body_refs)", rc);
  return rc;
}

int release_body(const environment& e, batch_state& b, uint64_t id) {
  if (id == 0)
    return 0;
  std::string key = body_key(id);
  MDB_val k = as_val(key);
  MDB_val v;
  int rc = mdb_get(b.txn, e.body_refs, &k, &v);
  if (rc == 0) {
    uint32_t references = 0;
    if (!decode_u32(as_view(v), references) || references < 2) {
      b.error = "reference count of body " + std::to_string(id) + " does not decode";
      return MDB_CORRUPTED;
    }
    return set_references(e, b, id, references - 1);
  }
  if (rc != MDB_NOTFOUND) {
    b.error = lmdb_text("mdb_get(body_refs)", rc);
    return rc;
  }
  rc = mdb_del(b.txn, e.message_bodies, &k, nullptr); // the last reference
  if (rc != 0 && rc != MDB_NOTFOUND) {
    b.error = lmdb_text("mdb_del(message_bodies)", rc);
    return rc;
  }
  return 0;
}

int write_index(const environment& e, batch_state& b, const std::string& mkey,
                const index_entry& entry, uint64_t body_id, bool& added_reference) {
  added_reference = true;
  std::string value = encode_index(entry, body_id);
  MDB_val k = as_val(mkey);
  MDB_val v = as_val(value);
  // No read first: a new message (the usual case) costs one put; an existing one is returned.
  int rc = mdb_put(b.txn, e.index, &k, &v, MDB_NOOVERWRITE);
  if (rc == 0)
    return 0;
  if (rc != MDB_KEYEXIST) {
    b.error = lmdb_text("mdb_put(index)", rc);
    return rc;
  }
  index_entry old;
  uint64_t old_body = 0;
  if (!decode_index(as_view(v), old, old_body)) {
    b.error = "index entry " + std::to_string(read_be(mkey, 0, 4)) + "/" +
              std::to_string(read_be(mkey, 4, 8)) + " does not decode";
    return MDB_CORRUPTED;
  }
  v = as_val(value);
  if ((rc = mdb_put(b.txn, e.index, &k, &v, 0)) != 0) {
    b.error = lmdb_text("mdb_put(index)", rc);
    return rc;
  }
  if (old_body == body_id) {
    added_reference = false;
    return 0;
  }
  return release_body(e, b, old_body);
}

} // namespace actormq::storage::detail
