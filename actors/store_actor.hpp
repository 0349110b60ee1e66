// The store actor: the one writer of the LMDB store. Spawned detached (its own thread), so the
// synced commit never blocks a scheduler worker. Group commit: every write request that reaches
// the mailbox before the flush is committed in one transaction, and each request is answered
// after that commit, with one result per operation. With the store's journal, a checkpoint
// follows the first commit after the last one within the checkpoint interval, and at once when a
// reader on another thread asks for one.
#pragma once

#include "actors/atoms.hpp"
#include "actors/snapshot.hpp"
#include "config/defaults.hpp"
#include "storage/backend.hpp"

#include <caf/allowed_unsafe_message_type.hpp>
#include <caf/typed_actor.hpp>
#include <caf/typed_event_based_actor.hpp>
#include <caf/typed_response_promise.hpp>

#include <chrono>
#include <memory>
#include <vector>

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(std::vector<actormq::storage::operation>)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(std::vector<actormq::storage::op_result>)

namespace actormq::actors {

using op_list = std::vector<storage::operation>;
using op_result_list = std::vector<storage::op_result>;

using store_actor = caf::typed_actor<
    // Runs the operations in the next group commit; answers one result per operation.
    caf::replies_to<write_atom, op_list>::with<op_result_list>,
    // Commits what has gathered (sent to itself: it queues behind the waiting writes).
    caf::reacts_to<flush_atom>,
    // Commits what has gathered and quits (the node's stop: it queues behind every write).
    caf::reacts_to<stop_atom>,
    // Periodic mdb_reader_check (sent to itself).
    caf::reacts_to<tick_atom>,
    // Commits the journal's batches to the store (sent to itself, and by readers).
    caf::reacts_to<checkpoint_atom>,
    // The shared snapshot request.
    caf::replies_to<snapshot_atom>::with<store_snapshot>>;

struct store_state {
  static inline const char* name = "store";

  struct waiter {
    caf::typed_response_promise<op_result_list> promise;
    size_t first = 0;
    size_t count = 0;
  };

  std::shared_ptr<storage::backend> db;
  size_t max_batch = config::default_store_max_batch;
  std::chrono::milliseconds reader_check_interval{config::default_store_reader_check_interval_ms};
  op_list batch;
  std::vector<waiter> waiters;
  bool flush_scheduled = false;
  std::chrono::milliseconds checkpoint_interval{config::default_store_checkpoint_interval_ms};
  bool checkpoint_scheduled = false;
  uint64_t failed_commits = 0;
  uint64_t stale_readers_cleared = 0;
};

store_actor::behavior_type store_behavior(store_actor::stateful_pointer<store_state> self,
                                          std::shared_ptr<storage::backend> db, size_t max_batch,
                                          std::chrono::milliseconds reader_check_interval,
                                          std::chrono::milliseconds checkpoint_interval);

} // namespace actormq::actors
