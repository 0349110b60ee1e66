#include "actors/store_actor.hpp"
#include "actors/errors.hpp"

#include "actors/snapshot.hpp"

#include <spdlog/spdlog.h>

namespace actormq::actors {

namespace {

void commit(store_actor::stateful_pointer<store_state> self) {
  auto& st = self->state;
  st.flush_scheduled = false;
  if (st.batch.empty())
    return;
  auto results = st.db->apply(st.batch);
  bool failed = false;
  for (auto& w : st.waiters) {
    op_result_list slice(results.begin() + w.first, results.begin() + w.first + w.count);
    for (auto& r : slice)
      failed = failed || (r.error && r.error != storage::store_errc::not_found &&
                          r.error != storage::store_errc::store_full);
    w.promise.deliver(std::move(slice));
  }
  if (failed) {
    ++st.failed_commits;
    spdlog::error("store failed a commit of {} operations", st.batch.size());
  }
  st.batch.clear();
  st.waiters.clear();
}

} // namespace

store_actor::behavior_type store_behavior(store_actor::stateful_pointer<store_state> self,
                                          std::shared_ptr<storage::backend> db, size_t max_batch,
                                          std::chrono::milliseconds reader_check_interval) {
  self->state.db = std::move(db);
  self->state.max_batch = std::max<size_t>(1, max_batch);
  self->state.reader_check_interval = reader_check_interval;
  if (reader_check_interval.count() > 0)
    self->delayed_send(self, reader_check_interval, tick_atom::value);
  // An unexpected message is logged and dropped, never answered.
  self->set_default_handler(drop_unexpected);
  return {
      [self](write_atom, op_list& ops) -> caf::typed_response_promise<op_result_list> {
        auto& st = self->state;
        auto promise = self->make_response_promise<op_result_list>();
        st.waiters.push_back({promise, st.batch.size(), ops.size()});
        for (auto& op : ops)
          st.batch.push_back(std::move(op));
        if (st.batch.size() >= st.max_batch) {
          commit(self);
        } else if (!st.flush_scheduled) {
          st.flush_scheduled = true;
          self->send(self, flush_atom::value);
        }
        return promise;
      },
      [self](flush_atom) { commit(self); },
      [self](stop_atom) {
        commit(self);
        self->quit();
      },
      [self](tick_atom) {
        auto cleared = self->state.db->clear_stale_readers();
        if (cleared > 0) {
          self->state.stale_readers_cleared += cleared;
          spdlog::warn("store cleared {} stale reader slots", cleared);
        }
        self->delayed_send(self, self->state.reader_check_interval, tick_atom::value);
      },
      [self](snapshot_atom) {
        auto& st = self->state;
        auto s = st.db->stats();
        caf::settings out;
        caf::put(out, "kind", "store");
        put_count(out, "mailbox",
                  self->mailbox().size()); // waiting messages, as this actor sees them
        caf::put(out, "store-id", st.db->info().store_id);
        put_count(out, "map-size", s.map_size);
        put_count(out, "used-bytes", s.used_bytes);
        put_count(out, "commits", s.commits);
        put_count(out, "operations", s.operations);
        put_count(out, "last-batch", s.last_batch_size);
        put_count(out, "max-batch", s.max_batch_size);
        caf::put(out, "mean-batch", s.mean_batch_size);
        caf::put(out, "last-commit-ms", s.last_commit_ms);
        put_count(out, "readers", s.readers_in_use);
        put_count(out, "open-readers", s.open_readers);
        put_count(out, "last-txn", s.last_txn_id);
        if (s.oldest_reader_pid != 0) {
          put_count(out, "oldest-reader-pid", static_cast<uint64_t>(s.oldest_reader_pid));
          put_count(out, "oldest-reader-txn", s.oldest_reader_txn);
          put_count(out, "oldest-reader-lag", s.oldest_reader_lag);
        }
        put_count(out, "failed-commits", st.failed_commits);
        put_count(out, "stale-readers-cleared", st.stale_readers_cleared);
        put_count(out, "waiting-operations", static_cast<uint64_t>(st.batch.size()));
        return out;
      },
  };
}

} // namespace actormq::actors
