// Private to storage/: batches through the journal (journal.hpp) and checkpoints. A batch runs
// in a transaction nested in the one open since the last checkpoint; its record is appended
// to the journal (and flushed, unless it may be answered unflushed) before the nested
// transaction commits into the open one. A checkpoint commits the open transaction, synced,
// with the number of its last record, and starts the journal again.
#pragma once

#include "storage/backend.hpp"
#include "storage/lmdb_support.hpp"
#include "storage/store_impl.hpp"

#include <string>
#include <vector>

namespace actormq::storage::detail {

// Begins a transaction nested in the open one (beginning that one if needed). 0, or the LMDB
// code (or EIO when the store is broken; `error` says why).
int begin_nested(store::impl& d, txn_guard& txn, std::string& error);

// Finishes [first, last) of `batch`, run in `nested`: its journal record, then the commit into
// the open transaction. A part too large for the journal's room is committed and checkpointed
// instead. 0, or a code (EIO for the journal; nothing of the part is kept).
int commit_journaled(store::impl& d, const std::vector<operation>& batch, size_t first, size_t last,
                     bool puts_fail_full, txn_guard& nested, std::string& error);

// Commits the open transaction (if any), synced. 0 or the code of the failed commit; then the
// store is broken (begin_nested fails) until it is opened again.
int checkpoint(store::impl& d, std::string& error);

// For readers on other threads: returns once the batches written so far are checkpointed (at
// once if they are). Errors: io_error (no checkpoint came, or it failed).
result<void> see_batches(const store::impl& d);

// At open: applies the journal's records after the last checkpoint and checkpoints them.
// With `keep` false the journal is then removed (a store opened without the journal).
// Errors: io_error, corrupt, store_full.
result<void> open_journal(store::impl& d, const store_options& options, bool keep);

} // namespace actormq::storage::detail
