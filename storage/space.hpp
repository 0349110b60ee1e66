// Room in the store's map (internal to storage/): the high-water mark that keeps room for
// deletes, and what apply() does when a batch does not fit. docs/storage.md explains both.
#pragma once

#include <lmdb.h>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>

namespace actormq::storage::detail {

// A batch's result code for "its puts would take the store above the high-water mark" (LMDB's
// own codes are errno values and -30799..-30780, so -1 is free).
constexpr int above_high_water = -1;

// Default pages kept free for deletes: a tenth of the map, at least 2 MiB, but never more than
// a quarter of the map. (Measured on 1 KiB messages: a batch of 1024 deletes in sequence order
// fits in 512 KiB, since LMDB reuses a page emptied within the transaction; 1024 deletes
// scattered over the queue copy a page each and commit in about four parts within 2 MiB.)
uint64_t default_reserve_pages(uint64_t map_pages, uint64_t page_size);

// The pages the running transaction has in use: the branch, leaf and overflow pages of the
// free list, the main database and every named database in `dbis`, plus the two meta pages.
// Pages on the free list are not counted (LMDB reuses them). 0 or the LMDB code of mdb_stat.
int pages_in_use(MDB_txn* txn, const MDB_dbi* dbis, size_t count, uint64_t& pages);

// The pages in use as pages_in_use() counts them, and the limit they may reach: the map, or
// the file system when it holds less (then the reserve is taken from its room, unless it was
// configured).
struct room_measure {
  uint64_t used = 0;
  uint64_t capacity = 0; // pages
  uint64_t reserve = 0;  // pages kept free for deletes
  const char* limit = "map";
  uint64_t high_water() const { return capacity > reserve ? capacity - reserve : 0; }
};
struct environment;
// Measures the room in `txn`'s view. 0 or the LMDB code that failed (`error` names the call).
int measure_room(const environment& e, MDB_txn* txn, room_measure& out, std::string& error);

// The steps apply() takes to commit operations [first, last) of a batch.
struct batch_steps {
  // Runs [first, last) in one write transaction and commits it (puts fail with store_full
  // when puts_fail_full). 0, above_high_water, or an LMDB code (nothing was committed).
  std::function<int(size_t first, size_t last, bool puts_fail_full)> run;
  // Commits a one-record change, so that pages freed by the last commit become reusable
  // (LMDB reuses a page only two transactions after the one that freed it).
  std::function<int()> advance;
  // True if [first, last) holds a put.
  std::function<bool(size_t first, size_t last)> has_put;
  // Fails every operation of [first, last) with the code a run returned.
  std::function<void(size_t first, size_t last, int rc)> fail;
};

// Commits [first, last) with room for its deletes: puts above the high-water mark fail with
// store_full and the rest commits; on MDB_MAP_FULL the freed pages are made reusable and the
// batch runs again, then without its puts, then in halves committed one after the other
// (each commit frees pages for the next), down to single operations. Whatever still does not
// fit (or fails otherwise) is failed through steps.fail.
void commit_with_room(const batch_steps& steps, size_t first, size_t last);

} // namespace actormq::storage::detail
