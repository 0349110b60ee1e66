// Private to storage/: the state of an open store. Its LMDB handles (detail::environment) are
// what the batch and read code needs; store::impl adds the identity, the counters and the
// folder registration. store_open.cpp fills both.
#pragma once

#include "storage/journal.hpp"
#include "storage/store.hpp"

#include <lmdb.h>

#include <atomic>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>

namespace actormq::storage {
namespace detail {

struct environment {
  MDB_env* env = nullptr;
  MDB_dbi meta = 0;
  MDB_dbi destinations = 0;
  MDB_dbi destination_names = 0;
  MDB_dbi index = 0;
  MDB_dbi message_bodies = 0;
  MDB_dbi body_refs = 0;
  MDB_dbi audit = 0;
  MDB_dbi sequences = 0;
  MDB_dbi transfers = 0;
  MDB_dbi link_sequences = 0;
  MDB_dbi scheduled = 0;
  size_t max_key_size = 511;
  uint64_t page_size = 4096;
  uint64_t reserve_pages = 0;      // kept free for deletes: puts stop above map pages minus these
  bool reserve_configured = false; // store_options::reserve_bytes was given (not the default)
  std::string directory;           // the environment folder: its file system's free space counts
  uint64_t last_body_id = 0;       // the highest body id committed; advanced by apply() only
};

} // namespace detail

struct store::impl : detail::environment {
  store_info info;

  mutable std::mutex stats_mutex; // guards counters and last_error
  store_stats counters;
  std::string last_error; // the text of the last failed apply(), for people
  std::string folder;     // registered as open in this process while this store is open

  // The journal (store_options::journal; null without): batches go into open_txn, nested,
  // between checkpoints. Written by the writer's thread only.
  std::unique_ptr<detail::journal> journal;
  MDB_txn* open_txn = nullptr;
  uint64_t next_record = 1; // the number of the next journal record
  // Pages the batches since the last checkpoint may have copied (an upper bound): LMDB reuses
  // the pages a transaction frees only after it commits, so the open one checkpoints before its
  // copies could eat the room kept for deletes (space.hpp).
  uint64_t pages_since_checkpoint = 0;
  std::string broken; // why batches fail until the store is opened again (a checkpoint failed)
  // What readers on other threads wait for: the last record in open_txn, the last checkpointed.
  std::atomic<uint64_t> written_record{0};
  std::atomic<uint64_t> checkpointed_record{0};
  std::atomic<bool> failed{false};     // broken is set
  mutable std::mutex checkpoint_mutex; // guards requester; checkpointed waits on it
  mutable std::condition_variable checkpointed;
  std::function<void()> requester;

  // Replication (replicated_apply.cpp), writer's thread only: the position, read at first use.
  bool position_loaded = false;
  replication_position position;
  uint64_t fence_epoch = 0;
  uint64_t shipping_epoch = 0; // 0: commits are not shipped
  std::function<void(const replicated_batch&)> ship;

  impl() = default;
  impl(const impl&) = delete;
  impl& operator=(const impl&) = delete;
  ~impl(); // closes the environment and unregisters the folder (store_open.cpp)
};

} // namespace actormq::storage
