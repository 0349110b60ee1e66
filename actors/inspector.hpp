// The inspector: gathers the snapshots every actor of a node answers (node, lock holder, store,
// broker, queues, acceptor, sessions, bridges), each with its own timeout, so that a stuck actor
// shows as stuck instead of hanging the debug tool or the console.
//
//   (snapshot_atom) -> inspector_snapshot   every actor's snapshot (actors/snapshot.hpp)
#pragma once

#include "actors/acceptor.hpp"
#include "actors/atoms.hpp"
#include "actors/bridge.hpp"
#include "actors/broker.hpp"
#include "actors/lock_holder.hpp"
#include "actors/snapshot.hpp"
#include "actors/store_actor.hpp"

#include <caf/typed_actor.hpp>
#include <caf/typed_event_based_actor.hpp>

#include <chrono>
#include <vector>

namespace actormq::actors {

using inspector_actor = caf::typed_actor<caf::replies_to<snapshot_atom>::with<inspector_snapshot>>;

// The node, as the inspector sees it (node.hpp includes this header, so not its whole
// interface): asked for its snapshot.
using inspected_node_actor = caf::typed_actor<caf::replies_to<snapshot_atom>::with<node_snapshot>>;

// What the inspector may ask (handles are added as the node grows: bridges, ...).
struct inspected_actors {
  inspected_node_actor node;
  lock_holder_actor lock_holder;
  store_actor store;
  broker_actor broker;
  acceptor_actor acceptor;
  std::vector<bridge_actor> bridges;
  std::vector<acceptor_actor> stomp_acceptors; // of the stomp and ws listeners
  std::chrono::milliseconds timeout{1000};     // per actor
};

struct inspector_state {
  static inline const char* name = "inspector";
  inspected_actors targets;
};

inspector_actor::behavior_type
inspector_behavior(inspector_actor::stateful_pointer<inspector_state> self,
                   inspected_actors targets);

} // namespace actormq::actors
