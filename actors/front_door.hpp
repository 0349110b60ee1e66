// The front door: the one actor a node publishes on its cluster port. Peers and the debug
// tool connect to it, check the version, and ask it for what they need.
#pragma once

#include "actors/atoms.hpp"
#include "actors/bridge.hpp"
#include "actors/inbound.hpp"
#include "actors/inspector.hpp"
#include "actors/messages.hpp"

#include <caf/typed_actor.hpp>
#include <caf/typed_event_based_actor.hpp>

#include <cstdint>
#include <string>

namespace actormq::actors {

// Version of the cluster protocol (front door, bridges). A peer of another version is refused.
// 2: forwarded messages carry prior deliveries; 3: a link carries typed handles (bridge_actor,
// inbound_actor), so the front door's interface differs from version 2's.
constexpr uint32_t cluster_protocol_version = 3;

using front_door_actor = caf::typed_actor<
    // Handshake: (hello, version) -> (node name, version, store id), or an error naming both
    // versions.
    caf::replies_to<hello_atom, uint32_t>::with<std::string, uint32_t, std::string>,
    // A peer's bridge links to this node: (link, peer store id, peer name, bridge) ->
    // (inbound actor for its messages, this node's store id, this node's consumer demand).
    caf::replies_to<link_atom, std::string, std::string,
                    bridge_actor>::with<inbound_actor, std::string, demand_list>,
    // The snapshot of every actor of the node (the inspector's tree).
    caf::replies_to<snapshot_atom>::with<inspector_snapshot>>;

struct front_door_state {
  static inline const char* name = "front-door";
  std::string node_name;
  std::string store_id;
  inspector_actor inspector;
  broker_actor broker;
  uint64_t handshakes = 0;
  uint64_t links = 0;
  uint64_t refused = 0;
};

front_door_actor::behavior_type
front_door_behavior(front_door_actor::stateful_pointer<front_door_state> self,
                    std::string node_name, std::string store_id, inspector_actor inspector,
                    broker_actor broker);

} // namespace actormq::actors
