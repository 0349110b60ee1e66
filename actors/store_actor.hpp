// The store actor: the one writer of the LMDB store. Spawned detached (its own thread), so the
// synced commit never blocks a scheduler worker. Group commit: every write request that reaches
// the mailbox before the flush is committed in one transaction, and each request is answered
// after that commit, with one result per operation. With the store's journal, a checkpoint
// follows the first commit after the last one within the checkpoint interval, and at once when a
// reader on another thread asks for one. When the store is full, sends wait for room in order,
// or fail, as configured (store_flow_control.cpp, docs/operations.md "Store full").
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
#include <deque>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(std::vector<actormq::storage::operation>)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(std::vector<actormq::storage::op_result>)

namespace actormq::actors {

using op_list = std::vector<storage::operation>;
using op_result_list = std::vector<storage::op_result>;

// A writer that wants to know when its sends wait for room in a full store: told
// (store_full_atom, true) when the first of them starts waiting and (store_full_atom, false)
// when none waits any more.
using store_full_listener = caf::typed_actor<caf::reacts_to<store_full_atom, bool>>;

using store_actor = caf::typed_actor<
    // Runs the operations in the next group commit; answers one result per operation. Puts
    // (put_op, shared_put_op) that find the store full wait for room, as configured
    // (store_flow_settings), and the answer with them.
    caf::replies_to<write_atom, op_list>::with<op_result_list>,
    // The same, telling the listener when its puts wait for room and when they go on.
    caf::replies_to<write_atom, op_list, store_full_listener>::with<op_result_list>,
    // A waiting put's timeout may have passed (sent to itself).
    caf::reacts_to<held_atom>,
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

// What a put does when the store is full (limits.send_fail_if_no_space and
// limits.send_fail_if_no_space_after_timeout_ms; a forwarded message always waits).
struct store_flow_settings {
  bool send_fail_if_no_space = config::default_send_fail_if_no_space;
  std::chrono::milliseconds fail_after{config::default_send_fail_if_no_space_after_timeout_ms};
  uint64_t max_size_mb = config::default_store_max_size_mb; // named in the log
};

struct store_state {
  static inline const char* name = "store";

  // One write's answer, filled in as its operations are done (some may wait for room).
  struct write_answer {
    caf::typed_response_promise<op_result_list> promise;
    op_result_list results;
    size_t unresolved = 0;
    store_full_listener listener;
  };
  // Where one operation's result goes.
  struct result_slot {
    std::shared_ptr<write_answer> answer;
    size_t index = 0;
  };
  // A put waiting for room, in the order the puts came.
  struct held_put {
    storage::operation op;
    result_slot slot;
    std::chrono::steady_clock::time_point deadline; // max(): waits as long as it takes
  };

  std::shared_ptr<storage::backend> db;
  size_t max_batch = config::default_store_max_batch;
  std::chrono::milliseconds reader_check_interval{config::default_store_reader_check_interval_ms};
  op_list batch;
  std::vector<result_slot> slots; // one per operation of the batch
  bool flush_scheduled = false;
  std::chrono::milliseconds checkpoint_interval{config::default_store_checkpoint_interval_ms};
  bool checkpoint_scheduled = false;
  uint64_t failed_commits = 0;
  uint64_t stale_readers_cleared = 0;
  // Flow control (store_flow_control.cpp).
  store_flow_settings flow;
  std::deque<held_put> held;
  std::chrono::steady_clock::time_point held_since;
  std::unordered_map<caf::actor_id, size_t> held_of_listener; // waiting puts per listener
  bool held_timer = false;                                    // a held_atom is on its way
  uint64_t held_timed_out = 0;
};

using store_self = store_actor::stateful_pointer<store_state>;

// Parts of the store actor in files of their own (store_flow_control.cpp).
// Sets an operation's result; the write is answered with its last.
void resolve(store_self self, store_state::result_slot& slot, storage::op_result r);
// A put that found the store full (or came behind one that did) waits for room, or fails.
bool holdable(const storage::operation& op);
void hold_or_fail(store_self self, storage::operation op, store_state::result_slot slot);
// While puts wait, the batch's puts join them instead of passing them.
void withhold_puts(store_self self);
// Commits what waits, oldest first, as far as the room allows (after a commit that freed
// pages, and at the periodic reader check).
void retry_held(store_self self);
// Fails the puts whose timeout passed (held_atom), or every waiting put (the node stops).
void expire_held(store_self self);
void fail_held(store_self self);
// Whether an operation can free pages (a delete of some kind).
bool frees_pages(const storage::operation& op);
// Schedules the checkpoint a commit may have made due.
void schedule_checkpoint(store_self self);

store_actor::behavior_type store_behavior(store_self self, std::shared_ptr<storage::backend> db,
                                          size_t max_batch,
                                          std::chrono::milliseconds reader_check_interval,
                                          std::chrono::milliseconds checkpoint_interval,
                                          store_flow_settings flow);

} // namespace actormq::actors
