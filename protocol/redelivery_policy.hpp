// Redelivery and dead letters with ActiveMQ's names and defaults: the redelivery policy (how
// long a returned message waits before its next delivery, and after how many redeliveries it
// is dead), the dead-letter strategy (which queue receives it, and whether expired and
// non-persistent messages go there) and the per-destination policy entries that choose them by
// wildcard pattern. Plain C++ (no CAF).
#pragma once

#include "protocol/destination_pattern.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace actormq::protocol {

// ActiveMQ's RedeliveryPolicy.
struct redelivery_policy {
  int32_t maximum_redeliveries = 6; // -1: no limit; 0: never redelivered
  int64_t initial_redelivery_delay_ms = 1000;
  int64_t redelivery_delay_ms = 1000;
  bool use_exponential_back_off = false;
  double back_off_multiplier = 5;
  int64_t maximum_redelivery_delay_ms = -1; // -1: no maximum

  // The wait before redelivery number `redelivery` (1 = the first redelivery), as ActiveMQ's
  // consumer computes it: the first waits initialRedeliveryDelay; each later one
  // redeliveryDelay, or with exponential back-off the previous wait times backOffMultiplier,
  // held at maximumRedeliveryDelay (or redeliveryDelay if that is larger).
  int64_t delay_before(uint32_t redelivery) const;

  // Whether a message delivered `delivery_count` times has used up its redeliveries (its next
  // delivery would be redelivery number delivery_count).
  bool exhausted(uint32_t delivery_count) const {
    return maximum_redeliveries >= 0 &&
           delivery_count > static_cast<uint32_t>(maximum_redeliveries);
  }

  // "RedeliveryPolicy {maximumRedeliveries=6, ...}", as the dead-letter cause names it.
  std::string describe() const;
};

// ActiveMQ's dead-letter strategies: shared (every queue's dead letters in one queue,
// ActiveMQ.DLQ) or individual (one per queue, its name with a prefix: DLQ.orders).
struct dead_letter_strategy {
  bool individual = false;
  std::string dead_letter_queue = "ActiveMQ.DLQ"; // shared
  std::string queue_prefix = "DLQ.";              // individual
  bool process_expired = true;                    // expired persistent messages go there
  bool process_non_persistent = false;            // non-persistent ones are dropped if false

  // The canonical dead-letter queue ("queue://ActiveMQ.DLQ") of a canonical queue name.
  std::string target_for(const std::string& canonical_queue) const;
};

// One policy entry of the node configuration: the destinations its pattern matches get its
// policy and strategy.
struct destination_policy {
  destination_pattern pattern;
  redelivery_policy redelivery;
  dead_letter_strategy dead_letter;
  int64_t expire_messages_period_ms = 30000; // 0: no periodic expiry sweep
  // ActiveMQ's policyEntry memoryLimit: bodies the queue holds in memory (flow control); unset:
  // the node's limits.destination_memory_bytes.
  std::optional<uint64_t> memory_limit_bytes;
};

// The entry for a destination: of those whose pattern matches, the most specific (the one with
// the most literal elements; an exact name beats every wildcard; among equals the first in the
// configuration); nothing if none matches.
const destination_policy* policy_for(const std::vector<destination_policy>& entries,
                                     const std::string& canonical_name);

// The dead-letter cause ActiveMQ writes for a message over its redelivery limit:
// "Delivery[7] exceeds redelivery policy limit:RedeliveryPolicy {...}".
std::string redelivery_exceeded_cause(uint32_t delivery_count, const redelivery_policy& p);

// The cause of an expired message's dead letter.
inline const std::string expired_cause = "expired";

// Sets one option of a client's redelivery policy from ActiveMQ's connection URI name
// ("maximumRedeliveries", "initialRedeliveryDelay", "redeliveryDelay", "useExponentialBackOff",
// "backOffMultiplier", "maximumRedeliveryDelay"; the part after "jms.redeliveryPolicy.").
// False, with `error` set, for an unknown name or a value that does not parse or is out of
// range (a negative delay, a multiplier below 1, maximumRedeliveries below -1).
bool set_redelivery_option(redelivery_policy& p, const std::string& name, const std::string& value,
                           std::string& error);

// Whether a policy's values are in range; `error` names the first one that is not.
bool valid(const redelivery_policy& p, std::string& error);

} // namespace actormq::protocol
