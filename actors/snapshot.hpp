// What every actor answers to (snapshot_atom), and what the inspector gathers from them: one plain
// struct per kind of actor and inspector_snapshot for a whole node. The console and actormq-debug
// read these structs; both show an actor's fields under the names listed here (fields_of).
//
// Each struct lists its fields once, in fields(): the names the console's JSON and actormq-debug
// show, and the order CAF serialises them in (inspect, below), since actormq-debug receives the
// node's snapshot over the cluster port. The types are registered in register_message_types.
#pragma once

#include <cstdint>
#include <limits>
#include <map>
#include <optional>
#include <string>
#include <type_traits>
#include <utility>
#include <variant>

namespace actormq::actors {

struct node_snapshot {
  static constexpr const char* kind = "node";
  uint64_t mailbox = 0; // messages waiting in the mailbox, as the actor sees them
  std::string name;
  std::string role; // "master" or "standby"
  std::string data_dir;
  uint64_t uptime_ms = 0;
  uint64_t client_port = 0; // 0 while closed
  uint64_t cluster_port = 0;

  template <class Self, class F> static void fields(Self& x, F&& f) {
    f("mailbox", x.mailbox);
    f("name", x.name);
    f("role", x.role);
    f("data-dir", x.data_dir);
    f("uptime-ms", x.uptime_ms);
    f("client-port", x.client_port);
    f("cluster-port", x.cluster_port);
  }
};

struct lock_holder_snapshot {
  static constexpr const char* kind = "lock_holder";
  uint64_t mailbox = 0;
  std::string lock_file;
  std::string holder; // the node's name
  uint64_t pid = 0;
  uint64_t waited_ms = 0;
  uint64_t held_ms = 0;

  template <class Self, class F> static void fields(Self& x, F&& f) {
    f("mailbox", x.mailbox);
    f("lock-file", x.lock_file);
    f("holder", x.holder);
    f("pid", x.pid);
    f("waited-ms", x.waited_ms);
    f("held-ms", x.held_ms);
  }
};

struct store_snapshot {
  static constexpr const char* kind = "store";
  uint64_t mailbox = 0;
  std::string store_id;
  uint64_t map_size = 0; // bytes
  uint64_t used_bytes = 0;
  uint64_t commits = 0;
  uint64_t operations = 0;
  uint64_t last_batch = 0;
  uint64_t max_batch = 0;
  double mean_batch = 0;
  double last_commit_ms = 0;
  uint64_t readers = 0;
  uint64_t open_readers = 0;
  uint64_t last_txn = 0;
  // The oldest open read transaction; all three absent when none is open.
  std::optional<uint64_t> oldest_reader_pid;
  std::optional<uint64_t> oldest_reader_txn;
  std::optional<uint64_t> oldest_reader_lag; // commits since its snapshot
  uint64_t failed_commits = 0;
  uint64_t stale_readers_cleared = 0;
  uint64_t waiting_operations = 0;
  // Flow control (docs/operations.md, "Store full"): sends waiting for room now, since when
  // (ms), and how many failed after limits.send_fail_if_no_space_after_timeout_ms.
  uint64_t held_sends = 0;
  uint64_t held_for_ms = 0;
  uint64_t held_sends_timed_out = 0;

  template <class Self, class F> static void fields(Self& x, F&& f) {
    f("mailbox", x.mailbox);
    f("store-id", x.store_id);
    f("map-size", x.map_size);
    f("used-bytes", x.used_bytes);
    f("commits", x.commits);
    f("operations", x.operations);
    f("last-batch", x.last_batch);
    f("max-batch", x.max_batch);
    f("mean-batch", x.mean_batch);
    f("last-commit-ms", x.last_commit_ms);
    f("readers", x.readers);
    f("open-readers", x.open_readers);
    f("last-txn", x.last_txn);
    f("oldest-reader-pid", x.oldest_reader_pid);
    f("oldest-reader-txn", x.oldest_reader_txn);
    f("oldest-reader-lag", x.oldest_reader_lag);
    f("failed-commits", x.failed_commits);
    f("stale-readers-cleared", x.stale_readers_cleared);
    f("waiting-operations", x.waiting_operations);
    f("held-sends", x.held_sends);
    f("held-for-ms", x.held_for_ms);
    f("held-sends-timed-out", x.held_sends_timed_out);
  }
};

struct broker_snapshot {
  static constexpr const char* kind = "broker";
  uint64_t mailbox = 0;
  uint64_t destinations = 0;
  uint64_t durable_subscriptions = 0;
  uint64_t client_ids = 0; // connections holding a client id
  // Bodies in the store and the references to them (a message stored once for several durable
  // subscriptions is one body with a reference each).
  uint64_t stored_bodies = 0;
  uint64_t body_references = 0;

  template <class Self, class F> static void fields(Self& x, F&& f) {
    f("mailbox", x.mailbox);
    f("destinations", x.destinations);
    f("durable-subscriptions", x.durable_subscriptions);
    f("client-ids", x.client_ids);
    f("stored-bodies", x.stored_bodies);
    f("body-references", x.body_references);
  }
};

struct acceptor_snapshot {
  static constexpr const char* kind = "acceptor";
  uint64_t mailbox = 0;
  std::string listener; // its name in the configuration: client, stomp, ws
  std::string protocol; // its connections' codec: actormq, stomp, stomp-ws
  uint64_t port = 0;
  uint64_t sessions = 0;
  uint64_t accepted = 0;
  uint64_t refused = 0;
  uint64_t waiting_for_connect = 0;
  uint64_t evicted = 0;

  template <class Self, class F> static void fields(Self& x, F&& f) {
    f("mailbox", x.mailbox);
    f("listener", x.listener);
    f("protocol", x.protocol);
    f("port", x.port);
    f("sessions", x.sessions);
    f("accepted", x.accepted);
    f("refused", x.refused);
    f("waiting-for-connect", x.waiting_for_connect);
    f("evicted", x.evicted);
  }
};

struct session_snapshot {
  static constexpr const char* kind = "session";
  uint64_t mailbox = 0;
  uint64_t id = 0;      // numbered by each listener from 1
  std::string listener; // the listener it came in on: client, stomp, ws
  std::string peer;
  std::string client_id;
  uint64_t consumers = 0;
  uint64_t frames_in = 0;
  uint64_t frames_out = 0;
  uint64_t messages_in = 0;
  uint64_t deliveries_out = 0;
  uint64_t acks_in = 0;
  uint64_t producers = 0;
  uint64_t unanswered_sends = 0;
  bool reading_halted = false; // flow control

  template <class Self, class F> static void fields(Self& x, F&& f) {
    f("mailbox", x.mailbox);
    f("id", x.id);
    f("listener", x.listener);
    f("peer", x.peer);
    f("client-id", x.client_id);
    f("consumers", x.consumers);
    f("frames-in", x.frames_in);
    f("frames-out", x.frames_out);
    f("messages-in", x.messages_in);
    f("deliveries-out", x.deliveries_out);
    f("acks-in", x.acks_in);
    f("producers", x.producers);
    f("unanswered-sends", x.unanswered_sends);
    f("reading-halted", x.reading_halted);
  }
};

// A destination's actor: a queue, or a topic (which answers the queue's interface, topic.hpp);
// destination_kind tells them apart. A topic's consumers are its subscribers.
struct queue_snapshot {
  static constexpr const char* kind = "queue";
  uint64_t mailbox = 0;
  std::string destination_kind = "queue"; // "queue" or "topic"
  std::string name;
  uint64_t pending = 0;
  uint64_t in_flight = 0;
  uint64_t consumers = 0;
  uint64_t enqueued = 0;
  uint64_t dequeued = 0;
  uint64_t duplicates_dropped = 0;
  uint64_t expired = 0;
  uint64_t dispatched = 0;
  uint64_t redelivered = 0;
  uint64_t recovered = 0;
  uint64_t handed_over = 0;
  uint64_t in_transfer_at_start = 0;
  uint64_t local_consumers = 0;
  uint64_t memory_bytes = 0;
  uint64_t held_sends = 0; // flow control
  uint64_t deliveries_recorded = 0;
  uint64_t recorded_with_put = 0;
  uint64_t record_failures = 0;
  uint64_t deliveries_waiting_for_record = 0;
  uint64_t acknowledged_deletes_waiting = 0;
  uint64_t acknowledged_deletes_shared = 0;
  uint64_t dropped_without_subscribers = 0; // topics: published while nobody was subscribed
  uint64_t dropped_at_unsubscribe = 0;      // topics: waiting for a subscriber that left
  uint64_t durable_subscriptions = 0;       // topics: durable subscriptions it feeds
  uint64_t stored_for_durables = 0;         // topics: persistent messages stored for them
  uint64_t selector_evaluations = 0;        // queues: a message against a consumer's selector
  uint64_t dead_lettered = 0;               // queues: moved to a dead-letter queue
  uint64_t dropped = 0;                     // queues: non-persistent dead letters dropped
  uint64_t waiting_redelivery = 0;          // queues: returned, waiting for their delay
  uint64_t discarded = 0; // topics: dropped for slow subscribers (limits.slow_topic_subscriber)
  // Topics: each current subscriber that dropped any, "session S consumer C: N", "; " between.
  std::string discarded_by_subscriber;

  template <class Self, class F> static void fields(Self& x, F&& f) {
    f("mailbox", x.mailbox);
    f("destination-kind", x.destination_kind);
    f("name", x.name);
    f("pending", x.pending);
    f("in-flight", x.in_flight);
    f("consumers", x.consumers);
    f("enqueued", x.enqueued);
    f("dequeued", x.dequeued);
    f("duplicates-dropped", x.duplicates_dropped);
    f("expired", x.expired);
    f("dead-lettered", x.dead_lettered);
    f("dropped", x.dropped);
    f("waiting-redelivery", x.waiting_redelivery);
    f("dispatched", x.dispatched);
    f("redelivered", x.redelivered);
    f("recovered", x.recovered);
    f("handed-over", x.handed_over);
    f("in-transfer-at-start", x.in_transfer_at_start);
    f("local-consumers", x.local_consumers);
    f("memory-bytes", x.memory_bytes);
    f("held-sends", x.held_sends);
    f("deliveries-recorded", x.deliveries_recorded);
    f("recorded-with-put", x.recorded_with_put);
    f("record-failures", x.record_failures);
    f("deliveries-waiting-for-record", x.deliveries_waiting_for_record);
    f("acknowledged-deletes-waiting", x.acknowledged_deletes_waiting);
    f("acknowledged-deletes-shared", x.acknowledged_deletes_shared);
    f("dropped-without-subscribers", x.dropped_without_subscribers);
    f("dropped-at-unsubscribe", x.dropped_at_unsubscribe);
    f("durable-subscriptions", x.durable_subscriptions);
    f("stored-for-durable-subscriptions", x.stored_for_durables);
    f("selector-evaluations", x.selector_evaluations);
    f("discarded", x.discarded);
    f("discarded-by-subscriber", x.discarded_by_subscriber);
  }
};

struct bridge_snapshot {
  static constexpr const char* kind = "bridge";
  uint64_t mailbox = 0;
  std::string name;
  std::string peer_address;
  std::string peer; // the peer node's name, once known
  std::string state;
  std::string last_error;
  uint64_t connects = 0;
  uint64_t attempts = 0;
  uint64_t forwarded = 0;
  uint64_t acknowledged = 0;
  uint64_t resent = 0;
  uint64_t in_transfer = 0;
  uint64_t destinations = 0;

  template <class Self, class F> static void fields(Self& x, F&& f) {
    f("mailbox", x.mailbox);
    f("name", x.name);
    f("peer-address", x.peer_address);
    f("peer", x.peer);
    f("state", x.state);
    f("last-error", x.last_error);
    f("connects", x.connects);
    f("attempts", x.attempts);
    f("forwarded", x.forwarded);
    f("acknowledged", x.acknowledged);
    f("resent", x.resent);
    f("in-transfer", x.in_transfer);
    f("destinations", x.destinations);
  }
};

struct inbound_snapshot {
  static constexpr const char* kind = "inbound";
  uint64_t mailbox = 0;
  std::string peer;
  std::string peer_store;
  uint64_t received = 0;
  uint64_t stored = 0;
  uint64_t duplicates_dropped = 0;
  uint64_t failed = 0;

  template <class Self, class F> static void fields(Self& x, F&& f) {
    f("mailbox", x.mailbox);
    f("peer", x.peer);
    f("peer-store", x.peer_store);
    f("received", x.received);
    f("stored", x.stored);
    f("duplicates-dropped", x.duplicates_dropped);
    f("failed", x.failed);
  }
};

// One actor as the inspector saw it: its answer, or why there is none (it did not answer
// within the inspector's timeout).
template <class Snapshot> struct snapshot_entry {
  uint64_t actor_id = 0;
  std::optional<Snapshot> answer;
  std::string error; // when there is no answer
};

// A node's actors, gathered by the inspector. A part is absent when the node has no such actor
// (yet); the groups are keyed by actor id (as text).
struct inspector_snapshot {
  std::optional<snapshot_entry<node_snapshot>> node;
  std::optional<snapshot_entry<lock_holder_snapshot>> lock_holder;
  std::optional<snapshot_entry<store_snapshot>> store;
  std::optional<snapshot_entry<broker_snapshot>> broker;
  std::optional<snapshot_entry<acceptor_snapshot>> acceptor;
  std::map<std::string, snapshot_entry<queue_snapshot>> queues;
  std::map<std::string, snapshot_entry<session_snapshot>> sessions;
  std::map<std::string, snapshot_entry<bridge_snapshot>> bridges;
  // The acceptors of the STOMP listeners (stomp, ws), by actor id; `acceptor` is the client's.
  std::map<std::string, snapshot_entry<acceptor_snapshot>> acceptors;
};

// ---- one entry as named values -----------------------------------------------------------------

// A field's value as shown: counts as signed 64-bit integers (capped), as JSON readers expect.
using snapshot_value = std::variant<int64_t, double, bool, std::string>;
// An entry's fields by name, sorted by name, with "kind" ("unanswered" without an answer),
// "actor-id" and, without an answer, "error".
using snapshot_fields = std::map<std::string, snapshot_value>;

inline int64_t snapshot_count(uint64_t value) {
  constexpr uint64_t max = static_cast<uint64_t>(std::numeric_limits<int64_t>::max());
  return static_cast<int64_t>(value > max ? max : value);
}

template <class Snapshot> snapshot_fields fields_of(const snapshot_entry<Snapshot>& e) {
  snapshot_fields out;
  out["actor-id"] = snapshot_count(e.actor_id);
  if (!e.answer) {
    out["kind"] = std::string("unanswered");
    out["error"] = e.error;
    return out;
  }
  out["kind"] = std::string(Snapshot::kind);
  // A topic answers with a queue snapshot: its kind is the destination's.
  if constexpr (std::is_same_v<Snapshot, queue_snapshot>)
    out["kind"] = e.answer->destination_kind;
  Snapshot::fields(*e.answer, [&out](const char* name, const auto& v) {
    using type = std::decay_t<decltype(v)>;
    if constexpr (std::is_same_v<type, std::optional<uint64_t>>) {
      if (v)
        out[name] = snapshot_count(*v);
    } else if constexpr (std::is_same_v<type, uint64_t>) {
      out[name] = snapshot_count(v);
    } else {
      out[name] = v;
    }
  });
  return out;
}

// ---- CAF serialisation (actormq-debug receives inspector_snapshot over the cluster port) -------

namespace snapshot_detail {

template <class Inspector, class... Ts>
typename Inspector::result_type inspect_values(Inspector& f, Ts&... xs) {
  return f(xs...);
}

// An optional as a flag and a value.
template <class Inspector, class T>
typename Inspector::result_type apply_optional(Inspector& f, std::optional<T>& x) {
  bool present = x.has_value();
  T value = present ? *x : T{};
  if constexpr (std::is_void_v<typename Inspector::result_type>) {
    f(present, value);
    if (present)
      x = std::move(value);
    else
      x.reset();
  } else {
    auto err = f(present, value);
    if (present)
      x = std::move(value);
    else
      x.reset();
    return err;
  }
}

template <class Inspector, class T>
typename Inspector::result_type apply_field(Inspector& f, T& x) {
  if constexpr (std::is_same_v<T, std::optional<uint64_t>>)
    return apply_optional(f, x);
  else
    return inspect_values(f, x);
}

} // namespace snapshot_detail

template <class Inspector, class Snapshot>
auto inspect(Inspector& f, Snapshot& x)
    -> std::enable_if_t<std::is_same_v<decltype(Snapshot::kind), const char* const>,
                        typename Inspector::result_type> {
  if constexpr (std::is_void_v<typename Inspector::result_type>) {
    Snapshot::fields(x, [&f](const char*, auto& v) { snapshot_detail::apply_field(f, v); });
  } else {
    typename Inspector::result_type err;
    Snapshot::fields(x, [&f, &err](const char*, auto& v) {
      if (!err)
        err = snapshot_detail::apply_field(f, v);
    });
    return err;
  }
}

template <class Inspector, class Snapshot>
typename Inspector::result_type inspect(Inspector& f, snapshot_entry<Snapshot>& x) {
  if constexpr (std::is_void_v<typename Inspector::result_type>) {
    f(x.actor_id, x.error);
    snapshot_detail::apply_optional(f, x.answer);
  } else {
    if (auto err = f(x.actor_id, x.error))
      return err;
    return snapshot_detail::apply_optional(f, x.answer);
  }
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, inspector_snapshot& x) {
  using snapshot_detail::apply_optional;
  if constexpr (std::is_void_v<typename Inspector::result_type>) {
    apply_optional(f, x.node);
    apply_optional(f, x.lock_holder);
    apply_optional(f, x.store);
    apply_optional(f, x.broker);
    apply_optional(f, x.acceptor);
    f(x.queues, x.sessions, x.bridges, x.acceptors);
  } else {
    typename Inspector::result_type err;
    auto step = [&err](auto&& next) {
      if (!err)
        err = next();
    };
    step([&] { return apply_optional(f, x.node); });
    step([&] { return apply_optional(f, x.lock_holder); });
    step([&] { return apply_optional(f, x.store); });
    step([&] { return apply_optional(f, x.broker); });
    step([&] { return apply_optional(f, x.acceptor); });
    step([&] { return f(x.queues, x.sessions, x.bridges, x.acceptors); });
    return err;
  }
}

} // namespace actormq::actors
