// Room in the store's map: the high-water mark that keeps pages free for deletes, and the
// retries of a batch that does not fit (space.hpp).
#include "storage/space.hpp"

#include "storage/batch.hpp"
#include "storage/journal_commit.hpp"
#include "storage/lmdb_support.hpp"
#include "storage/store_impl.hpp"

#include <sys/statvfs.h>

#include <algorithm>
#include <iterator>
#include <limits>

namespace actormq::storage::detail {

uint64_t default_reserve_pages(uint64_t map_pages, uint64_t page_size) {
  uint64_t batch_of_deletes = (2ull << 20) / std::max<uint64_t>(page_size, 1);
  return std::min(map_pages / 4, std::max(map_pages / 10, batch_of_deletes));
}

int pages_in_use(MDB_txn* txn, const MDB_dbi* dbis, size_t count, uint64_t& pages) {
  constexpr MDB_dbi free_dbi = 0; // LMDB's FREE_DBI and MAIN_DBI (not in lmdb.h)
  constexpr MDB_dbi main_dbi = 1;
  uint64_t total = 2; // the meta pages
  auto add = [&](MDB_dbi dbi) {
    MDB_stat st;
    int rc = mdb_stat(txn, dbi, &st);
    if (rc == 0)
      total += st.ms_branch_pages + st.ms_leaf_pages + st.ms_overflow_pages;
    return rc;
  };
  int rc = add(free_dbi);
  if (rc == 0)
    rc = add(main_dbi);
  for (size_t i = 0; rc == 0 && i < count; ++i)
    rc = add(dbis[i]);
  if (rc == 0)
    pages = total;
  return rc;
}

int measure_room(const environment& e, MDB_txn* txn, room_measure& out, std::string& error) {
  MDB_envinfo ei;
  int rc = mdb_env_info(e.env, &ei);
  if (rc != 0) {
    error = lmdb_text("mdb_env_info", rc);
    return rc;
  }
  const MDB_dbi dbis[] = {
      e.meta,      e.destinations, e.destination_names, e.index,     e.message_bodies,
      e.body_refs, e.audit,        e.sequences,         e.transfers, e.link_sequences};
  if ((rc = pages_in_use(txn, dbis, std::size(dbis), out.used)) != 0) {
    error = lmdb_text("mdb_stat", rc);
    return rc;
  }
  out.capacity = ei.me_mapsize / e.page_size;
  out.reserve = e.reserve_pages;
  out.limit = "map";
  // The file system may hold less than the map: then it is the limit, so that deletes (which
  // copy pages) still find room when sends stop.
  struct statvfs fs;
  if (!e.directory.empty() && statvfs(e.directory.c_str(), &fs) == 0) {
    uint64_t disk_pages = static_cast<uint64_t>(ei.me_last_pgno) + 1 +
                          static_cast<uint64_t>(fs.f_bavail) * fs.f_frsize / e.page_size;
    if (disk_pages < out.capacity) {
      out.capacity = disk_pages;
      out.limit = "file system";
      if (!e.reserve_configured)
        out.reserve = default_reserve_pages(out.capacity, e.page_size);
    }
  }
  return 0;
}

int check_high_water(const environment& e, batch_state& b, std::string& error) {
  room_measure room;
  int rc = measure_room(e, b.txn, room, error);
  if (rc != 0)
    return rc;
  if (room.used <= room.high_water())
    return 0;
  error = "the store is full: " + std::to_string(room.used) + " pages in use, " +
          std::to_string(room.reserve) + " of " + std::to_string(room.capacity) + " (the " +
          room.limit + "'s room) are kept for acknowledgements";
  return above_high_water;
}

namespace {

void commit_range(const batch_steps& steps, size_t first, size_t last, bool puts_fail_full) {
  if (first >= last)
    return;
  int rc = steps.run(first, last, puts_fail_full);
  if (rc == above_high_water) {
    puts_fail_full = true;
    rc = steps.run(first, last, true);
  }
  if (rc == MDB_MAP_FULL && steps.advance() == 0) {
    rc = steps.run(first, last, puts_fail_full);
    if (rc == above_high_water) {
      puts_fail_full = true;
      rc = steps.run(first, last, true);
    }
  }
  if (rc == MDB_MAP_FULL && !puts_fail_full && steps.has_put(first, last)) {
    puts_fail_full = true;
    rc = steps.run(first, last, true);
  }
  if (rc == MDB_MAP_FULL && last - first > 1) {
    // Each half's commit frees pages that the next one can use.
    size_t middle = first + (last - first) / 2;
    commit_range(steps, first, middle, true);
    commit_range(steps, middle, last, true);
    return;
  }
  if (rc != 0)
    steps.fail(first, last, rc);
}

} // namespace

void commit_with_room(const batch_steps& steps, size_t first, size_t last) {
  commit_range(steps, first, last, false);
}

} // namespace actormq::storage::detail

namespace actormq::storage {

// Measured in a transaction that sees every batch so far (nested in the journal's open one),
// then aborted: nothing is written.
uint64_t store::room_for_puts() {
  auto& d = *impl_;
  detail::txn_guard txn;
  std::string error;
  int rc = d.journal ? detail::begin_nested(d, txn, error) : detail::begin_read(d.env, txn);
  detail::room_measure room;
  if (rc != 0 || detail::measure_room(d, txn.get(), room, error) != 0)
    return std::numeric_limits<uint64_t>::max(); // the next apply() finds out
  auto high_water = room.high_water();
  return room.used >= high_water ? 0 : (high_water - room.used) * d.page_size;
}

} // namespace actormq::storage
