// Plain message types exchanged between actors. A message travels as `payload`, its encoded
// envelope (protocol/envelope.hpp), opaque to queues and the store.
#pragma once

#include "protocol/destination.hpp"
#include "protocol/destination_counts.hpp"

#include <caf/actor.hpp>
#include <caf/meta/type_name.hpp>

#include <cstdint>
#include <string>
#include <vector>

namespace actormq::protocol {

// Protocol types that cross actor boundaries. A destination travels with its kind
// (protocol/destination.hpp); destination_counts is the actors' destination_stats.
template <class Inspector> typename Inspector::result_type inspect(Inspector& f, destination& x) {
  return f(caf::meta::type_name("destination"), x.kind, x.name);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, destination_counts& x) {
  return f(caf::meta::type_name("destination_stats"), x.name, x.pending, x.consumers, x.enqueued,
           x.dequeued, x.in_flight, x.duplicates_dropped, x.memory_bytes, x.flow_controlled,
           x.expired, x.dead_lettered, x.dropped, x.discarded, x.flow_reason);
}

} // namespace actormq::protocol

namespace actormq::actors {

// A message from a producer, on its way to a queue.
struct incoming_message {
  std::string payload; // the encoded envelope (protocol/envelope.hpp)
  bool persistent = true;
  int32_t priority = 4;
  int64_t expiration_ms = 0;
  std::string producer_id;
  uint64_t producer_sequence = 0;
  bool forwarded = false; // arrived from another node over a bridge
  // Deliveries to applications before it came here (a forwarded message the other node had
  // delivered): it arrives marked redelivered, with this count.
  uint32_t prior_deliveries = 0;
  // JMSXGroupID (empty: none) and JMSXGroupSeq of the message (docs/groups.md).
  std::string group_id;
  int32_t group_sequence = 0;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, incoming_message& x) {
  return f(caf::meta::type_name("incoming_message"), x.payload, x.persistent, x.priority,
           x.expiration_ms, x.producer_id, x.producer_sequence, x.forwarded, x.prior_deliveries,
           x.group_id, x.group_sequence);
}

// The queue's answer to a send: stored (or held), or recognised as a resend.
struct send_result {
  bool duplicate = false;
};

template <class Inspector> typename Inspector::result_type inspect(Inspector& f, send_result& x) {
  return f(caf::meta::type_name("send_result"), x.duplicate);
}

// A consumer, as the session (or a bridge) registers it with a queue.
struct subscription {
  uint64_t consumer_id = 0; // the client's id, echoed in every delivery
  uint32_t prefetch = 0;    // initial credit
  int32_t priority = 0;     // higher is served first
  bool network = false;     // a bridge: gets forwarded messages only on replay; not demand
  std::string selector;     // a JMS selector (protocol/selector.hpp); empty: every message
  bool convert_string_expressions = false; // the selector compares strings as numbers (STOMP)
  bool exclusive = false;                  // an exclusive consumer (queue_core::add_consumer)
};

template <class Inspector> typename Inspector::result_type inspect(Inspector& f, subscription& x) {
  return f(caf::meta::type_name("subscription"), x.consumer_id, x.prefetch, x.priority, x.network,
           x.selector, x.convert_string_expressions, x.exclusive);
}

// One message dispatched to a consumer (queue -> session or bridge).
struct delivery {
  uint64_t consumer_id = 0;
  uint64_t key = 0; // the store key's sequence; acks name it
  bool redelivered = false;
  uint32_t delivery_count = 1;
  std::string payload;
  bool persistent = true;
  int32_t priority = 4;
  int64_t expiration_ms = 0;
};

template <class Inspector> typename Inspector::result_type inspect(Inspector& f, delivery& x) {
  return f(caf::meta::type_name("delivery"), x.consumer_id, x.key, x.redelivered, x.delivery_count,
           x.payload, x.persistent, x.priority, x.expiration_ms);
}

// Consumer demand of one destination on a node (local consumers only), streamed to bridges.
struct demand_update {
  std::string destination;
  uint32_t consumers = 0; // absolute count
};

template <class Inspector> typename Inspector::result_type inspect(Inspector& f, demand_update& x) {
  return f(caf::meta::type_name("demand_update"), x.destination, x.consumers);
}

using demand_list = std::vector<demand_update>;

// A message a bridge forwards to its peer (one-way). The peer acknowledges the link sequence
// once the message is stored, or recognised as stored before.
struct forwarded_message {
  uint64_t link_sequence = 0;
  std::string destination;
  std::string payload;
  bool persistent = true;
  int32_t priority = 4;
  int64_t expiration_ms = 0;
  uint32_t prior_deliveries = 0; // deliveries to applications before (0: never delivered)
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, forwarded_message& x) {
  return f(caf::meta::type_name("forwarded_message"), x.link_sequence, x.destination, x.payload,
           x.persistent, x.priority, x.expiration_ms, x.prior_deliveries);
}

// A durable subscription as its topic knows it (broker -> topic): where the topic stores what
// is published for it, and the queue actor (queue.hpp) that holds and dispatches it.
struct durable_link {
  std::string name;                  // the subscription's store name (durable_name.hpp)
  uint32_t destination_id = 0;       // its destination in the store
  uint64_t last_sequence = 0;        // the highest sequence the store has used for it
  uint32_t topic_destination_id = 0; // the topic's own record (the producer audit's)
  caf::actor queue;
};

template <class Inspector> typename Inspector::result_type inspect(Inspector& f, durable_link& x) {
  return f(caf::meta::type_name("durable_link"), x.name, x.destination_id, x.last_sequence,
           x.topic_destination_id, x.queue);
}

// A destination a topic hands its messages to besides its own subscribers (broker -> topic): a
// wildcard topic whose pattern matches the topic's name ("topic://prices.>"), or a queue of a
// virtual topic's consumers ("queue://Consumer.a.VirtualTopic.Orders").
struct topic_target {
  std::string name;
  caf::actor actor;
  bool add = true; // false: it is gone (its destination was removed)
};

template <class Inspector> typename Inspector::result_type inspect(Inspector& f, topic_target& x) {
  return f(caf::meta::type_name("topic_target"), x.name, x.actor, x.add);
}

// A message that moves from one queue to another in one store operation (relocate_op): a dead
// letter to its dead-letter queue, or a retry out of it. Source queue -> broker -> target
// queue, which stores it and tells the source (relocated_atom, from_sequence, done).
struct relocation {
  uint32_t from_destination_id = 0;
  uint64_t from_sequence = 0;
  std::string payload; // the envelope it has in the target
  bool persistent = true;
  int32_t priority = 4;
  caf::actor source; // the source queue
};

template <class Inspector> typename Inspector::result_type inspect(Inspector& f, relocation& x) {
  return f(caf::meta::type_name("relocation"), x.from_destination_id, x.from_sequence, x.payload,
           x.persistent, x.priority, x.source);
}

// Counters of one destination (dstat, the console, /metrics, a client's stats request).
using destination_stats = protocol::destination_counts;

using destination_stats_list = std::vector<destination_stats>;
using delivery_list = std::vector<delivery>;
using key_list = std::vector<uint64_t>;

} // namespace actormq::actors
