// Migration of a schema 1 store (bodies keyed by the message key) to schema 2 (bodies keyed by a
// body id, referenced from the index). Runs in the write transaction that opens the store: LMDB
// commits all of it or none, so a crash during the migration leaves the schema 1 store as it was.
#include "storage/store_migration.hpp"

#include "storage/encoding.hpp"
#include "storage/lmdb_support.hpp"

#include <lmdb.h>

#include <string_view>
#include <utility>
#include <vector>

namespace actormq::storage::detail {
namespace {

// Index entries are read in chunks and rewritten after the cursor is closed, so that no cursor
// walks a database while it is written.
constexpr size_t migration_chunk = 4096;

// Up to migration_chunk index records after `after` (from the first when `after` is empty).
int read_chunk(const environment& e, MDB_txn* txn, const std::string& after,
               std::vector<std::pair<std::string, std::string>>& out) {
  out.clear();
  MDB_cursor* c = nullptr;
  int rc = mdb_cursor_open(txn, e.index, &c);
  if (rc != 0)
    return rc;
  cursor_guard guard(c);
  MDB_val k = as_val(after);
  MDB_val v;
  rc = after.empty() ? mdb_cursor_get(c, &k, &v, MDB_FIRST)
                     : mdb_cursor_get(c, &k, &v, MDB_SET_RANGE);
  if (rc == 0 && !after.empty() && as_view(k) == after)
    rc = mdb_cursor_get(c, &k, &v, MDB_NEXT);
  for (; rc == 0 && out.size() < migration_chunk; rc = mdb_cursor_get(c, &k, &v, MDB_NEXT))
    out.emplace_back(std::string(as_view(k)), std::string(as_view(v)));
  return rc == MDB_NOTFOUND || rc == 0 ? 0 : rc;
}

} // namespace

int migrate_schema1(const environment& e, MDB_txn* txn, uint64_t& last_body_id,
                    std::string& error) {
  MDB_dbi old_bodies = 0;
  int rc = mdb_dbi_open(txn, "bodies", 0, &old_bodies);
  bool has_old_bodies = rc == 0;
  if (rc != 0 && rc != MDB_NOTFOUND) {
    error = lmdb_text("mdb_dbi_open(bodies)", rc);
    return rc;
  }
  std::vector<std::pair<std::string, std::string>> chunk;
  std::string after;
  do {
    if ((rc = read_chunk(e, txn, after, chunk)) != 0) {
      error = lmdb_text("mdb_cursor_get(index)", rc);
      return rc;
    }
    for (auto& [key, value] : chunk) {
      index_entry entry;
      if (key.size() != message_key_size || !decode_schema1_index(value, entry)) {
        error =
            "schema 1 index record of " + std::to_string(key.size()) + " key bytes does not decode";
        return MDB_CORRUPTED;
      }
      MDB_val k = as_val(key);
      MDB_val v;
      uint64_t body_id = 0; // none: read_payload() answers not_found, as schema 1 did
      rc = has_old_bodies ? mdb_get(txn, old_bodies, &k, &v) : MDB_NOTFOUND;
      if (rc == 0) {
        body_id = ++last_body_id;
        std::string bkey = body_key(body_id);
        MDB_val bk = as_val(bkey);
        if ((rc = mdb_put(txn, e.message_bodies, &bk, &v, MDB_APPEND)) != 0) {
          error = lmdb_text("mdb_put(message_bodies)", rc);
          return rc;
        }
      } else if (rc != MDB_NOTFOUND) {
        error = lmdb_text("mdb_get(bodies)", rc);
        return rc;
      }
      std::string migrated = encode_index(entry, body_id);
      v = as_val(migrated);
      if ((rc = mdb_put(txn, e.index, &k, &v, 0)) != 0) {
        error = lmdb_text("mdb_put(index)", rc);
        return rc;
      }
    }
    if (!chunk.empty())
      after = chunk.back().first;
  } while (chunk.size() == migration_chunk);
  // Bodies without an index entry (none should exist) go with the old database.
  if (has_old_bodies && (rc = mdb_drop(txn, old_bodies, 1)) != 0) {
    error = lmdb_text("mdb_drop(bodies)", rc);
    return rc;
  }
  std::string last = encode_u64(last_body_id);
  std::string schema = encode_u32(schema_version);
  MDB_val lk = as_val(meta_last_body_key);
  MDB_val lv = as_val(last);
  MDB_val sk = as_val(meta_schema_key);
  MDB_val sv = as_val(schema);
  if ((rc = mdb_put(txn, e.meta, &lk, &lv, 0)) != 0 ||
      (rc = mdb_put(txn, e.meta, &sk, &sv, 0)) != 0) {
    error = lmdb_text("mdb_put(meta)", rc);
    return rc;
  }
  return 0;
}

} // namespace actormq::storage::detail
