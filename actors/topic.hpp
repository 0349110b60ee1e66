// The topic actor: one per topic, created by the broker on first use (or at start, if it has
// durable subscriptions). Every subscriber subscribed when a message is published gets it,
// once; with no subscriber the message is dropped (counted). Its subscribers and durable
// subscriptions are consumer demand for the bridges of peers, which then forward the topic's
// messages to this node (docs/topics.md, "Across a network of brokers"). Non-durable subscribers
// are served from memory: nothing of theirs goes to the store, and a send is answered once every
// current subscriber has the message queued in memory. A subscriber's window works as a queue
// consumer's (credit, acks that free it); a subscriber over its pending limit, or the topic
// over its memory limit, holds the publisher: its send is answered only once there is room
// again.
//
// Durable subscriptions (durable_name.hpp) are queues fed by the topic: a persistent message is
// stored once for all of them (one body, one reference per subscription, storage::shared_put_op)
// and handed to each subscription's queue after the commit; the send is answered then. A
// non-persistent message is handed to them in memory.
//
// A topic answers the queue's interface (queue.hpp), so that producers, consumers, the broker's
// lookup and the console reach both kinds the same way. What a topic does not have is answered
// so: browse and purge are refused (bad destination), handover and replay are ignored, and
// its snapshot is a queue snapshot whose destination kind is "topic".
#pragma once

#include "actors/consumer.hpp"
#include "actors/link_audit.hpp"
#include "actors/messages.hpp"
#include "actors/queue.hpp"
#include "actors/store_actor.hpp"
#include "actors/topic_core.hpp"
#include "config/defaults.hpp"

#include <caf/typed_event_based_actor.hpp>
#include <caf/typed_response_promise.hpp>

#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

namespace actormq::actors {

using topic_actor = queue_actor;

struct topic_settings {
  std::string name;     // "topic://name"
  std::string store_id; // the node's origin identity, stamped on every message
  uint64_t subscriber_pending_limit = config::default_topic_subscriber_pending_messages;
  // A subscriber over that limit holds the publishers or drops its oldest pending messages.
  slow_subscriber_policy slow_subscriber = slow_subscriber_policy::block;
  uint64_t memory_limit_bytes = config::default_destination_memory_bytes;
  store_actor store;           // durable subscriptions' messages are stored through it
  uint32_t destination_id = 0; // the topic's store record, if it has one (durable subscriptions)
  // The broker: told the topic's consumer demand for bridges (its subscribers and durable
  // subscriptions, network subscriptions not counted) whenever it changes.
  demand_counter_actor demand_listener;
  // A wildcard topic ("topic://prices.>"): its messages come from the topics it matches, which
  // have stamped them already.
  bool pattern = false;
  // Destinations it hands every message to from the start (topic_target).
  std::vector<topic_target> targets;
};

// A durable subscription as the topic feeds it.
struct topic_durable {
  uint32_t destination_id = 0;
  uint64_t last_sequence = 0; // the last sequence given to a message for it
  queue_actor queue;
  // A bridge's subscription for a peer (durable_name.hpp): it gets no message that came over a
  // link (network TTL 1) and is no consumer demand.
  bool network = false;
  // The subscription's selector (kept in its store name): it gets only what this selects.
  std::shared_ptr<const protocol::selector> selector;
};

struct topic_state {
  static inline const char* name = "topic";

  explicit topic_state(caf::local_actor*) {}

  topic_settings settings;
  std::unique_ptr<topic_core> core;
  uint64_t next_sequence = 0;
  uint64_t enqueued = 0;   // published
  uint64_t dispatched = 0; // deliveries to subscribers
  uint64_t dequeued = 0;   // deliveries acknowledged
  uint64_t dropped_without_subscribers = 0;
  uint64_t dropped_at_unsubscribe = 0;           // pending or in flight for a subscriber that left
  uint32_t destination_id = 0;                   // the topic's store record (0: none yet)
  std::map<std::string, topic_durable> durables; // by store name
  uint64_t stored_for_durables = 0;              // persistent messages stored for them
  uint64_t duplicates = 0;                       // resends the producer audit recognised
  link_audit forwarded_audit;                    // persistent messages bridges forwarded
  uint32_t reported_demand = 0;                  // last told to the demand listener
  std::unordered_map<uint64_t, consumer_actor> sessions; // by actor id
  // Wildcard topics whose pattern matches this one, and queues of this virtual topic's
  // consumers, by destination URI: each gets every message published here (topic_target).
  std::map<std::string, caf::actor> targets;
  uint64_t handed_to_targets = 0; // messages handed to them
  // The answer of a held send (flow control).
  using send_answer = std::function<void(const caf::error&, send_result)>;
  std::deque<send_answer> held_sends;
  bool flow_control_logged = false;
  bool discard_logged = false; // a slow subscriber dropped messages (logged once)
};

// The topic's counters for actormq-debug and the console.
queue_snapshot make_topic_snapshot(const topic_state& st, size_t mailbox);

topic_actor::behavior_type topic_behavior(topic_actor::stateful_pointer<topic_state> self,
                                          topic_settings settings);

} // namespace actormq::actors
