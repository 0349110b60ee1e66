// A replicated store's side of the replication stream (store.hpp, replication.hpp): its position
// in the log, applying a shipped batch on a replica, and shipping the master's commits.
#include "storage/batch.hpp"
#include "storage/encoding.hpp"
#include "storage/journal_commit.hpp"
#include "storage/journal_records.hpp"
#include "storage/lmdb_support.hpp"
#include "storage/replicated_commit.hpp"
#include "storage/store.hpp"
#include "storage/store_impl.hpp"

#include <lmdb.h>

#include <algorithm>
#include <mutex>

namespace actormq::storage {
namespace detail {
namespace {

std::string encode_position(const replication_position& p) {
  std::string out;
  append_le(out, p.epoch, 8);
  append_le(out, p.sequence, 8);
  return out;
}

int write_position(const store::impl& d, MDB_txn* txn, const replication_position& p,
                   std::string& error) {
  std::string value = encode_position(p);
  MDB_val k = as_val(meta_replication_position_key);
  MDB_val v = as_val(value);
  int rc = mdb_put(txn, d.meta, &k, &v, 0);
  if (rc != 0)
    error = lmdb_text("mdb_put(meta replication_position)", rc);
  return rc;
}

result<void> load_position(store::impl& d) {
  if (d.position_loaded)
    return {};
  // With the journal, the open transaction may hold a newer position than the file.
  MDB_txn* txn = d.open_txn;
  txn_guard read;
  if (txn == nullptr) {
    int rc = begin_read(d.env, read);
    if (rc != 0)
      return lmdb_failure("mdb_txn_begin", rc);
    txn = read.get();
  }
  MDB_val k = as_val(meta_replication_position_key);
  MDB_val v;
  int rc = mdb_get(txn, d.meta, &k, &v);
  if (rc == MDB_NOTFOUND) {
    d.position = {};
  } else if (rc != 0) {
    return lmdb_failure("mdb_get(meta replication_position)", rc);
  } else {
    auto value = as_view(v);
    if (value.size() != 16)
      return failure{store_errc::corrupt, "the replication position does not decode"};
    d.position = {read_le(value, 0, 8), read_le(value, 8, 8)};
  }
  d.position_loaded = true;
  return {};
}

} // namespace

int record_shipped(store::impl& d, MDB_txn* txn, replication_position& at, std::string& error) {
  at = {d.shipping_epoch, d.position.sequence + 1};
  return write_position(d, txn, at, error);
}

void ship_committed(store::impl& d, const std::vector<operation>& batch, size_t first, size_t last,
                    bool puts_fail_full, replication_position at) {
  replication_position previous = d.position;
  d.position = at;
  if (d.ship)
    d.ship(make_replicated_batch(batch, first, last, puts_fail_full, previous, at.epoch));
}

} // namespace detail

result<replication_position> store::log_position() {
  auto loaded = detail::load_position(*impl_);
  if (!loaded)
    return loaded.error();
  return impl_->position;
}

void store::fence(uint64_t epoch) {
  impl_->fence_epoch = std::max(impl_->fence_epoch, epoch);
}

result<void> store::apply_replicated(const replicated_batch& batch) {
  using namespace detail;
  auto& d = *impl_;
  auto loaded = load_position(d);
  if (!loaded)
    return loaded;
  if (batch.epoch < d.fence_epoch || batch.epoch < d.position.epoch)
    return failure{store_errc::stale_epoch,
                   "replicated batch " + std::to_string(batch.sequence) + " of epoch " +
                       std::to_string(batch.epoch) + ": this replica follows epoch " +
                       std::to_string(std::max(d.fence_epoch, d.position.epoch))};
  if (batch.sequence == 0 || batch.previous() != d.position)
    return failure{
        store_errc::out_of_order,
        "replicated batch " + std::to_string(batch.sequence) + " (epoch " +
            std::to_string(batch.epoch) + ") follows batch " + std::to_string(batch.sequence - 1) +
            " of epoch " + std::to_string(batch.previous_epoch) + ", this replica holds batch " +
            std::to_string(d.position.sequence) + " of epoch " + std::to_string(d.position.epoch)};
  auto ops = decode_replicated_operations(batch);
  if (!ops)
    return ops.error();
  std::string error;
  if (d.journal && detail::checkpoint(d, error) != 0)
    return failure{store_errc::io_error, error};
  txn_guard txn;
  int rc = begin_write(d.env, txn);
  if (rc != 0)
    return lmdb_failure("mdb_txn_begin", rc);
  std::vector<op_result> results(ops->size());
  uint64_t last_body_id = d.last_body_id;
  // Room was checked on the master: the batch goes in as it went there.
  rc =
      run_operations(d, txn.get(), *ops, 0, ops->size(), (batch.flags & record_puts_fail_full) != 0,
                     false, results, last_body_id, error);
  if (rc == 0)
    rc = write_position(d, txn.get(), batch.position(), error);
  if (rc == 0 && (rc = txn.commit()) != 0)
    error = lmdb_text("mdb_txn_commit", rc);
  if (rc != 0)
    return failure{read_code(rc), "replicated batch " + std::to_string(batch.sequence) + ": " +
                                      error +
                                      (rc == MDB_MAP_FULL ? "; raise store.max_size_mb" : "")};
  d.last_body_id = last_body_id;
  d.position = batch.position();
  std::lock_guard<std::mutex> lock(d.stats_mutex);
  ++d.counters.commits;
  d.counters.operations += ops->size();
  return {};
}

result<void> store::start_shipping(uint64_t epoch,
                                   std::function<void(const replicated_batch&)> ship) {
  auto& d = *impl_;
  if (d.journal)
    return failure{store_errc::io_error, "a replicated master does not run with store.journal yet"};
  auto loaded = detail::load_position(d);
  if (!loaded)
    return loaded;
  if (epoch == 0 || epoch < d.fence_epoch || epoch < d.position.epoch)
    return failure{store_errc::stale_epoch,
                   "epoch " + std::to_string(epoch) + " is below the store's epoch " +
                       std::to_string(std::max(d.fence_epoch, d.position.epoch))};
  d.fence_epoch = epoch;
  d.shipping_epoch = epoch;
  d.ship = std::move(ship);
  return {};
}

void store::stop_shipping() {
  impl_->shipping_epoch = 0;
  impl_->ship = nullptr;
}

} // namespace actormq::storage
