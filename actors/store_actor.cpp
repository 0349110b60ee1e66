#include "actors/store_actor.hpp"
#include "actors/errors.hpp"

#include "actors/snapshot.hpp"

#include <caf/actor_cast.hpp>
#include <caf/send.hpp>
#include <spdlog/spdlog.h>

namespace actormq::actors {

namespace {

void commit(store_self self) {
  auto& st = self->state;
  st.flush_scheduled = false;
  if (!st.held.empty())
    withhold_puts(self);
  if (st.batch.empty())
    return;
  auto results = st.db->apply(st.batch);
  bool failed = false;
  bool freed = false;
  for (size_t i = 0; i < st.batch.size(); ++i) {
    auto& r = results[i];
    failed = failed || (r.error && r.error != storage::store_errc::not_found &&
                        r.error != storage::store_errc::store_full);
    freed = freed || (!r.error && frees_pages(st.batch[i]));
    if (r.error == storage::store_errc::store_full && holdable(st.batch[i]))
      hold_or_fail(self, std::move(st.batch[i]), std::move(st.slots[i]));
    else
      resolve(self, st.slots[i], std::move(r));
  }
  if (failed) {
    ++st.failed_commits;
    spdlog::error("store failed a commit of {} operations", st.batch.size());
  }
  st.batch.clear();
  st.slots.clear();
  schedule_checkpoint(self);
  if (freed && !st.held.empty())
    retry_held(self);
}

void checkpoint(store_self self) {
  auto done = self->state.db->checkpoint();
  if (!done) {
    ++self->state.failed_commits;
    spdlog::error("store failed a checkpoint: {}", done.message());
  } else if (!done->empty()) {
    spdlog::warn("store: a checkpoint failed and its batches were committed again from the "
                 "journal ({})",
                 *done);
  }
}

// Queues the operations for the next group commit, each with the place of its result.
caf::typed_response_promise<op_result_list> enqueue_write(store_self self, op_list& ops,
                                                          store_full_listener listener) {
  auto& st = self->state;
  auto promise = self->make_response_promise<op_result_list>();
  if (ops.empty()) {
    promise.deliver(op_result_list{});
    return promise;
  }
  auto answer = std::make_shared<store_state::write_answer>();
  answer->promise = promise;
  answer->results.resize(ops.size());
  answer->unresolved = ops.size();
  answer->listener = std::move(listener);
  for (size_t i = 0; i < ops.size(); ++i) {
    st.batch.push_back(std::move(ops[i]));
    st.slots.push_back({answer, i});
  }
  if (st.batch.size() >= st.max_batch) {
    commit(self);
  } else if (!st.flush_scheduled) {
    st.flush_scheduled = true;
    self->send(self, flush_atom::value);
  }
  return promise;
}

} // namespace

void schedule_checkpoint(store_self self) {
  auto& st = self->state;
  if (!st.checkpoint_scheduled && st.db->checkpoint_due()) {
    st.checkpoint_scheduled = true;
    self->delayed_send(self, st.checkpoint_interval, checkpoint_atom::value);
  }
}

store_actor::behavior_type store_behavior(store_self self, std::shared_ptr<storage::backend> db,
                                          size_t max_batch,
                                          std::chrono::milliseconds reader_check_interval,
                                          std::chrono::milliseconds checkpoint_interval,
                                          store_flow_settings flow) {
  self->state.db = std::move(db);
  self->state.flow = flow;
  self->state.checkpoint_interval = checkpoint_interval;
  // Readers on other threads ask for a checkpoint when they must see the newest batches.
  self->state.db->set_checkpoint_requester([weak = caf::actor_cast<caf::weak_actor_ptr>(self)] {
    if (auto strong = caf::actor_cast<caf::actor>(weak))
      caf::anon_send(strong, checkpoint_atom::value);
  });
  // Whatever ends this actor, what it committed reaches the store file from its own thread
  // (the journal's open transaction belongs to it).
  self->attach_functor([db = self->state.db] {
    db->set_checkpoint_requester(nullptr);
    (void)db->checkpoint();
  });
  self->state.max_batch = std::max<size_t>(1, max_batch);
  self->state.reader_check_interval = reader_check_interval;
  if (reader_check_interval.count() > 0)
    self->delayed_send(self, reader_check_interval, tick_atom::value);
  // An unexpected message is logged and dropped, never answered.
  self->set_default_handler(drop_unexpected);
  return {
      [self](write_atom, op_list& ops) { return enqueue_write(self, ops, {}); },
      [self](write_atom, op_list& ops, store_full_listener& listener) {
        return enqueue_write(self, ops, std::move(listener));
      },
      [self](held_atom) { expire_held(self); },
      [self](flush_atom) { commit(self); },
      [self](checkpoint_atom) {
        self->state.checkpoint_scheduled = false;
        checkpoint(self);
      },
      [self](stop_atom) {
        commit(self);
        fail_held(self);
        checkpoint(self);
        self->quit();
      },
      [self](tick_atom) {
        auto cleared = self->state.db->clear_stale_readers();
        if (cleared > 0) {
          self->state.stale_readers_cleared += cleared;
          spdlog::warn("store cleared {} stale reader slots", cleared);
        }
        // Room that no commit of this node made (stale readers cleared, a file system with more
        // room) is found here.
        retry_held(self);
        self->delayed_send(self, self->state.reader_check_interval, tick_atom::value);
      },
      [self](snapshot_atom) {
        auto& st = self->state;
        auto s = st.db->stats();
        store_snapshot out;
        out.mailbox = self->mailbox().size(); // waiting messages, as this actor sees them
        out.store_id = st.db->info().store_id;
        out.map_size = s.map_size;
        out.used_bytes = s.used_bytes;
        out.commits = s.commits;
        out.operations = s.operations;
        out.last_batch = s.last_batch_size;
        out.max_batch = s.max_batch_size;
        out.mean_batch = s.mean_batch_size;
        out.last_commit_ms = s.last_commit_ms;
        out.readers = s.readers_in_use;
        out.open_readers = s.open_readers;
        out.last_txn = s.last_txn_id;
        if (s.oldest_reader_pid != 0) {
          out.oldest_reader_pid = static_cast<uint64_t>(s.oldest_reader_pid);
          out.oldest_reader_txn = s.oldest_reader_txn;
          out.oldest_reader_lag = s.oldest_reader_lag;
        }
        out.failed_commits = st.failed_commits;
        out.stale_readers_cleared = st.stale_readers_cleared;
        out.waiting_operations = static_cast<uint64_t>(st.batch.size());
        out.held_sends = st.held.size();
        if (!st.held.empty())
          out.held_for_ms =
              static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                        std::chrono::steady_clock::now() - st.held_since)
                                        .count());
        out.held_sends_timed_out = st.held_timed_out;
        return out;
      },
  };
}

} // namespace actormq::actors
