// The logic of one queue, without CAF: pending messages (keys, and bodies while memory allows)
// in message priority order, consumers with priority, credit and selectors, round-robin
// dispatch, in-flight deliveries, redelivery of what a closed consumer had not acknowledged,
// and the memory account that drives producer flow control. The queue actor drives it; tests
// drive it directly.
#pragma once

#include "protocol/redelivery_policy.hpp"
#include "protocol/selector.hpp"

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

namespace actormq::actors {

struct queued_message {
  uint64_t sequence = 0;
  uint32_t size = 0;
  int64_t expiration_ms = 0; // absolute; 0 = never
  int32_t priority = 4;      // JMS priority 0..9: higher is dispatched first
  bool persistent = true;
  bool redelivered = false;
  uint32_t delivery_count = 0; // deliveries so far
  // The delivery count the store holds for it: a dispatch that would go beyond it is recorded
  // in the store first, so that a crash cannot take the redelivered mark back.
  uint32_t recorded_deliveries = 0;
  bool forwarded = false; // came from another node: network consumers get it on replay only
  std::shared_ptr<const std::string> body; // null: read it from the store when dispatched
  // JMSXGroupID (empty: no group) and JMSXGroupSeq (-1 closes the group; docs/groups.md).
  std::string group;
  int32_t group_sequence = 0;
};

// One dispatch decided by the core.
struct dispatch_decision {
  uint64_t subscription = 0;
  uint64_t owner = 0;       // the session that owns the consumer
  uint64_t consumer_id = 0; // the client's id
  bool network = false;     // the consumer is a bridge
  queued_message message;   // delivery_count already counts this delivery
};

// What an acknowledgement touched.
struct ack_outcome {
  std::vector<uint64_t> persistent_keys; // to delete from the store
  uint64_t acknowledged = 0;             // in-flight deliveries removed (persistent or not)
  std::vector<uint64_t> unknown_keys;    // not in flight for that consumer
};

// A message that will not be delivered again: over its redelivery limit, or expired.
struct dead_letter {
  queued_message message;
  std::string cause; // dlqDeliveryFailureCause
  bool expired = false;
};

// Reads a stored message's encoded envelope (for selectors, when its body is not in memory);
// nothing if it cannot be read.
using payload_reader = std::function<std::optional<std::string>(uint64_t sequence)>;

class queue_core {
public:
  explicit queue_core(uint64_t memory_limit_bytes, payload_reader reader = {});

  // A message that may now be dispatched (after its commit, if persistent). The body is kept
  // in memory if the message is non-persistent or the memory limit allows; otherwise dropped.
  void enqueue(queued_message message);

  // Adds a consumer; returns its subscription id (unique within the queue).
  // A network consumer (a bridge) is not local demand and gets forwarded messages only when
  // `replay_forwarded` is passed to next_dispatch (no bouncing between nodes).
  // A consumer with a selector gets only the messages it matches; the others stay for other
  // consumers. Adding one evaluates it once on every pending message; later, each message is
  // evaluated once per selector consumer as it becomes pending, so dispatch never scans the
  // pending messages.
  // An exclusive consumer (ActiveMQ's consumer.exclusive) gets every message while it is the
  // queue's exclusive owner: the exclusive consumer of the highest priority, the earliest added
  // among equals; the others wait until it goes.
  uint64_t add_consumer(uint64_t owner, uint64_t consumer_id, uint32_t credit, int32_t priority,
                        bool network = false,
                        std::shared_ptr<const protocol::selector> selector = nullptr,
                        bool exclusive = false);

  // Removes a consumer; its unacknowledged deliveries return to the queue, marked redelivered,
  // at once (as ActiveMQ's, whose delays are the session's on rollback or recover) unless the
  // redelivery limit makes them dead letters (return_message). Returns how many returned; false if
  // the subscription is unknown.
  std::optional<uint64_t> remove_consumer(uint64_t subscription);

  // Returns in-flight deliveries of a consumer to the queue, marked redelivered, as the
  // redelivery policy says (the client refused them: STOMP's NACK). Keys not in flight to it are
  // skipped. Returns how many returned; nothing if the subscription is unknown.
  std::optional<uint64_t> return_deliveries(uint64_t subscription,
                                            const std::vector<uint64_t>& keys);

  // Every subscription of one owner (a session that went away).
  std::vector<uint64_t> subscriptions_of(uint64_t owner) const;

  // More credit for a consumer; false if unknown.
  bool add_credit(uint64_t subscription, uint32_t credit);

  // The next dispatch, or nothing (no message, or no consumer with credit). Expired messages
  // met on the way are removed, their keys appended to `expired` and the messages kept for
  // take_dead_letters (persistent ones go to a dead-letter queue or are deleted from the store).
  std::optional<dispatch_decision> next_dispatch(int64_t now_ms, std::vector<uint64_t>& expired,
                                                 bool replay_forwarded = false);

  // Removes in-flight deliveries of a consumer without counting them as acknowledged (a bridge
  // took them over: they are marked as in transfer in the store). Returns how many.
  uint64_t hand_over(uint64_t subscription, const std::vector<uint64_t>& keys);

  // The store now holds `count` deliveries of an in-flight message.
  void set_recorded(uint64_t subscription, uint64_t key, uint32_t count);

  // True if the message is in flight to that subscription.
  bool in_flight_to(uint64_t subscription, uint64_t key) const;

  // Credit of the local (non-network) consumers, summed.
  uint64_t local_credit() const;

  // A dispatched message whose body could not be read goes back, for the next try.
  void undo_dispatch(const dispatch_decision& decision);

  // Acknowledges deliveries of one consumer. Its persistent messages wait (not pending, not
  // in flight) until settle_deletes says whether their deletes committed.
  std::optional<ack_outcome> acknowledge(uint64_t subscription, const std::vector<uint64_t>& keys);

  // Removes every pending (not in-flight) message, and those waiting for redelivery; returns the
  // persistent keys to delete and the total count. The persistent messages wait for settle_deletes,
  // as acknowledged ones do.
  std::pair<std::vector<uint64_t>, uint64_t> purge();

  // The deletes of `keys` (acknowledged or purged) are done; those in `failed` did not commit
  // and are pending again, ahead of fresh messages, marked redelivered if they had been
  // delivered (the store still holds them: a restart would bring them back). Returns how
  // many came back.
  uint64_t settle_deletes(const std::vector<uint64_t>& keys, const std::vector<uint64_t>& failed);

  // --- Redelivery policy, dead letters and expiry (queue_core_redelivery.cpp) ---

  // The policy for returned messages. Without one (the default) a returned message is pending
  // again at once, with no limit.
  void set_redelivery_policy(std::optional<protocol::redelivery_policy> policy) {
    policy_ = std::move(policy);
  }
  // A consumer's own policy (its connection's), used for what it returns; false if unknown.
  bool set_consumer_policy(uint64_t subscription, protocol::redelivery_policy policy);
  // Where the time comes from (milliseconds since the epoch); tests set their own.
  void set_clock(std::function<int64_t()> clock) { clock_ = std::move(clock); }

  // A message back from a consumer (closed, died, refused it, rolled back) under `policy`:
  // over its redelivery limit it is a dead letter (take_dead_letters); else, refused or rolled
  // back (`delayed`), it waits its redelivery delay (release_due); otherwise, or with no delay,
  // it is pending again at once.
  void return_message(queued_message m, const protocol::redelivery_policy* policy, bool delayed);

  // Messages whose redelivery delay has passed by `now_ms` become pending (ahead of fresh
  // ones). Returns how many.
  uint64_t release_due(int64_t now_ms);
  // When the next waiting message is due; nothing if none waits.
  std::optional<int64_t> next_due() const;
  uint64_t waiting_redelivery() const noexcept { return delayed_.size(); }

  // Removes up to `max` pending messages whose time to live ran out by `now_ms` (for
  // take_dead_letters); the work is bounded by `max`, however many are pending. Returns how
  // many.
  uint64_t sweep_expired(int64_t now_ms, size_t max);

  // The dead letters since the last call (over their limit, or expired), for the queue to move
  // to a dead-letter queue, delete or drop. Their bodies are null if persistent.
  std::vector<dead_letter> take_dead_letters();

  // Up to `max` pending persistent messages in dispatch order, taken out of the queue (the
  // store can move them; non-persistent ones stay): they wait, as
  // acknowledged ones do, until settle_deletes says whether they left the store (moved to
  // another destination) or are pending again. Bodies may be null.
  std::vector<queued_message> take_pending(size_t max);
  // One message, as take_pending does (a dead letter on its way to its queue, which must not
  // be pending meanwhile).
  void hold_for_removal(queued_message m);

  // Up to `max` pending messages in dispatch order, then those waiting for their redelivery
  // delay (bodies may be null: read from the store).
  std::vector<queued_message> browse(size_t max) const;

  bool over_memory_limit() const noexcept { return memory_bytes_ > memory_limit_; }
  uint64_t memory_bytes() const noexcept { return memory_bytes_; }
  // Pending messages: the open ones, those of owned groups, those waiting for their redelivery
  // delay.
  uint64_t pending() const noexcept { return pending_.size() + owned_count_ + delayed_.size(); }
  uint64_t in_flight() const noexcept { return in_flight_count_; }
  uint64_t deleting() const noexcept { return deleting_.size(); }
  size_t consumers() const noexcept { return consumers_.size(); }
  size_t local_consumers() const;
  // True if a pending message is forwarded and waits for a replay.
  bool holds_forwarded() const;
  bool has_consumer_with_credit() const;
  size_t selector_consumers() const noexcept { return selector_consumers_; }
  // Selector evaluations so far (each message once per selector consumer).
  uint64_t selector_evaluations() const noexcept { return selector_evaluations_; }
  // Message groups (JMSXGroupID) owned by a consumer now, and the owner of one (0: none).
  size_t owned_groups() const;
  uint64_t group_owner(const std::string& group) const;
  // The exclusive consumer that takes every message now (0: none).
  uint64_t exclusive_owner() const noexcept { return exclusive_owner_; }

private:
  // Dispatch order: higher priority first; within a priority, redeliveries (by key) before
  // fresh messages (in arrival order).
  struct order_key {
    uint32_t rank = 0; // (max priority - priority) * 2, + 1 for a fresh message
    uint64_t number = 0;
    bool operator<(const order_key& o) const {
      return rank != o.rank ? rank < o.rank : number < o.number;
    }
    bool operator==(const order_key& o) const { return rank == o.rank && number == o.number; }
  };
  using pending_map = std::map<order_key, queued_message>;

  struct consumer {
    uint64_t owner = 0;
    uint64_t consumer_id = 0;
    uint64_t credit = 0;
    int32_t priority = 0;
    bool network = false;
    std::shared_ptr<const protocol::selector> selector;
    // Pending messages the selector matched, in dispatch order.
    std::set<order_key> matches;
    std::unordered_map<uint64_t, queued_message> in_flight;
    bool exclusive = false;
    // Pending messages of the groups this consumer owns, kept out of pending_ so that a group
    // whose owner has no credit never holds up the others (queue_groups.cpp).
    pending_map owned;
    std::set<std::string> groups;
    std::optional<protocol::redelivery_policy> policy; // the connection's own, if it gave one
  };

  // A message group: its owner (0: none yet, or closed) and its pending messages, which are in
  // the owner's `owned` map while it has one and in pending_ otherwise.
  struct group_state {
    uint64_t owner = 0;
    std::set<order_key> keys;
  };

  consumer* pick_consumer(const order_key& key, const queued_message& m, bool replay_forwarded,
                          uint64_t& subscription);
  // When the head of the queue goes to nobody: the earliest message a selector consumer with
  // credit matched, if any.
  std::optional<dispatch_decision> dispatch_selected(int64_t now_ms, std::vector<uint64_t>& expired,
                                                     bool replay_forwarded);
  dispatch_decision take(pending_map::iterator i, consumer& c, uint64_t subscription);
  // Puts a message in flight to a consumer (one credit).
  dispatch_decision hand_to(queued_message m, consumer& c, uint64_t subscription);
  // Removes a message from pending_ and from the selectors' matches.
  void erase_pending(pending_map::iterator i);
  // Puts a message in pending_ (fresh or returned) and notes the selectors it matches.
  void admit(queued_message m, bool returned);
  void note_matches(const order_key& key, const queued_message& m, consumer* only = nullptr);
  bool is_expired(const queued_message& m, int64_t now_ms) const {
    return m.expiration_ms > 0 && m.expiration_ms <= now_ms;
  }
  // Message groups and exclusive consumers (queue_groups.cpp).
  // The message went to a consumer: its group is assigned to it, or closed (JMSXGroupSeq -1).
  void group_taken(const std::string& group, int32_t group_sequence, const order_key& key,
                   uint64_t subscription);
  // The group's pending messages go from its owner's `owned` map back to pending_.
  void unassign_group(const std::string& group);
  // Drops a pending message's key from its group (expired or purged).
  void forget_group_key(const std::string& group, const order_key& key);
  // The earliest owned message some consumer with credit may take (expiring those met).
  std::optional<std::pair<uint64_t, pending_map::iterator>>
  find_owned(int64_t now_ms, std::vector<uint64_t>& expired, bool replay_forwarded);
  dispatch_decision take_owned(uint64_t subscription, pending_map::iterator i);
  // The head of pending_ (or a selector's match) to a consumer with credit.
  std::optional<dispatch_decision> dispatch_open(int64_t now_ms, std::vector<uint64_t>& expired,
                                                 bool replay_forwarded);
  void choose_exclusive_owner();
  bool excluded(uint64_t subscription) const {
    return exclusive_owner_ != 0 && subscription != exclusive_owner_;
  }

  // Removes an expired pending message and keeps it as a dead letter; appends its key.
  void expire(pending_map::iterator i, std::vector<uint64_t>& expired);
  // Keeps a message already taken out of its map as a dead letter; appends its key.
  void expire_taken(queued_message m, std::vector<uint64_t>& expired);
  // Expires the message of an owned group with this key, if a consumer holds one
  // (queue_groups.cpp).
  bool expire_owned(const order_key& key, std::vector<uint64_t>& expired);
  // Takes a message out of a consumer's owned map, with its group key and expiry entry.
  queued_message take_out_owned(consumer& c, pending_map::iterator i);
  const protocol::redelivery_policy* policy_of(const consumer& c) const {
    return c.policy ? &*c.policy : policy_ ? &*policy_ : nullptr;
  }
  void hold(queued_message& m);    // accounts a body kept in memory
  void release(queued_message& m); // drops the body from memory and the account

  uint64_t memory_limit_;
  payload_reader reader_;
  uint64_t memory_bytes_ = 0;
  uint64_t next_subscription_ = 1;
  uint64_t next_arrival_ = 0;
  uint64_t in_flight_count_ = 0;
  uint64_t rr_cursor_ = 0; // last subscription served, for round robin
  size_t selector_consumers_ = 0;
  uint64_t selector_evaluations_ = 0;
  pending_map pending_;
  std::map<uint64_t, consumer> consumers_;              // by subscription id
  std::unordered_map<std::string, group_state> groups_; // by JMSXGroupID
  uint64_t owned_count_ = 0;                            // messages in consumers' `owned`
  uint64_t exclusive_owner_ = 0;
  std::unordered_map<uint64_t, queued_message> deleting_; // acknowledged or purged, by key
  // Redelivery and expiry (queue_core_redelivery.cpp).
  std::optional<protocol::redelivery_policy> policy_;
  std::function<int64_t()> clock_;
  // Returned messages waiting for their delay, by (when due, sequence).
  std::map<std::pair<int64_t, uint64_t>, queued_message> delayed_;
  // Pending messages that expire, by expiration: the sweep takes the expired ones from the front.
  std::set<std::pair<int64_t, order_key>> expiring_;
  std::vector<dead_letter> dead_letters_;
};

} // namespace actormq::actors
