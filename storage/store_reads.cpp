// The store's reads: destinations, a destination's index entries for recovery, a message's
// entry or payload. Each runs in its own short read transaction (any thread, MDB_NOTLS).
#include "storage/encoding.hpp"
#include "storage/lmdb_support.hpp"
#include "storage/store.hpp"
#include "storage/store_impl.hpp"

#include <lmdb.h>

namespace actormq::storage {
namespace {

using namespace detail;

// One message's record in `db` (index or bodies), copied before the read transaction ends.
// Errors: not_found, io_error.
result<std::string> read_message_record(const environment& e, MDB_dbi db, const char* db_name,
                                        uint32_t destination_id, uint64_t sequence) {
  txn_guard txn;
  int rc = begin_read(e.env, txn);
  if (rc != 0)
    return lmdb_failure("mdb_txn_begin", rc);
  std::string key = message_key(destination_id, sequence);
  MDB_val k = as_val(key);
  MDB_val v;
  rc = mdb_get(txn.get(), db, &k, &v);
  if (rc == MDB_NOTFOUND)
    return failure{store_errc::not_found, "message " + std::to_string(destination_id) + "/" +
                                              std::to_string(sequence) + " is not stored"};
  if (rc != 0)
    return lmdb_failure((std::string("mdb_get(") + db_name + ")").c_str(), rc);
  return std::string(as_view(v));
}

} // namespace

result<std::vector<destination_record>> store::destinations() const {
  auto& d = *impl_;
  txn_guard txn;
  int rc = begin_read(d.env, txn);
  if (rc != 0)
    return lmdb_failure("mdb_txn_begin", rc);
  MDB_cursor* c = nullptr;
  if ((rc = mdb_cursor_open(txn.get(), d.destinations, &c)) != 0)
    return lmdb_failure("mdb_cursor_open(destinations)", rc);
  cursor_guard guard(c);
  std::vector<destination_record> out;
  MDB_val k;
  MDB_val v;
  for (rc = mdb_cursor_get(c, &k, &v, MDB_FIRST); rc == 0;
       rc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
    destination_record record;
    if (k.mv_size != 4 ||
        !decode_destination(static_cast<uint32_t>(read_be(as_view(k), 0, 4)), as_view(v), record))
      return failure{store_errc::corrupt, "a destination record does not decode"};
    out.push_back(std::move(record));
  }
  if (rc != MDB_NOTFOUND)
    return lmdb_failure("mdb_cursor_get(destinations)", rc);
  return out;
}

result<std::vector<index_entry>> store::recover(uint32_t destination_id) const {
  auto& d = *impl_;
  txn_guard txn;
  int rc = begin_read(d.env, txn);
  if (rc != 0)
    return lmdb_failure("mdb_txn_begin", rc);
  MDB_cursor* c = nullptr;
  if ((rc = mdb_cursor_open(txn.get(), d.index, &c)) != 0)
    return lmdb_failure("mdb_cursor_open(index)", rc);
  cursor_guard guard(c);
  std::string prefix = destination_key(destination_id);
  std::vector<index_entry> out;
  MDB_val k = as_val(prefix);
  MDB_val v;
  for (rc = mdb_cursor_get(c, &k, &v, MDB_SET_RANGE); rc == 0;
       rc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
    auto key = as_view(k);
    if (key.size() != message_key_size || key.substr(0, 4) != prefix)
      break;
    index_entry entry;
    if (!decode_index(as_view(v), entry))
      return failure{store_errc::corrupt, "index entry " + std::to_string(destination_id) + "/" +
                                              std::to_string(read_be(key, 4, 8)) +
                                              " does not decode"};
    entry.sequence = read_be(key, 4, 8); // the key is authoritative
    out.push_back(entry);
  }
  if (rc != 0 && rc != MDB_NOTFOUND)
    return lmdb_failure("mdb_cursor_get(index)", rc);
  return out;
}

result<uint64_t> store::last_sequence(uint32_t destination_id) const {
  auto& d = *impl_;
  txn_guard txn;
  int rc = begin_read(d.env, txn);
  if (rc != 0)
    return lmdb_failure("mdb_txn_begin", rc);
  std::string key = destination_key(destination_id);
  MDB_val k = as_val(key);
  MDB_val v;
  rc = mdb_get(txn.get(), d.sequences, &k, &v);
  if (rc == MDB_NOTFOUND)
    return uint64_t{0};
  if (rc != 0)
    return lmdb_failure("mdb_get(sequences)", rc);
  uint64_t last = 0;
  if (!decode_u64(as_view(v), last))
    return failure{store_errc::corrupt, "sequence record of destination " +
                                            std::to_string(destination_id) + " does not decode"};
  return last;
}

result<index_entry> store::read_entry(uint32_t destination_id, uint64_t sequence) const {
  auto raw = read_message_record(*impl_, impl_->index, "index", destination_id, sequence);
  if (!raw)
    return raw.error();
  index_entry entry;
  if (!decode_index(*raw, entry))
    return failure{store_errc::corrupt, "index entry " + std::to_string(destination_id) + "/" +
                                            std::to_string(sequence) + " does not decode"};
  entry.sequence = sequence;
  return entry;
}

result<std::string> store::read_payload(uint32_t destination_id, uint64_t sequence) const {
  return read_message_record(*impl_, impl_->bodies, "bodies", destination_id, sequence);
}

} // namespace actormq::storage
