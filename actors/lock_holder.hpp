// The lock holder: takes the master lock of the data folder. Spawned detached: its blocking
// flock runs on a thread of its own, never on a scheduler worker; the kernel wakes it the
// instant the holder dies. The lock itself goes into `slot`, which outlives the actor system,
// so the descriptor closes only when the process exits. Once the lock is ours the actor stays
// on (idle) to say what it holds; the node ends it when it stops.
//
// Messages it sends to the node (lock_owner_actor):
//   (waiting_atom, holder name, holder pid)   the lock is held; waiting as a standby
//   (acquired_atom, waited ms)                the lock is ours: this node is master
//   (refused_atom, message)                   held by another node and waiting is off
//   (failed_atom, message)                    the lock file could not be used
// Messages it takes once the lock is ours (lock_holder_actor):
//   (snapshot_atom) -> lock_holder_snapshot   lock file, holder name and pid, time waited
#pragma once

#include "actors/atoms.hpp"
#include "actors/snapshot.hpp"
#include "storage/master_lock.hpp"

#include <caf/typed_actor.hpp>
#include <caf/typed_event_based_actor.hpp>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>

namespace actormq::actors {

using lock_slot = std::shared_ptr<std::optional<storage::master_lock>>;

// The node, as the lock holder sees it: told how taking the lock goes.
using lock_owner_actor = caf::typed_actor<
    // The lock is held by (holder name, holder pid): waiting as a standby.
    caf::reacts_to<waiting_atom, std::string, int64_t>,
    // The lock is ours after (waited ms): this node is master.
    caf::reacts_to<acquired_atom, int64_t>,
    // Held by another node (message) and waiting is off.
    caf::reacts_to<refused_atom, std::string>,
    // The lock file could not be used (message).
    caf::reacts_to<failed_atom, std::string>>;

using lock_holder_actor = caf::typed_actor<
    // Once the lock is ours: lock file, holder name and pid, time waited and held.
    caf::replies_to<snapshot_atom>::with<lock_holder_snapshot>>;

struct lock_request {
  std::filesystem::path data_dir;
  std::string node_name;
  bool wait = false; // standby: wait for the lock instead of refusing
};

struct lock_holder_state {
  static inline const char* name = "lock_holder";
  lock_request request;
  int64_t waited_ms = 0;                            // from the first try to the lock
  std::chrono::steady_clock::time_point held_since; // when the lock became ours
};

lock_holder_actor::behavior_type
lock_holder(lock_holder_actor::stateful_pointer<lock_holder_state> self, lock_request request,
            lock_slot slot, lock_owner_actor node);

} // namespace actormq::actors
