// Writes a store in the layout of schema 1 (the release before bodies got their own ids), with
// raw LMDB calls and byte layouts spelled out here, independent of storage/encoding.hpp, so that
// the migration is tested against what that release wrote: bodies keyed by the message key, 32-byte
// index entries, meta/schema = 1.
#pragma once

#include <catch2/catch.hpp>

#include <lmdb.h>

#include <cstdint>
#include <filesystem>
#include <map>
#include <string>

namespace actormq::storage::test {

class schema1_writer {
public:
  static std::string le(uint64_t v, int bytes) {
    std::string out;
    for (int i = 0; i < bytes; ++i)
      out.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
    return out;
  }
  static std::string be(uint64_t v, int bytes) {
    std::string out;
    for (int i = bytes - 1; i >= 0; --i)
      out.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
    return out;
  }

  schema1_writer(const std::filesystem::path& directory, const std::string& store_id,
                 uint64_t map_size = 64ull << 20) {
    std::filesystem::create_directories(directory);
    REQUIRE(mdb_env_create(&env_) == 0);
    REQUIRE(mdb_env_set_maxdbs(env_, 16) == 0);
    REQUIRE(mdb_env_set_mapsize(env_, map_size) == 0);
    REQUIRE(mdb_env_open(env_, directory.c_str(), MDB_NOSYNC, 0644) == 0);
    REQUIRE(mdb_txn_begin(env_, nullptr, 0, &txn_) == 0);
    for (const char* name : {"meta", "destinations", "destination_names", "index", "bodies",
                             "audit", "sequences", "transfers", "link_sequences"})
      REQUIRE(mdb_dbi_open(txn_, name, MDB_CREATE, &dbs_[name]) == 0);
    put("meta", "schema", le(1, 4));
    put("meta", "store_id", store_id);
  }
  ~schema1_writer() {
    if (txn_ != nullptr)
      mdb_txn_abort(txn_);
    mdb_env_close(env_);
  }
  schema1_writer(const schema1_writer&) = delete;
  schema1_writer& operator=(const schema1_writer&) = delete;

  void put(const std::string& db, const std::string& key, const std::string& value) {
    MDB_val k{key.size(), const_cast<char*>(key.data())};
    MDB_val v{value.size(), const_cast<char*>(value.data())};
    REQUIRE(mdb_put(txn_, dbs_.at(db), &k, &v, 0) == 0);
  }

  void destination(uint32_t id, const std::string& name, uint64_t enqueued, uint64_t dequeued,
                   uint64_t duplicates) {
    put("destinations", be(id, 4), le(enqueued, 8) + le(dequeued, 8) + le(duplicates, 8) + name);
    put("destination_names", name, le(id, 4));
  }

  // The index entry (32 bytes LE: sequence, size, priority, expiration_ms, flags,
  // delivery_count); with `with_body`, the body under the same key.
  void message(uint32_t destination, uint64_t sequence, const std::string& payload,
               int32_t priority, int64_t expiration_ms, uint32_t flags, uint32_t delivery_count,
               bool with_body = true) {
    std::string key = be(destination, 4) + be(sequence, 8);
    put("index", key,
        le(sequence, 8) + le(payload.size(), 4) + le(static_cast<uint32_t>(priority), 4) +
            le(static_cast<uint64_t>(expiration_ms), 8) + le(flags, 4) + le(delivery_count, 4));
    if (with_body)
      put("bodies", key, payload);
  }

  void last_sequence(uint32_t destination, uint64_t last) {
    put("sequences", be(destination, 4), le(last, 8));
  }

  // An exact audit window: `high`, then 1024 bits (bit i: high - i stored).
  void audit_window(const std::string& producer, uint32_t destination, uint64_t high,
                    const std::vector<uint64_t>& behind_stored) {
    std::string bits(128, '\0');
    for (uint64_t i : behind_stored)
      bits[i / 8] = static_cast<char>(bits[i / 8] | (1 << (i % 8)));
    put("audit", producer + std::string(1, '\0') + be(destination, 4), le(high, 8) + bits);
  }

  // The 8-byte high-water mark of the releases before the exact window.
  void audit_high_water(const std::string& producer, uint32_t destination, uint64_t high) {
    put("audit", producer + std::string(1, '\0') + be(destination, 4), le(high, 8));
  }

  void transfer(const std::string& link, uint64_t link_sequence, uint32_t destination,
                uint64_t sequence) {
    put("transfers", link + std::string(1, '\0') + be(link_sequence, 8),
        le(destination, 4) + le(sequence, 8));
  }

  void link_sequence(const std::string& link, uint64_t last) {
    put("link_sequences", link, le(last, 8));
  }

  void last_destination_id(uint32_t id) { put("meta", "last_destination_id", le(id, 4)); }

  void commit() {
    REQUIRE(mdb_txn_commit(txn_) == 0);
    txn_ = nullptr;
    REQUIRE(mdb_env_sync(env_, 1) == 0);
  }

private:
  MDB_env* env_ = nullptr;
  MDB_txn* txn_ = nullptr;
  std::map<std::string, MDB_dbi> dbs_;
};

} // namespace actormq::storage::test
