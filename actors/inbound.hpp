// The inbound side of a bridge: spawned by the front door when a peer's bridge links to this
// node, one per link. Stores each forwarded message in its queue (the producer audit, keyed by
// the link, drops what is already stored) and acknowledges its link sequence to the bridge once
// stored; streams this node's consumer demand to the bridge. Ends when the bridge goes away.
//
// Messages it takes (inbound_actor):
//   (forward_atom, forwarded_message)   from the peer's bridge
//   (demand_atom, demand_update)        from the broker: local consumers changed
//                                       (demand_watcher_actor)
//   (snapshot_atom) -> inbound_snapshot
// Messages it sends to the bridge (link_sender_actor): (fwd_ack_atom, key_list),
// (demand_atom, demand_update)
#pragma once

#include "actors/atoms.hpp"
#include "actors/broker.hpp"
#include "actors/destination_resolver.hpp"
#include "actors/messages.hpp"
#include "actors/snapshot.hpp"

#include <caf/typed_actor.hpp>
#include <caf/typed_event_based_actor.hpp>

#include <string>

namespace actormq::actors {

using inbound_actor = caf::typed_actor<
    // A message from the peer's bridge; its link sequence is acknowledged once stored.
    caf::reacts_to<forward_atom, forwarded_message>,
    // From the broker: this node's local consumers of a destination changed.
    caf::reacts_to<demand_atom, demand_update>,
    caf::replies_to<snapshot_atom>::with<inbound_snapshot>>;

// The peer's bridge, as its inbound side sees it: told which link sequences are stored, and
// of this node's consumer demand.
using link_sender_actor = caf::typed_actor<caf::reacts_to<fwd_ack_atom, key_list>,
                                           caf::reacts_to<demand_atom, demand_update>>;

struct inbound_state {
  static inline const char* name = "inbound";

  link_sender_actor bridge;
  std::string peer_name;
  std::string peer_store_id;
  broker_actor broker;
  destination_resolver resolver;
  uint64_t received = 0;
  uint64_t stored = 0;
  uint64_t duplicates = 0;
  uint64_t failed = 0;
};

inbound_actor::behavior_type inbound_behavior(inbound_actor::stateful_pointer<inbound_state> self,
                                              link_sender_actor bridge, std::string peer_name,
                                              std::string peer_store_id, broker_actor broker);

} // namespace actormq::actors
