// The logic of one topic, without CAF: subscribers with credit, each with its own pending list
// of what was published while it was subscribed, bodies held once however many subscribers
// share them, in-flight deliveries that an acknowledgement frees, and the limits that hold a
// publisher back while a subscriber is slow. The topic actor drives it; tests drive it directly.
#pragma once

#include "actors/slow_subscriber_policy.hpp"
#include "protocol/selector.hpp"

#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

namespace actormq::actors {

struct topic_message {
  uint64_t sequence = 0;
  bool persistent = true;
  int32_t priority = 4;
  int64_t expiration_ms = 0; // absolute; 0 = never
  std::shared_ptr<const std::string> body;
};

// One delivery decided by the core.
struct topic_dispatch {
  uint64_t subscription = 0;
  uint64_t owner = 0;       // the session that owns the subscriber
  uint64_t consumer_id = 0; // the client's id
  topic_message message;
};

// A subscriber's pending messages dropped by slow_subscriber_policy::drop_oldest.
struct topic_discards {
  uint64_t owner = 0;
  uint64_t consumer_id = 0;
  uint64_t discarded = 0;
};

class topic_core {
public:
  // `subscriber_pending_limit`: messages one subscriber may have waiting for credit before the
  // publisher is held; `memory_limit_bytes`: bodies held for all subscribers together.
  // `slow`: what a subscriber over its pending limit means (slow_subscriber_policy.hpp).
  topic_core(uint64_t subscriber_pending_limit, uint64_t memory_limit_bytes,
             slow_subscriber_policy slow = slow_subscriber_policy::block);

  // Adds a subscriber; returns its subscription id (unique within the topic). It receives what
  // is published from now on (with a selector: what it matches).
  uint64_t add_subscriber(uint64_t owner, uint64_t consumer_id, uint32_t credit,
                          std::shared_ptr<const protocol::selector> selector = nullptr);

  // Removes a subscriber; what it had pending or in flight is dropped. Returns how many
  // messages were dropped; nothing if the subscription is unknown.
  std::optional<uint64_t> remove_subscriber(uint64_t subscription);

  // Every subscription of one owner (a session that went away).
  std::vector<uint64_t> subscriptions_of(uint64_t owner) const;

  // More credit for a subscriber; false if unknown.
  bool add_credit(uint64_t subscription, uint32_t credit);

  // Queues a message for every current subscriber; returns for how many (0: nobody got it).
  size_t publish(const topic_message& message);

  // Every delivery the subscribers' credit allows now, each subscriber's in publish order.
  // Expired messages met on the way are dropped and counted (expired()).
  std::vector<topic_dispatch> take_dispatches(int64_t now_ms);

  // Acknowledges in-flight deliveries of a subscriber (frees its window). Returns how many
  // were in flight; nothing if the subscription is unknown.
  std::optional<uint64_t> acknowledge(uint64_t subscription, const std::vector<uint64_t>& keys);

  // True while a subscriber has more than its pending limit waiting (policy block) or the bodies
  // held are over the memory limit: the publisher waits.
  bool over_limit() const;

  size_t subscribers() const noexcept { return subscribers_.size(); }
  uint64_t pending() const noexcept { return pending_count_; } // over all subscribers
  uint64_t in_flight() const noexcept { return in_flight_count_; }
  uint64_t memory_bytes() const noexcept { return memory_bytes_; }
  uint64_t expired() const noexcept { return expired_; }
  uint64_t most_pending() const; // the longest pending list of one subscriber
  // Pending messages dropped for slow subscribers (drop_oldest), those that left included.
  uint64_t discarded() const noexcept { return discarded_; }
  // The current subscribers that dropped any.
  std::vector<topic_discards> discards() const;

private:
  struct subscriber {
    uint64_t owner = 0;
    uint64_t consumer_id = 0;
    uint64_t credit = 0;
    std::shared_ptr<const protocol::selector> selector;
    std::deque<topic_message> pending;
    std::set<uint64_t> in_flight;
    uint64_t discarded = 0;
  };
  struct held_body {
    uint64_t bytes = 0;
    size_t references = 0; // pending entries that point at it
  };

  void release(uint64_t sequence);    // one pending entry no longer needs the body
  void drop_oldest_of(subscriber& s); // as the slow-subscriber policy says

  uint64_t subscriber_pending_limit_;
  uint64_t memory_limit_;
  slow_subscriber_policy slow_;
  uint64_t memory_bytes_ = 0;
  uint64_t next_subscription_ = 1;
  uint64_t pending_count_ = 0;
  uint64_t in_flight_count_ = 0;
  uint64_t expired_ = 0;
  uint64_t discarded_ = 0;
  std::map<uint64_t, subscriber> subscribers_;     // by subscription id
  std::unordered_map<uint64_t, held_body> bodies_; // by message sequence
};

} // namespace actormq::actors
