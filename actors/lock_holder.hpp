// The lock holder: takes the master lock of the data folder. Spawned detached: its blocking
// flock runs on a thread of its own, never on a scheduler worker; the kernel wakes it the
// instant the holder dies. The lock itself goes into `slot`, which outlives the actor system,
// so the descriptor closes only when the process exits. Once the lock is ours the actor stays
// on (idle) to say what it holds; the node ends it when it stops.
//
// Messages it sends to the node:
//   (waiting_atom, holder name, holder pid)   the lock is held; waiting as a standby
//   (acquired_atom, waited ms)                the lock is ours: this node is master
//   (refused_atom, message)                   held by another node and waiting is off
//   (failed_atom, message)                    the lock file could not be used
// Messages it takes once the lock is ours:
//   (snapshot_atom) -> lock_holder_snapshot   lock file, holder name and pid, time waited
#pragma once

#include "storage/master_lock.hpp"

#include <caf/actor.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/stateful_actor.hpp>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>

namespace actormq::actors {

using lock_slot = std::shared_ptr<std::optional<storage::master_lock>>;

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

caf::behavior lock_holder(caf::stateful_actor<lock_holder_state>* self, lock_request request,
                          lock_slot slot, caf::actor node);

} // namespace actormq::actors
