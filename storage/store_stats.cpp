// What the store reports about itself: commit counters, the map's size and use, and LMDB's
// reader table (the oldest open reader pins the pages freed since its snapshot).
#include "storage/store.hpp"
#include "storage/store_impl.hpp"

#include <lmdb.h>

#include <cstdio>
#include <mutex>

namespace actormq::storage {

int store::clear_stale_readers() {
  int dead = 0;
  if (mdb_reader_check(impl_->env, &dead) != 0)
    return 0;
  std::lock_guard<std::mutex> lock(impl_->stats_mutex);
  impl_->counters.stale_readers_cleared += static_cast<uint64_t>(dead);
  return dead;
}

store_stats store::stats() const {
  auto& d = *impl_;
  store_stats s;
  {
    std::lock_guard<std::mutex> lock(d.stats_mutex);
    s = d.counters;
  }
  MDB_envinfo ei;
  MDB_stat st;
  if (mdb_env_info(d.env, &ei) == 0 && mdb_env_stat(d.env, &st) == 0) {
    s.map_size = ei.me_mapsize;
    s.used_bytes = (static_cast<uint64_t>(ei.me_last_pgno) + 1) * st.ms_psize;
    s.readers_in_use = ei.me_numreaders;
    s.reserved_bytes = d.reserve_pages * st.ms_psize;
    s.last_txn_id = ei.me_last_txnid;
  }
  // mdb_reader_list is LMDB's only view of the reader table: one text line per slot,
  // "pid thread txnid", with "-" for a slot that holds no snapshot.
  mdb_reader_list(
      d.env,
      [](const char* line, void* ctx) -> int {
        auto& out = *static_cast<store_stats*>(ctx);
        long long pid = 0;
        unsigned long long txn = 0;
        char thread[32];
        if (std::sscanf(line, "%lld %31s %llu", &pid, thread, &txn) != 3 || pid <= 0)
          return 0; // the header, a free slot or "(no active readers)"
        ++out.open_readers;
        if (out.oldest_reader_pid == 0 || txn < out.oldest_reader_txn) {
          out.oldest_reader_pid = pid;
          out.oldest_reader_txn = txn;
        }
        return 0;
      },
      &s);
  if (s.oldest_reader_pid != 0 && s.last_txn_id > s.oldest_reader_txn)
    s.oldest_reader_lag = s.last_txn_id - s.oldest_reader_txn;
  return s;
}

} // namespace actormq::storage
