// The queue actor: one per destination. Assigns store sequences, has persistent messages
// stored (group commit) before they become dispatchable, dispatches to consumers within their
// credit (queue_core), deletes acknowledged messages, and holds back producers' non-persistent
// sends while the destination is over its memory limit (queue_flow_control.cpp).
#pragma once

#include "actors/atoms.hpp"
#include "actors/consumer.hpp"
#include "actors/messages.hpp"
#include "actors/queue_core.hpp"
#include "actors/store_actor.hpp"
#include "actors/transaction_messages.hpp"
#include "config/defaults.hpp"

#include <caf/actor.hpp>
#include <caf/typed_actor.hpp>
#include <caf/typed_event_based_actor.hpp>
#include <caf/typed_response_promise.hpp>

#include <chrono>
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>

namespace actormq::actors {

// The destination registry as a queue sees it (the broker): told the queue's local consumer
// count (destination URI, count) whenever it changes.
using demand_counter_actor = caf::typed_actor<caf::reacts_to<demand_atom, std::string, uint32_t>>;

// The broker as a queue sees it for dead letters and retries: a relocation to the queue of
// this name (created if need be); if it cannot be delivered the source is told it failed.
using relocation_router_actor =
    caf::typed_actor<caf::reacts_to<relocate_atom, std::string, relocation>>;

using queue_actor = caf::typed_actor<
    // A producer's message: answered once stored (persistent) or accepted (non-persistent).
    caf::replies_to<send_atom, incoming_message>::with<send_result>,
    // Adds a consumer owned by a session or a bridge; answers its subscription id before
    // anything is dispatched to it. Deliveries go to the owner as (dispatch_atom, delivery).
    caf::replies_to<subscribe_atom, consumer_actor, subscription>::with<uint64_t>,
    // Dispatch what the consumers can take (sent to itself after answering a subscribe).
    caf::reacts_to<dispatch_atom>,
    // More credit for a subscription.
    caf::reacts_to<credit_atom, uint64_t, uint32_t>,
    // Acknowledges deliveries of a subscription; answered after the deletes committed.
    caf::replies_to<ack_atom, uint64_t, key_list>::with<uint64_t>,
    // Acknowledges deliveries nobody waits on (auto acknowledgement): their deletes wait up to
    // auto_ack_delay for the queue's next store write, so that they share its commit.
    caf::reacts_to<auto_ack_atom, uint64_t, key_list>,
    // The auto acknowledgement delay passed (sent to itself): the waiting deletes go now.
    caf::reacts_to<flush_atom>,
    // The node stops: waiting deletes go to the store (ahead of its final commit); answered,
    // then the queue ends.
    caf::replies_to<stop_atom>::with<bool>,
    // The client refused these deliveries of a subscription (STOMP's NACK): they go back to the
    // front of the queue, marked redelivered. Answers how many went back.
    caf::replies_to<nack_atom, uint64_t, key_list>::with<uint64_t>,
    // Removes a subscription; its unacknowledged deliveries are redelivered to others.
    caf::replies_to<unsub_atom, uint64_t>::with<uint64_t>,
    // Up to N pending messages, not consumed.
    caf::replies_to<browse_atom, uint32_t>::with<delivery_list>,
    // Removes every pending message; answers how many.
    caf::replies_to<purge_atom>::with<uint64_t>,
    caf::replies_to<stats_atom>::with<destination_stats>,
    // A bridge took these deliveries over (marked in transfer in the store): forget them.
    caf::reacts_to<handover_atom, uint64_t, key_list>,
    // The replay delay passed: forwarded messages may go to network consumers (sent to itself).
    caf::reacts_to<replay_atom>, caf::replies_to<snapshot_atom>::with<queue_snapshot>,
    // A durable subscription's queue (durable_name.hpp): a message its topic stored for it
    // under this sequence (persistent) or hands over in memory (non-persistent); it may be
    // dispatched now.
    caf::reacts_to<enqueue_atom, uint64_t, incoming_message>,
    // Dead letters and retries (queue_dead_letters.cpp): a message moved here from another
    // queue, stored with relocate_op; the source is told (relocated_atom) whether it moved.
    caf::reacts_to<relocate_atom, relocation>,
    // The move of one of this queue's messages (its sequence) committed, or not.
    caf::reacts_to<relocated_atom, uint64_t, bool>,
    // Timers (sent to itself): redeliveries whose delay passed; the periodic expiry sweep.
    caf::reacts_to<redeliver_atom>, caf::reacts_to<sweep_atom>,
    // Moves up to N messages of a dead-letter queue back to their original destinations;
    // answers how many moved (once their moves committed).
    caf::replies_to<retry_atom, uint32_t>::with<uint64_t>,
    // Topics only (topic.hpp): a durable subscription joins; a queue ignores it.
    caf::reacts_to<durable_atom, durable_link>,
    // Topics only: the durable subscription of this store name leaves; answered once the topic
    // stores nothing more for it (a queue answers false).
    caf::replies_to<remove_atom, std::string>::with<bool>,
    // Topics only: a destination to hand every message to, or one to stop handing them to
    // (topic_target); a queue ignores it.
    caf::reacts_to<target_atom, topic_target>,
    // Queues only: a sequence for a message stored by someone else for several queues at once
    // (a composite destination's or a virtual topic's, fanout.hpp), handed over with
    // enqueue_atom once stored. Answers the queue's store record and the sequence; a topic
    // refuses.
    caf::replies_to<reserve_atom>::with<uint32_t, uint64_t>,
    // A transaction's commit (transaction.hpp): sequences for its sends, not yet dispatchable.
    caf::replies_to<txn_put_atom, incoming_list>::with<prepared_sends>,
    // ... its acknowledgements of a subscription's deliveries: set aside for the commit's
    // deletes.
    caf::replies_to<txn_ack_atom, uint64_t, key_list>::with<prepared_acks>,
    // ... and how its store batch went.
    caf::reacts_to<txn_done_atom, transaction_settlement>,
    // Flow control (queue_flow_control.cpp): the store holds this queue's sends until it has
    // room (true) or holds none any more (false); the oldest held send's timeout may have
    // passed (sent to itself). A topic ignores both.
    caf::reacts_to<store_full_atom, bool>, caf::reacts_to<held_atom>>;

struct queue_settings {
  std::string name; // "queue://name"
  uint32_t destination_id = 0;
  uint64_t memory_limit_bytes = config::default_destination_memory_bytes;
  // Forwarded messages go back when no local consumer.
  bool replay_when_no_consumers = config::default_replay_when_no_consumers;
  std::chrono::milliseconds replay_delay{config::default_replay_delay_ms};
  demand_counter_actor demand_listener; // the broker
  // Record each delivery of a persistent message in the store before dispatching it (ActiveMQ's
  // persistJMSRedelivered), so that a message delivered before a crash comes back marked.
  bool persist_redelivered = config::default_store_persist_redelivered;
  // How long an auto acknowledgement's delete may wait for another store write to share its
  // commit; 0 writes it at once.
  std::chrono::milliseconds auto_ack_delay{config::default_store_auto_ack_delay_ms};
  // Redelivery policy, dead-letter strategy and expiry sweep (docs/redelivery.md), and where
  // dead letters are sent (the broker routes them to their queue).
  protocol::destination_policy policy;
  relocation_router_actor router;
  // Flow control (queue_flow_control.cpp). Which setting gave memory_limit_bytes, as the log
  // and the console name it.
  std::string memory_limit_source = "limits.destination_memory_bytes";
  // Over the memory limit a non-persistent send waits for room, or fails at once or after a
  // timeout (limits.send_fail_if_no_space, limits.send_fail_if_no_space_after_timeout_ms).
  bool send_fail_if_no_space = config::default_send_fail_if_no_space;
  std::chrono::milliseconds send_fail_after{config::default_send_fail_if_no_space_after_timeout_ms};
  uint64_t store_max_size_mb = config::default_store_max_size_mb; // named in the log
};

// A delivery on its way to a session, held until the store has recorded it (and every
// delivery before it has gone, so that a consumer sees the queue's order).
struct outgoing_delivery {
  consumer_actor session;
  uint64_t subscription = 0;
  uint64_t waits_for = 0; // the record write it waits for; 0 = none
  delivery message;
};

struct queue_state {
  static inline const char* name = "queue";

  explicit queue_state(caf::local_actor*) {}

  queue_settings settings;
  std::shared_ptr<storage::backend>
      db; // reads only (bodies, recovery); writes go to the store actor
  store_actor store;
  std::unique_ptr<queue_core> core;
  uint64_t next_sequence = 0;
  uint64_t enqueued = 0;
  uint64_t dequeued = 0;
  uint64_t duplicates = 0;
  uint64_t expired = 0;
  uint64_t dispatched = 0;
  uint64_t redelivered = 0;
  uint64_t recovered = 0;
  uint64_t handed_over = 0;          // taken over by bridges
  uint64_t in_transfer_at_start = 0; // left to the bridges at recovery
  size_t reported_local_consumers = 0;
  std::chrono::steady_clock::time_point no_local_since = std::chrono::steady_clock::now();
  bool replay_scheduled = false;
  std::unordered_map<uint64_t, consumer_actor> sessions; // by actor id
  // Flow control (queue_flow_control.cpp): non-persistent sends waiting for room under the
  // memory limit, in the order they came (accepted when there is room).
  struct held_send {
    caf::typed_response_promise<send_result> promise;
    incoming_message message;
    std::chrono::steady_clock::time_point deadline; // max(): waits as long as it takes
  };
  std::deque<held_send> held_sends;
  bool flow_control_logged = false;
  bool releasing = false;  // release_held_sends is running (accept() comes back to it)
  bool held_timer = false; // a held_atom is on its way
  bool store_full = false; // the store holds some of this queue's sends until it has room
  std::chrono::steady_clock::time_point store_full_since;
  uint64_t refused_sends = 0; // failed for want of room (at once or after the timeout)
  std::deque<outgoing_delivery> outbox;
  uint64_t record_writes = 0;      // record writes requested
  uint64_t record_writes_done = 0; // ... and answered (the store answers them in order)
  uint64_t records = 0;            // deliveries recorded before dispatch
  uint64_t premarked = 0;          // ... of which with the message's own put
  uint64_t record_failures = 0;
  uint64_t puts_in_flight = 0;           // persistent puts not yet answered by the store
  std::vector<uint64_t> waiting_deletes; // auto acknowledged, not yet sent to the store
  std::chrono::steady_clock::time_point waiting_deletes_since; // when the oldest came
  bool waiting_deletes_flush_scheduled = false;
  uint64_t deletes_shared = 0; // waiting deletes that went with another write
  // Dead letters and expiry (queue_dead_letters.cpp).
  uint64_t dead_lettered = 0;             // moved to a dead-letter queue
  uint64_t dropped = 0;                   // non-persistent dead letters dropped
  std::optional<int64_t> redeliver_timer; // when the redelivery timer fires, if set
  struct retry_count {
    caf::typed_response_promise<uint64_t> promise;
    uint64_t waiting = 0;
    uint64_t moved = 0;
  };
  // Retries waiting for their moves, by the sequence of each message moving.
  std::unordered_map<uint64_t, std::shared_ptr<retry_count>> retrying;
};

// Parts of the queue in files of their own.
// Loads the queue's messages and counters from the store (queue_recovery.cpp); on a store error
// the queue ends with it.
void recover_queue(queue_actor::stateful_pointer<queue_state> self,
                   const storage::destination_record& record);
// Dead letters, redelivery timers, expiry sweeps and retries (queue_dead_letters.cpp).
// Sets the core's policy and starts the sweep timer.
void start_dead_letters(queue_actor::stateful_pointer<queue_state> self);
// Moves, deletes or drops what the core gave up on; arms the redelivery timer.
void handle_dead_letters(queue_actor::stateful_pointer<queue_state> self);
void store_relocation(queue_actor::stateful_pointer<queue_state> self, relocation& r);
void relocation_done(queue_actor::stateful_pointer<queue_state> self, uint64_t sequence, bool ok);
void redeliver_due(queue_actor::stateful_pointer<queue_state> self);
void sweep_expired(queue_actor::stateful_pointer<queue_state> self);
caf::result<uint64_t> retry_dead_letters(queue_actor::stateful_pointer<queue_state> self,
                                         uint32_t max);
// Flow control (queue_flow_control.cpp). A non-persistent send: accepted now, held until the
// queue is under its memory limit again, or refused, as configured.
caf::result<send_result> send_non_persistent(queue_actor::stateful_pointer<queue_state> self,
                                             incoming_message& m);
// Accepts held sends while the queue is under its memory limit.
void release_held_sends(queue_actor::stateful_pointer<queue_state> self);
// Fails held sends whose timeout passed (held_atom).
void expire_held_sends(queue_actor::stateful_pointer<queue_state> self);
// The store holds this queue's sends (true) or holds none any more (false).
void store_full_changed(queue_actor::stateful_pointer<queue_state> self, bool held);
// Why producers are held ("memory limit N bytes", "store full"), empty if they are not.
std::string flow_control_reason(const queue_state& st);
// The queue's counters for actormq-debug and the console (queue_snapshot.cpp).
queue_snapshot make_queue_snapshot(const queue_state& st, size_t mailbox);

queue_actor::behavior_type queue_behavior(queue_actor::stateful_pointer<queue_state> self,
                                          queue_settings settings,
                                          std::shared_ptr<storage::backend> db, store_actor store,
                                          storage::destination_record record);

} // namespace actormq::actors
