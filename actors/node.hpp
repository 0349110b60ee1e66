// The node actor: one per process. Spawns the lock holder; once the lock is held (master) it
// opens and recovers the store, spawns the store actor, the broker, the acceptor on the client
// port and the front door on the cluster port, and logs one readiness line. It owns the stop
// order and exits the process when a component it cannot do without dies.
//
// Messages it takes (node_actor):
//   from the lock holder (lock_owner_actor): (waiting_atom, name, pid), (acquired_atom, ms),
//                         (refused_atom, text), (failed_atom, text)
//   from the elector (elector_owner_actor), with a `replication` block: (elected_atom, epoch),
//                         (deposed_atom, why)
//   (stop_atom)                       SIGTERM/SIGINT, from the signal thread
//   (snapshot_atom) -> node_snapshot  role, name, uptime, ports (inspected_node_actor)
#pragma once

#include "actors/acceptor.hpp"
#include "actors/atoms.hpp"
#include "actors/bridge.hpp"
#include "actors/broker.hpp"
#include "actors/console.hpp"
#include "actors/elector.hpp"
#include "actors/front_door.hpp"
#include "actors/inspector.hpp"
#include "actors/lock_holder.hpp"
#include "actors/scheduler.hpp"
#include "actors/snapshot.hpp"
#include "actors/store_actor.hpp"
#include "config/node.pb.h"

#include <caf/typed_actor.hpp>
#include <caf/typed_event_based_actor.hpp>

#include <atomic>
#include <chrono>
#include <memory>
#include <mutex>
#include <set>
#include <string>

namespace actormq::actors {

using node_actor = lock_owner_actor::extend_with<elector_owner_actor>::extend<
    // SIGTERM/SIGINT, from the signal thread.
    caf::reacts_to<stop_atom>,
    // Role, name, uptime, ports (for the inspector: inspected_node_actor).
    caf::replies_to<snapshot_atom>::with<node_snapshot>>;

// Documented exit codes of actormq-node (docs/operations.md).
enum exit_code : int {
  exit_clean = 0,
  exit_bad_config = 2,
  exit_store_error = 3,
  exit_locked = 4,
  exit_fatal = 5,
  exit_stop_timeout = 6, // a stop took longer than stop_timeout_ms
};

// What the node shares with main(): the exit code, the role, the lock.
struct node_runtime {
  std::atomic<int> exit_code{exit_clean};
  std::atomic<bool> master{false};
  std::chrono::steady_clock::time_point started = std::chrono::steady_clock::now();
  lock_slot lock = std::make_shared<std::optional<storage::master_lock>>();

  // What has not finished stopping yet, named for people (a stop that times out says it).
  void stopping(std::set<std::string> parts) {
    std::lock_guard<std::mutex> guard(stop_mutex);
    still_stopping = std::move(parts);
  }
  void stopped(const std::string& part) {
    std::lock_guard<std::mutex> guard(stop_mutex);
    still_stopping.erase(part);
  }
  std::string still_stopping_text() const {
    std::lock_guard<std::mutex> guard(stop_mutex);
    std::string out;
    for (auto& part : still_stopping)
      out += (out.empty() ? "" : ", ") + part;
    return out.empty() ? "no part of the node (actors of its sessions or bridges)" : out;
  }

private:
  mutable std::mutex stop_mutex;
  std::set<std::string> still_stopping;
};

struct node_state {
  static inline const char* name = "node";

  config::NodeConfig config;
  std::shared_ptr<node_runtime> runtime;
  bool stopping = false;
  lock_holder_actor lock_holder; // lives on (idle) while the lock is ours
  elector_actor elector;         // only with a `replication` block
  uint64_t epoch = 0;            // replication: the epoch this node was elected master in
  std::shared_ptr<storage::backend> db;
  store_actor store;
  broker_actor broker;
  scheduler_actor scheduler; // only with scheduler_support
  acceptor_actor acceptor;
  acceptor_actor stomp_acceptor; // only with a stomp listener
  acceptor_actor ws_acceptor;    // only with a ws listener (STOMP over WebSocket)
  front_door_actor front_door;
  inspector_actor inspector;
  std::vector<bridge_actor> bridges;
  std::unique_ptr<console> web_console; // the HTTP console (its own threads)
  uint16_t client_port = 0;
  uint16_t stomp_port = 0;
  uint16_t ws_port = 0;
  uint16_t cluster_port = 0;
  std::chrono::steady_clock::time_point master_since;
};

node_actor::behavior_type node_behavior(node_actor::stateful_pointer<node_state> self,
                                        config::NodeConfig config,
                                        std::shared_ptr<node_runtime> runtime);

} // namespace actormq::actors
