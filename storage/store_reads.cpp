// The store's reads: destinations, a destination's index entries for recovery, a message's
// entry, payload or body, every body. Each runs in its own short read transaction (any thread,
// MDB_NOTLS).
#include "storage/encoding.hpp"
#include "storage/journal_commit.hpp"
#include "storage/lmdb_support.hpp"
#include "storage/store.hpp"
#include "storage/store_impl.hpp"

#include <lmdb.h>

namespace actormq::storage {
namespace {

using namespace detail;

// One message's index entry and body id in the read transaction `txn`.
// Errors: not_found, io_error, corrupt.
result<void> read_index(const environment& e, MDB_txn* txn, uint32_t destination_id,
                        uint64_t sequence, index_entry& entry, uint64_t& body_id) {
  std::string key = message_key(destination_id, sequence);
  MDB_val k = as_val(key);
  MDB_val v;
  int rc = mdb_get(txn, e.index, &k, &v);
  if (rc == MDB_NOTFOUND)
    return failure{store_errc::not_found, "message " + std::to_string(destination_id) + "/" +
                                              std::to_string(sequence) + " is not stored"};
  if (rc != 0)
    return lmdb_failure("mdb_get(index)", rc);
  if (!decode_index(as_view(v), entry, body_id))
    return failure{store_errc::corrupt, "index entry " + std::to_string(destination_id) + "/" +
                                            std::to_string(sequence) + " does not decode"};
  entry.sequence = sequence; // the key is authoritative
  return {};
}

// The references of body `id` (no "body_refs" record: one). 0 or the LMDB code.
int read_references(const environment& e, MDB_txn* txn, uint64_t id, uint32_t& references) {
  std::string key = body_key(id);
  MDB_val k = as_val(key);
  MDB_val v;
  int rc = mdb_get(txn, e.body_refs, &k, &v);
  references = 1;
  if (rc == MDB_NOTFOUND)
    return 0;
  if (rc != 0)
    return rc;
  return decode_u32(as_view(v), references) ? 0 : MDB_CORRUPTED;
}

failure no_body(uint32_t destination_id, uint64_t sequence) {
  return failure{store_errc::not_found, "message " + std::to_string(destination_id) + "/" +
                                            std::to_string(sequence) + " has no body"};
}

} // namespace

result<std::vector<destination_record>> store::destinations() const {
  // Lists see every batch so far: they wait for its checkpoint.
  if (auto seen = detail::see_batches(*impl_); !seen)
    return seen.error();
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
  // Lists see every batch so far: they wait for its checkpoint.
  if (auto seen = detail::see_batches(*impl_); !seen)
    return seen.error();
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
    uint64_t body_id = 0;
    if (!decode_index(as_view(v), entry, body_id))
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
  // Lists see every batch so far: they wait for its checkpoint.
  if (auto seen = detail::see_batches(*impl_); !seen)
    return seen.error();
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

namespace {

result<index_entry> read_entry_now(const environment& d, uint32_t destination_id,
                                   uint64_t sequence) {
  txn_guard txn;
  int rc = begin_read(d.env, txn);
  if (rc != 0)
    return lmdb_failure("mdb_txn_begin", rc);
  index_entry entry;
  uint64_t body_id = 0;
  if (auto found = read_index(d, txn.get(), destination_id, sequence, entry, body_id); !found)
    return found.error();
  return entry;
}

} // namespace

result<index_entry> store::read_entry(uint32_t destination_id, uint64_t sequence) const {
  auto found = read_entry_now(*impl_, destination_id, sequence);
  if (found || found.code() != store_errc::not_found || !impl_->journal)
    return found;
  // It may be in a batch since the last checkpoint.
  if (auto seen = see_batches(*impl_); !seen)
    return seen.error();
  return read_entry_now(*impl_, destination_id, sequence);
}

namespace {

result<std::string> read_payload_now(const environment& d, uint32_t destination_id,
                                     uint64_t sequence) {
  txn_guard txn;
  int rc = begin_read(d.env, txn);
  if (rc != 0)
    return lmdb_failure("mdb_txn_begin", rc);
  index_entry entry;
  uint64_t body_id = 0;
  if (auto found = read_index(d, txn.get(), destination_id, sequence, entry, body_id); !found)
    return found.error();
  if (body_id == 0)
    return no_body(destination_id, sequence);
  std::string key = body_key(body_id);
  MDB_val k = as_val(key);
  MDB_val v;
  rc = mdb_get(txn.get(), d.message_bodies, &k, &v);
  if (rc == MDB_NOTFOUND)
    return failure{store_errc::corrupt, "body " + std::to_string(body_id) + " of message " +
                                            std::to_string(destination_id) + "/" +
                                            std::to_string(sequence) + " is missing"};
  if (rc != 0)
    return lmdb_failure("mdb_get(message_bodies)", rc);
  return std::string(as_view(v));
}

} // namespace

result<std::string> store::read_payload(uint32_t destination_id, uint64_t sequence) const {
  auto found = read_payload_now(*impl_, destination_id, sequence);
  if (found || found.code() != store_errc::not_found || !impl_->journal)
    return found;
  // It may be in a batch since the last checkpoint.
  if (auto seen = see_batches(*impl_); !seen)
    return seen.error();
  return read_payload_now(*impl_, destination_id, sequence);
}

namespace {

result<body_record> read_body_now(const environment& d, uint32_t destination_id,
                                  uint64_t sequence) {
  txn_guard txn;
  int rc = begin_read(d.env, txn);
  if (rc != 0)
    return lmdb_failure("mdb_txn_begin", rc);
  index_entry entry;
  body_record body;
  if (auto found = read_index(d, txn.get(), destination_id, sequence, entry, body.id); !found)
    return found.error();
  if (body.id == 0)
    return no_body(destination_id, sequence);
  std::string key = body_key(body.id);
  MDB_val k = as_val(key);
  MDB_val v;
  rc = mdb_get(txn.get(), d.message_bodies, &k, &v);
  if (rc == MDB_NOTFOUND)
    return failure{store_errc::corrupt, "body " + std::to_string(body.id) + " is missing"};
  if (rc != 0)
    return lmdb_failure("mdb_get(message_bodies)", rc);
  body.size = v.mv_size;
  if ((rc = read_references(d, txn.get(), body.id, body.references)) != 0)
    return lmdb_failure("mdb_get(body_refs)", rc);
  return body;
}

} // namespace

result<body_record> store::read_body(uint32_t destination_id, uint64_t sequence) const {
  auto found = read_body_now(*impl_, destination_id, sequence);
  if (found || found.code() != store_errc::not_found || !impl_->journal)
    return found;
  // It may be in a batch since the last checkpoint.
  if (auto seen = see_batches(*impl_); !seen)
    return seen.error();
  return read_body_now(*impl_, destination_id, sequence);
}

result<std::vector<body_record>> store::bodies() const {
  // Lists see every batch so far: they wait for its checkpoint.
  if (auto seen = detail::see_batches(*impl_); !seen)
    return seen.error();
  auto& d = *impl_;
  txn_guard txn;
  int rc = begin_read(d.env, txn);
  if (rc != 0)
    return lmdb_failure("mdb_txn_begin", rc);
  MDB_cursor* c = nullptr;
  if ((rc = mdb_cursor_open(txn.get(), d.message_bodies, &c)) != 0)
    return lmdb_failure("mdb_cursor_open(message_bodies)", rc);
  cursor_guard guard(c);
  std::vector<body_record> out;
  MDB_val k;
  MDB_val v;
  for (rc = mdb_cursor_get(c, &k, &v, MDB_FIRST); rc == 0;
       rc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
    if (k.mv_size != body_key_size)
      return failure{store_errc::corrupt, "a body key does not decode"};
    body_record body;
    body.id = read_be(as_view(k), 0, 8);
    body.size = v.mv_size;
    int refs = read_references(d, txn.get(), body.id, body.references);
    if (refs != 0)
      return lmdb_failure("mdb_get(body_refs)", refs);
    out.push_back(body);
  }
  if (rc != MDB_NOTFOUND)
    return lmdb_failure("mdb_cursor_get(message_bodies)", rc);
  return out;
}

} // namespace actormq::storage
