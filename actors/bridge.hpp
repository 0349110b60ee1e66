// A bridge: one per member URI of a network connector. Connects to the peer's front door (a CAF
// remote actor on its cluster port) with back-off, receives the peer's consumer demand, consumes
// from this node's queues at lower priority while the peer has consumers, and forwards their
// messages store-and-forward, exactly once: a message is marked "in transfer" in this node's
// store (committed) before it is sent; the peer stores it with an audit keyed by the link and
// acknowledges the link sequence; then the message and its mark are deleted together. On every
// (re)connect the marked messages of the link are sent again first (the peer drops what it has).
// The link is named by the peer's store id, so when the peer's standby takes over (same store)
// it finishes what the old master began.
//
// Topics: while the peer has demand for a topic (its subscribers and durable subscriptions), the
// bridge consumes the topic through a network subscription, a durable subscription of this node
// owned by the link (durable_name.hpp), as it consumes a queue, and forwards its messages to the
// topic of the peer (one subscription however many subscribers the peer has: conduit
// subscriptions). The network subscription outlives a link that goes down; it is removed, with
// what it holds, when the peer's demand ends. A network subscription takes no message that came
// over a link (network TTL 1), so topic messages never go round a ring.
//
// Spawned detached: connecting (remote_actor) blocks.
// Messages it takes (bridge_actor):
//   (connect_atom)                       try to connect (sent to itself)
//   (created_atom, name)                 a destination was created (from the broker, when the
//                                        bridge has statically included destinations)
//   (demand_atom, demand_update)         the peer's consumers changed (from its inbound actor)
//   (dispatch_atom, delivery)            a message from a local queue (consumer_actor)
//   (fwd_ack_atom, key_list)             the peer stored these link sequences
//   (snapshot_atom) -> bridge_snapshot
#pragma once

#include "actors/atoms.hpp"
#include "actors/broker.hpp"
#include "actors/consumer.hpp"
#include "actors/destination_resolver.hpp"
#include "actors/inbound.hpp"
#include "actors/messages.hpp"
#include "actors/snapshot.hpp"
#include "actors/store_actor.hpp"
#include "config/defaults.hpp"
#include "protocol/destination_pattern.hpp"

#include <caf/actor_addr.hpp>
#include <caf/typed_actor.hpp>
#include <caf/typed_event_based_actor.hpp>

#include <chrono>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

namespace actormq::actors {

using bridge_actor = caf::typed_actor<
    // Try to connect (sent to itself).
    caf::reacts_to<connect_atom>,
    // A destination was created (creation_listener_actor, from the broker).
    caf::reacts_to<created_atom, std::string>,
    // The peer's consumers changed (link_sender_actor, from the peer's inbound actor).
    caf::reacts_to<demand_atom, demand_update>,
    // A message from a local queue (consumer_actor).
    caf::reacts_to<dispatch_atom, delivery>,
    // The peer stored these link sequences (link_sender_actor).
    caf::reacts_to<fwd_ack_atom, key_list>, caf::replies_to<snapshot_atom>::with<bridge_snapshot>>;

struct bridge_settings {
  std::string name; // connector name and member index, e.g. "connector0/1"
  std::string host; // the peer's cluster port
  uint16_t port = 0;
  std::string node_name; // this node
  std::string store_id;  // this node's store
  bool decrease_network_consumer_priority = config::default_decrease_network_consumer_priority;
  // Messages in transfer at most, per destination.
  uint32_t prefetch = config::default_connector_prefetch_size;
  // Patterns with ActiveMQ's wildcards (protocol/destination_pattern.hpp).
  std::vector<protocol::destination_pattern> excluded;            // never forwarded
  std::vector<protocol::destination_pattern> statically_included; // forwarded without demand
  bool dynamic_only = config::default_dynamic_only;
  std::chrono::milliseconds max_reconnect_delay{config::default_max_reconnect_delay_ms};
};

struct bridge_state {
  static inline const char* name = "bridge";

  struct subscription_entry {
    queue_actor queue;
    uint64_t subscription = 0; // 0 while the queue has not answered
    uint64_t consumer_id = 0;
    uint32_t destination_id = 0;
  };

  struct transfer {
    std::string destination;
    uint32_t destination_id = 0;
    uint64_t sequence = 0;
    bool marked = false; // persistent: marked in the store
  };

  bridge_settings settings;
  std::shared_ptr<storage::backend> db;
  store_actor store;
  broker_actor broker;
  destination_resolver resolver;

  caf::actor_addr peer;  // the peer's front door (monitored; asked only while connecting)
  inbound_actor inbound; // the peer's inbound actor for this link
  std::string peer_name;
  std::string link_id; // the peer's store id
  bool connected = false;
  std::chrono::milliseconds backoff{0};
  std::string status = "connecting";
  std::string last_error;

  std::map<std::string, uint32_t> demand;                  // the peer's consumers
  std::map<std::string, subscription_entry> subscriptions; // by destination
  std::map<uint64_t, std::string> consumer_destinations;   // consumer id -> destination
  std::set<std::string> removing; // topics whose network subscription is being removed
  uint64_t next_consumer_id = 1;
  std::map<uint64_t, transfer> in_transfer; // by link sequence
  uint64_t next_link_sequence = 0;

  uint64_t attempts = 0;
  uint64_t connects = 0;
  uint64_t forwarded = 0;
  uint64_t acknowledged = 0;
  uint64_t resent = 0;
};

bridge_actor::behavior_type bridge_behavior(bridge_actor::stateful_pointer<bridge_state> self,
                                            bridge_settings settings,
                                            std::shared_ptr<storage::backend> db, store_actor store,
                                            broker_actor broker);

} // namespace actormq::actors
