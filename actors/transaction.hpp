// The commit of one local transaction (docs/transactions.md). A session spawns one per commit
// with what the transaction held; it lives until the commit is answered, whatever becomes of
// the session, so that a commit under way is finished (or undone) even if its client leaves.
//
// The commit: every queue and topic the transaction touches prepares its part (its sends get
// sequences, its acknowledged deliveries are set aside), then all puts and deletes go to the
// store actor in ONE write, which is one store transaction answered after it is durable; then
// each destination learns the outcome (its sends become dispatchable; its deletes are done, or
// their messages pending again). If a destination cannot prepare, or the store fails the write,
// nothing of the transaction is applied: what was set aside returns to its queue.
#pragma once

#include "actors/atoms.hpp"
#include "actors/queue.hpp"
#include "actors/store_actor.hpp"
#include "actors/transaction_messages.hpp"

#include <caf/allowed_unsafe_message_type.hpp>
#include <caf/typed_actor.hpp>
#include <caf/typed_event_based_actor.hpp>
#include <caf/typed_response_promise.hpp>

#include <cstdint>
#include <string>
#include <vector>

namespace actormq::actors {

// What a transaction holds when it commits: sends grouped by destination (in the order sent),
// acknowledgements (and rejections, STOMP's NACK) by subscription.
struct transaction_plan {
  struct send_group {
    queue_actor queue;
    incoming_list messages;
  };
  struct ack_group {
    queue_actor queue;
    uint64_t subscription = 0;
    key_list keys;
    bool reject = false; // redelivered after the commit instead of deleted
  };
  std::vector<send_group> sends;
  std::vector<ack_group> acks;
};

// A commit's answer: sends applied (duplicates among them: resends the producer audit
// recognised, stored before) and deliveries acknowledged.
struct transaction_result {
  uint64_t sends = 0;
  uint64_t duplicates = 0;
  uint64_t acknowledged = 0;
};

} // namespace actormq::actors

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(actormq::actors::transaction_result)

namespace actormq::actors {

using transaction_actor = caf::typed_actor<caf::replies_to<commit_atom>::with<transaction_result>>;

struct transaction_state {
  static inline const char* name = "transaction";

  transaction_plan plan;
  store_actor store;
  caf::typed_response_promise<transaction_result> promise;
  std::vector<prepared_sends> prepared_sends_of; // by plan.sends index
  std::vector<prepared_acks> prepared_acks_of;   // by plan.acks index
  size_t waiting = 0;                            // prepare answers still to come
  caf::error failure;                            // the first prepare that failed
};

transaction_actor::behavior_type
transaction_behavior(transaction_actor::stateful_pointer<transaction_state> self,
                     transaction_plan plan, store_actor store);

} // namespace actormq::actors
