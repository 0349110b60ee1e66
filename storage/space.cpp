#include "storage/space.hpp"

#include <algorithm>

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
