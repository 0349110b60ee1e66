// The inbound side of a bridge: spawned by the front door when a peer's bridge links to this
// node, one per link. Stores each forwarded message in its queue (the producer audit, keyed by
// the link, drops what is already stored) and acknowledges its link sequence to the bridge once
// stored; streams this node's consumer demand to the bridge. Ends when the bridge goes away.
//
// Messages it takes:
//   (forward_atom, forwarded_message)   from the peer's bridge
//   (demand_atom, demand_update)        from the broker: local consumers changed
//   (snapshot_atom) -> inbound_snapshot
// Messages it sends to the bridge: (fwd_ack_atom, key_list), (demand_atom, demand_update)
#pragma once

#include "actors/broker.hpp"
#include "actors/destination_resolver.hpp"
#include "actors/messages.hpp"

#include <caf/event_based_actor.hpp>
#include <caf/stateful_actor.hpp>

#include <string>

namespace actormq::actors {

struct inbound_state {
  static inline const char* name = "inbound";

  caf::actor bridge;
  std::string peer_name;
  std::string peer_store_id;
  broker_actor broker;
  destination_resolver resolver;
  uint64_t received = 0;
  uint64_t stored = 0;
  uint64_t duplicates = 0;
  uint64_t failed = 0;
};

caf::behavior inbound_behavior(caf::stateful_actor<inbound_state>* self, caf::actor bridge,
                               std::string peer_name, std::string peer_store_id,
                               broker_actor broker);

} // namespace actormq::actors
