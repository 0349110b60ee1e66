// Batches through the journal, checkpoints, the readers' wait for one, and the journal's replay
// when a store opens (journal_commit.hpp).
#include "storage/journal_commit.hpp"

#include "storage/batch.hpp"
#include "storage/encoding.hpp"
#include "storage/journal_records.hpp"

#include <lmdb.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdint>

namespace actormq::storage::detail {
namespace {

// How long a reader waits for a checkpoint it asked for before it fails.
constexpr auto reader_wait = std::chrono::seconds(10);

void mark_broken(store::impl& d, const std::string& why) {
  d.broken = why + "; the store refuses writes until it is opened again (restart the node: "
                   "opening applies the journal)";
  {
    std::lock_guard<std::mutex> lock(d.checkpoint_mutex);
    d.failed = true;
  }
  d.checkpointed.notify_all();
}

int write_applied(store::impl& d, uint64_t last, std::string& error) {
  std::string value = encode_u64(last);
  MDB_val k = as_val(meta_journal_applied_key);
  MDB_val v = as_val(value);
  int rc = mdb_put(d.open_txn, d.meta, &k, &v, 0);
  if (rc != 0)
    error = lmdb_text("mdb_put(meta)", rc);
  return rc;
}

int read_applied(const store::impl& d, uint64_t& applied) {
  txn_guard txn;
  int rc = begin_read(d.env, txn);
  if (rc != 0)
    return rc;
  MDB_val k = as_val(meta_journal_applied_key);
  MDB_val v;
  rc = mdb_get(txn.get(), d.meta, &k, &v);
  if (rc == MDB_NOTFOUND) {
    applied = 0;
    return 0;
  }
  if (rc == 0 && !decode_u64(as_view(v), applied))
    return MDB_CORRUPTED;
  return rc;
}

// Applies the journal's records after `applied`, up to `limit`, into the open transaction (begun
// as needed), each as the batch it was. Returns the number of the last. On failure the open
// transaction is aborted.
result<uint64_t> apply_journal(store::impl& d, uint64_t applied, uint64_t limit = UINT64_MAX) {
  std::vector<op_result> results;
  auto replayed = d.journal->replay(
      applied,
      [&](uint64_t number, uint8_t flags, std::string_view payload) -> result<void> {
        std::vector<operation> ops;
        if (!decode_operations(payload, ops))
          return failure{store_errc::corrupt,
                         "journal record " + std::to_string(number) + " does not decode"};
        std::string error;
        txn_guard nested;
        int rc = begin_nested(d, nested, error);
        results.assign(ops.size(), op_result{});
        // Room was checked when the record was written: it goes in as it went then.
        if (rc == 0)
          rc = run_operations(d, nested.get(), ops, 0, ops.size(),
                              (flags & record_puts_fail_full) != 0, false, results, d.last_body_id,
                              error);
        if (rc == 0 && (rc = nested.commit()) != 0)
          error = lmdb_text("mdb_txn_commit(nested)", rc);
        if (rc != 0)
          return failure{read_code(rc),
                         "journal record " + std::to_string(number) + ": " + error +
                             (rc == MDB_MAP_FULL ? "; raise store.max_size_mb" : "")};
        d.next_record = number + 1;
        return {};
      },
      limit);
  if (!replayed && d.open_txn != nullptr) {
    mdb_txn_abort(d.open_txn);
    d.open_txn = nullptr;
  }
  return replayed;
}

int commit_open(store::impl& d, std::string& error) {
  uint64_t last = d.next_record - 1;
  int rc = write_applied(d, last, error);
  MDB_txn* txn = d.open_txn;
  d.open_txn = nullptr;
  if (rc != 0) {
    mdb_txn_abort(txn);
    mark_broken(d, "checkpoint: " + error);
    return rc;
  }
  auto start = std::chrono::steady_clock::now();
  if ((rc = mdb_txn_commit(txn)) != 0) {
    error = "checkpoint: " + lmdb_text("mdb_txn_commit", rc);
    return rc;
  }
  auto elapsed = std::chrono::steady_clock::now() - start;
  d.journal->restart();
  d.pages_since_checkpoint = 0;
  {
    std::lock_guard<std::mutex> lock(d.checkpoint_mutex);
    d.checkpointed_record.store(last, std::memory_order_release);
  }
  d.checkpointed.notify_all();
  std::lock_guard<std::mutex> lock(d.stats_mutex);
  ++d.counters.checkpoints;
  d.counters.last_checkpoint_ms = std::chrono::duration<double, std::milli>(elapsed).count();
  return 0;
}

// After a failed commit of the open transaction (it is gone): applies the journal's batches
// again and commits them. A record whose write failed (its number spent, not in the
// transaction) is left out. 0, or the code of the failure; then the store is broken.
int recommit(store::impl& d, int rc, std::string& error) {
  uint64_t next = d.next_record;
  uint64_t written = d.written_record.load();
  auto again = apply_journal(d, d.checkpointed_record.load(), written);
  d.next_record = next;
  if (!again || *again != written) {
    error +=
        "; applying the journal again " +
        (again ? "did not reach record " + std::to_string(written) : "failed: " + again.message());
    if (d.open_txn != nullptr)
      mdb_txn_abort(d.open_txn);
    d.open_txn = nullptr;
    mark_broken(d, error);
    return rc;
  }
  std::string retry_error;
  if (d.open_txn != nullptr && (rc = commit_open(d, retry_error)) != 0) {
    error += "; again: " + retry_error;
    mark_broken(d, error);
    return rc;
  }
  return 0;
}

} // namespace

int begin_nested(store::impl& d, txn_guard& txn, std::string& error) {
  if (d.failed) {
    error = d.broken;
    return EIO;
  }
  if (d.open_txn == nullptr) {
    txn_guard outer;
    int rc = begin_write(d.env, outer);
    if (rc != 0) {
      error = lmdb_text("mdb_txn_begin", rc);
      return rc;
    }
    d.open_txn = outer.release();
  }
  int rc = mdb_txn_begin(d.env, d.open_txn, 0, txn.out());
  if (rc != 0)
    error = lmdb_text("mdb_txn_begin(nested)", rc);
  return rc;
}

int commit_journaled(store::impl& d, const std::vector<operation>& batch, size_t first, size_t last,
                     bool puts_fail_full, txn_guard& nested, std::string& error) {
  std::string payload = encode_operations(batch, first, last);
  int rc = 0;
  d.pages_since_checkpoint += pages_touched(batch, first, last, d.page_size);
  // Half the pages kept for deletes, and at least a few batches' worth.
  uint64_t page_bound = std::max<uint64_t>(d.reserve_pages / 2, 64);
  if (!d.journal->fits(payload.size()) || d.pages_since_checkpoint > page_bound) {
    // No room behind the last record, or the open transaction may have copied enough pages:
    // a checkpoint makes this part durable instead.
    if ((rc = nested.commit()) != 0) {
      error = lmdb_text("mdb_txn_commit(nested)", rc);
      return rc;
    }
    if ((rc = commit_open(d, error)) != 0 && !d.failed) {
      // This part is lost with the failed commit (it has no record); the journal's are not.
      std::string lost = error;
      (void)recommit(d, rc, lost);
    }
    return rc;
  }
  uint64_t number = d.next_record;
  auto written = d.journal->append(number, puts_fail_full ? record_puts_fail_full : 0, payload);
  if (written && !may_answer_unflushed(batch, first, last))
    written = d.journal->flush();
  if (!written) {
    // The record may have reached the disk: its number is spent, and the checkpoint records
    // that every record up to it is in the store, so that no replay applies it.
    nested.abort();
    ++d.next_record;
    error = written.message();
    std::string failed_checkpoint;
    if (checkpoint(d, failed_checkpoint) != 0)
      error += "; " + failed_checkpoint;
    return EIO;
  }
  if ((rc = nested.commit()) != 0) {
    // Journaled but not in the open transaction: only a replay brings the two together.
    ++d.next_record;
    error = lmdb_text("mdb_txn_commit(nested)", rc);
    mark_broken(d, error);
    return rc;
  }
  d.written_record.store(number, std::memory_order_release);
  ++d.next_record;
  std::lock_guard<std::mutex> lock(d.stats_mutex);
  ++d.counters.journal_records;
  return 0;
}

int checkpoint(store::impl& d, std::string& error) {
  if (d.open_txn == nullptr)
    return 0;
  int rc = commit_open(d, error);
  if (rc == 0 || d.failed)
    return rc;
  // The batches the failed commit took with it are in the journal (flushed, or in the page
  // cache): they go in again. `error` keeps the failure.
  return recommit(d, rc, error);
}

result<void> see_batches(const store::impl& d) {
  uint64_t target = d.written_record.load(std::memory_order_acquire);
  if (target <= d.checkpointed_record.load(std::memory_order_acquire))
    return {};
  std::function<void()> request;
  {
    std::lock_guard<std::mutex> lock(d.checkpoint_mutex);
    request = d.requester;
  }
  if (!request)
    return failure{store_errc::io_error,
                   "the store's newest batches wait for a checkpoint and nothing runs one"};
  request(); // may checkpoint at once, on this thread
  std::unique_lock<std::mutex> lock(d.checkpoint_mutex);
  bool done = d.checkpointed.wait_for(lock, reader_wait, [&] {
    return d.checkpointed_record.load(std::memory_order_acquire) >= target || d.failed;
  });
  if (!done || d.checkpointed_record.load(std::memory_order_acquire) < target)
    return failure{store_errc::io_error,
                   done ? "a checkpoint failed" : "no checkpoint came within 10 s"};
  return {};
}

result<void> open_journal(store::impl& d, const store_options& options, bool keep) {
  uint64_t applied = 0;
  int rc = read_applied(d, applied);
  if (rc != 0)
    return lmdb_failure("journal_applied", rc);
  auto path = options.directory / "journal";
  auto opened = journal::open(path, d.info.store_id, options.journal_bytes, d.info.created);
  if (!opened)
    return opened.error();
  d.journal = std::move(*opened);
  d.next_record = applied + 1;
  d.written_record = applied;
  d.checkpointed_record = applied;
  auto replayed = apply_journal(d, applied);
  if (!replayed)
    return replayed.error();
  d.info.replayed_records = *replayed - applied;
  std::string error;
  if (checkpoint(d, error) != 0)
    return failure{store_errc::io_error, error};
  if (!keep) {
    d.journal.reset();
    std::error_code ec;
    std::filesystem::remove(path, ec);
  }
  return {};
}

} // namespace actormq::storage::detail

namespace actormq::storage {

result<std::string> store::checkpoint() {
  std::string error;
  if (detail::checkpoint(*impl_, error) != 0)
    return failure{store_errc::io_error, error};
  return error;
}

bool store::checkpoint_due() const {
  return impl_->open_txn != nullptr;
}

void store::set_checkpoint_requester(std::function<void()> requester) {
  std::lock_guard<std::mutex> lock(impl_->checkpoint_mutex);
  impl_->requester = std::move(requester);
}

} // namespace actormq::storage
