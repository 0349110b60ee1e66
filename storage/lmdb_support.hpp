// Private to storage/: what every file of the store needs to call LMDB: views of keys and
// values, error texts and codes, and guards that abort transactions and close cursors.
#pragma once

#include "common/result.hpp"
#include "storage/store.hpp"

#include <lmdb.h>

#include <string>
#include <string_view>

namespace actormq::storage::detail {

inline MDB_val as_val(const std::string& s) {
  return MDB_val{s.size(), const_cast<char*>(s.data())};
}

inline std::string_view as_view(const MDB_val& v) {
  return {static_cast<const char*>(v.mv_data), v.mv_size};
}

inline std::string lmdb_text(const char* call, int rc) {
  return std::string(call) + ": " + mdb_strerror(rc);
}

// Maps an LMDB return code of a read path to our codes.
inline std::error_code read_code(int rc) {
  switch (rc) {
  case MDB_NOTFOUND:
    return store_errc::not_found;
  case MDB_MAP_FULL:
    return store_errc::store_full;
  case MDB_READERS_FULL:
    return store_errc::readers_full;
  case MDB_CORRUPTED:
  case MDB_PAGE_NOTFOUND:
  case MDB_INVALID:
    return store_errc::corrupt;
  default:
    return store_errc::io_error;
  }
}

inline failure lmdb_failure(const char* call, int rc) {
  return failure{read_code(rc), lmdb_text(call, rc)};
}

// Aborts the transaction unless it was committed or released.
class txn_guard {
public:
  txn_guard() = default;
  ~txn_guard() { abort(); }
  txn_guard(const txn_guard&) = delete;
  txn_guard& operator=(const txn_guard&) = delete;

  MDB_txn** out() { return &txn_; }
  MDB_txn* get() const { return txn_; }
  void abort() {
    if (txn_ != nullptr)
      mdb_txn_abort(txn_);
    txn_ = nullptr;
  }
  int commit() {
    int rc = mdb_txn_commit(txn_); // frees the transaction even on failure
    txn_ = nullptr;
    return rc;
  }
  // Gives up the transaction without ending it (the caller owns it now).
  MDB_txn* release() {
    MDB_txn* t = txn_;
    txn_ = nullptr;
    return t;
  }

private:
  MDB_txn* txn_ = nullptr;
};

class cursor_guard {
public:
  explicit cursor_guard(MDB_cursor* c) : cursor_(c) {}
  ~cursor_guard() { mdb_cursor_close(cursor_); }
  cursor_guard(const cursor_guard&) = delete;
  cursor_guard& operator=(const cursor_guard&) = delete;
  MDB_cursor* get() const { return cursor_; }

private:
  MDB_cursor* cursor_;
};

// A write transaction; adopts a map grown by another process (MDB_MAP_RESIZED).
inline int begin_write(MDB_env* env, txn_guard& txn) {
  int rc = mdb_txn_begin(env, nullptr, 0, txn.out());
  if (rc == MDB_MAP_RESIZED) {
    rc = mdb_env_set_mapsize(env, 0);
    if (rc == 0)
      rc = mdb_txn_begin(env, nullptr, 0, txn.out());
  }
  return rc;
}

inline int begin_read(MDB_env* env, txn_guard& txn) {
  return mdb_txn_begin(env, nullptr, MDB_RDONLY, txn.out());
}

} // namespace actormq::storage::detail
