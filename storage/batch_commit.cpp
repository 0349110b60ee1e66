// apply(): a batch of operations in one write transaction and one synced commit (group
// commit), or one journal record (journal_commit.hpp), the destination records it changes, and
// the retries that keep room for deletes (space.hpp). The operations' handlers are in the files
// batch.hpp names.
#include "storage/batch.hpp"
#include "storage/encoding.hpp"
#include "storage/journal_commit.hpp"
#include "storage/lmdb_support.hpp"
#include "storage/replicated_commit.hpp"
#include "storage/space.hpp"
#include "storage/store.hpp"
#include "storage/store_impl.hpp"

#include <lmdb.h>

#include <algorithm>
#include <chrono>
#include <mutex>

namespace actormq::storage {
namespace detail {

int load_destination(const environment& e, batch_state& b, uint32_t id, pending_destination*& out) {
  auto it = b.destinations.find(id);
  if (it != b.destinations.end()) {
    out = &it->second;
    return 0;
  }
  std::string key = destination_key(id);
  MDB_val k = as_val(key);
  MDB_val v;
  int rc = mdb_get(b.txn, e.destinations, &k, &v);
  if (rc != 0) {
    if (rc != MDB_NOTFOUND)
      b.error = lmdb_text("mdb_get(destinations)", rc);
    return rc;
  }
  pending_destination p;
  if (!decode_destination(id, as_view(v), p.record)) {
    b.error = "destination " + std::to_string(id) + ": record does not decode";
    return MDB_CORRUPTED;
  }
  out = &b.destinations.emplace(id, std::move(p)).first->second;
  return 0;
}

int raise_u64_record(batch_state& b, MDB_dbi db, const char* db_name, const std::string& key,
                     const std::string& what, uint64_t value) {
  MDB_val k = as_val(key);
  MDB_val v;
  uint64_t last = 0;
  int rc = mdb_get(b.txn, db, &k, &v);
  if (rc == 0) {
    if (!decode_u64(as_view(v), last)) {
      b.error = what + " does not decode";
      return MDB_CORRUPTED;
    }
    if (value <= last)
      return 0;
  } else if (rc != MDB_NOTFOUND) {
    b.error = lmdb_text((std::string("mdb_get(") + db_name + ")").c_str(), rc);
    return rc;
  }
  std::string encoded = encode_u64(value);
  v = as_val(encoded);
  if ((rc = mdb_put(b.txn, db, &k, &v, 0)) != 0)
    b.error = lmdb_text((std::string("mdb_put(") + db_name + ")").c_str(), rc);
  return rc;
}

} // namespace detail

namespace {

using namespace detail;

int write_destinations(const environment& e, batch_state& b) {
  for (auto& [id, p] : b.destinations) {
    if (!p.dirty)
      continue;
    std::string key = destination_key(id);
    std::string value = encode_destination(p.record);
    MDB_val k = as_val(key);
    MDB_val v = as_val(value);
    int rc = mdb_put(b.txn, e.destinations, &k, &v, 0);
    if (rc != 0) {
      b.error = lmdb_text("mdb_put(destinations)", rc);
      return rc;
    }
  }
  return 0;
}

// The highest body id given, so that ids are never reused after a restart.
int write_last_body_id(const environment& e, batch_state& b) {
  if (!b.new_bodies)
    return 0;
  std::string value = encode_u64(b.last_body_id);
  MDB_val k = as_val(meta_last_body_key);
  MDB_val v = as_val(value);
  int rc = mdb_put(b.txn, e.meta, &k, &v, 0);
  if (rc != 0)
    b.error = lmdb_text("mdb_put(meta)", rc);
  return rc;
}

} // namespace

int detail::run_operations(const environment& e, MDB_txn* txn, std::vector<operation>& batch,
                           size_t first, size_t last, bool puts_fail_full, bool check_room,
                           std::vector<op_result>& results, uint64_t& last_body_id,
                           std::string& error) {
  batch_state b;
  b.txn = txn;
  b.puts_fail_full = puts_fail_full;
  b.last_body_id = last_body_id;
  int rc = 0;
  for (size_t i = first; i < last; ++i) {
    rc = std::visit([&](auto& op) { return run(e, b, op, results[i]); }, batch[i]);
    if (rc != 0) {
      error = b.error.empty() ? lmdb_text("apply", rc) : b.error;
      return rc;
    }
  }
  if (b.index_cursor != nullptr) {
    mdb_cursor_close(b.index_cursor);
    b.index_cursor = nullptr;
  }
  if ((rc = write_destinations(e, b)) != 0 || (rc = write_last_body_id(e, b)) != 0) {
    error = b.error;
    return rc;
  }
  if (check_room && b.stored && (rc = check_high_water(e, b, error)) != 0)
    return rc;
  last_body_id = b.last_body_id;
  return 0;
}

namespace {

// Operations [first, last) of the batch in one write transaction (nested in the open one with
// the journal); their results go to the same places in `results`. 0, above_high_water, or the
// code that failed it. A commit is counted (under the stats mutex) and makes its body ids
// d.last_body_id.
int run_batch(store::impl& d, std::vector<operation>& batch, size_t first, size_t last,
              bool puts_fail_full, std::vector<op_result>& results, std::string& error) {
  std::fill(results.begin() + first, results.begin() + last, op_result{});
  txn_guard txn;
  int rc = d.journal ? begin_nested(d, txn, error) : begin_write(d.env, txn);
  if (rc != 0) {
    if (error.empty())
      error = lmdb_text("mdb_txn_begin", rc);
    return rc;
  }
  uint64_t last_body_id = d.last_body_id;
  rc = run_operations(d, txn.get(), batch, first, last, puts_fail_full, true, results, last_body_id,
                      error);
  if (rc != 0)
    return rc;
  // A shipping master records the part's replication position in its transaction.
  replication_position shipped_at;
  if (d.shipping_epoch != 0 && (rc = record_shipped(d, txn.get(), shipped_at, error)) != 0)
    return rc;
  auto start = std::chrono::steady_clock::now();
  if (d.journal) {
    rc = commit_journaled(d, batch, first, last, puts_fail_full, txn, error);
  } else if ((rc = txn.commit()) != 0) {
    error = lmdb_text("mdb_txn_commit", rc);
  }
  auto elapsed = std::chrono::steady_clock::now() - start;
  if (rc != 0)
    return rc;
  d.last_body_id = last_body_id;
  if (d.shipping_epoch != 0)
    ship_committed(d, batch, first, last, puts_fail_full, shipped_at);
  std::lock_guard<std::mutex> lock(d.stats_mutex);
  auto& s = d.counters;
  ++s.commits;
  s.operations += last - first;
  s.last_batch_size = last - first;
  s.max_batch_size = std::max<uint64_t>(s.max_batch_size, last - first);
  s.mean_batch_size = static_cast<double>(s.operations) / static_cast<double>(s.commits);
  s.last_commit_ms = std::chrono::duration<double, std::milli>(elapsed).count();
  return 0;
}

// A commit that changes one small record, so that pages freed by the last commit become
// usable by the next one. 0 or the LMDB code that failed it.
int advance_transaction(const environment& e) {
  txn_guard txn;
  int rc = begin_write(e.env, txn);
  if (rc != 0)
    return rc;
  MDB_val k = as_val(meta_touch_key);
  MDB_val v;
  uint64_t touches = 0;
  rc = mdb_get(txn.get(), e.meta, &k, &v);
  if (rc == 0 && !decode_u64(as_view(v), touches))
    return MDB_CORRUPTED;
  if (rc != 0 && rc != MDB_NOTFOUND)
    return rc;
  std::string value = encode_u64(touches + 1);
  v = as_val(value);
  if ((rc = mdb_put(txn.get(), e.meta, &k, &v, 0)) != 0)
    return rc;
  return txn.commit();
}

} // namespace

std::vector<op_result> store::apply(std::vector<operation>& batch) {
  auto& d = *impl_;
  std::vector<op_result> results;
  if (batch.empty())
    return results;
  results.assign(batch.size(), op_result{});
  std::string error; // the last failure's text, kept for people
  batch_steps steps;
  steps.run = [&](size_t first, size_t last, bool puts_fail_full) {
    return run_batch(d, batch, first, last, puts_fail_full, results, error);
  };
  // With the journal, pages freed since the last checkpoint are freed by its commit.
  steps.advance = [&] {
    int rc = d.journal ? detail::checkpoint(d, error) : 0;
    return rc != 0 ? rc : advance_transaction(d);
  };
  steps.has_put = [&](size_t first, size_t last) {
    return std::any_of(batch.begin() + first, batch.begin() + last, [](const operation& op) {
      auto* relocate = std::get_if<relocate_op>(&op);
      return std::holds_alternative<put_op>(op) || std::holds_alternative<shared_put_op>(op) ||
             (relocate && !relocate->payload.empty());
    });
  };
  steps.fail = [&](size_t first, size_t last, int rc) {
    std::error_code code = rc == MDB_MAP_FULL ? make_error_code(store_errc::store_full)
                                              : make_error_code(store_errc::io_error);
    for (size_t i = first; i < last; ++i)
      results[i] = op_result{code};
  };
  commit_with_room(steps, 0, batch.size());
  if (!error.empty()) {
    std::lock_guard<std::mutex> lock(d.stats_mutex);
    d.last_error = error;
  }
  return results;
}

} // namespace actormq::storage
