// The producer audit of a put: an exact window of the sequences a producer has stored on a
// destination (encoding.hpp: audit_window), so that a resend is recognised and a send that
// arrives after a later one of its producer is still stored.
#include "storage/batch.hpp"
#include "storage/encoding.hpp"
#include "storage/lmdb_support.hpp"
#include "storage/store.hpp"
#include "storage/store_impl.hpp"

#include <lmdb.h>

namespace actormq::storage::detail {

int read_audit(const environment& e, batch_state& b, const std::string& producer_id,
               uint32_t destination_id, uint64_t producer_sequence, std::string& key,
               audit_window& window, bool& resend, op_result& r) {
  key = audit_key(producer_id, destination_id);
  if (key.size() > e.max_key_size) {
    r.error = store_errc::io_error; // the producer id cannot be an LMDB key
    return 0;
  }
  MDB_val k = as_val(key);
  MDB_val v;
  int rc = mdb_get(b.txn, e.audit, &k, &v);
  if (rc == MDB_NOTFOUND)
    return 0; // the producer's first put on this destination
  if (rc != 0) {
    b.error = lmdb_text("mdb_get(audit)", rc);
    return rc;
  }
  if (!decode_audit(as_view(v), window)) {
    b.error = "audit record of producer " + producer_id + " does not decode";
    return MDB_CORRUPTED;
  }
  // Exact: a send that overtook an earlier one is no reason to drop the earlier one.
  resend = window.stored(producer_sequence);
  return 0;
}

int write_audit(const environment& e, batch_state& b, uint64_t producer_sequence,
                const std::string& key, audit_window& window) {
  window.add(producer_sequence);
  std::string value = encode_audit(window);
  MDB_val k = as_val(key);
  MDB_val v = as_val(value);
  int rc = mdb_put(b.txn, e.audit, &k, &v, 0);
  if (rc != 0)
    b.error = lmdb_text("mdb_put(audit)", rc);
  return rc;
}

} // namespace actormq::storage::detail
