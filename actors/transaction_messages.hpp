// What a transaction's commit (actors/transaction.hpp) asks of the queues and topics it touches,
// and what they answer. A commit has every destination prepare its part (sequences for the
// sends, acknowledged deliveries set aside), writes all of it in one store batch, then tells
// each destination how it went (docs/transactions.md).
#pragma once

#include "actors/messages.hpp"

#include <caf/meta/type_name.hpp>

#include <cstdint>
#include <string>
#include <vector>

namespace actormq::actors {

using incoming_list = std::vector<incoming_message>;

// A destination's sends of one transaction, given sequences (messages[i] has
// first_sequence + i) and stamped with their origin identity; not yet dispatchable. A queue's
// persistent ones are put in the commit's batch under `destination_id`; a topic publishes its
// messages once the commit is done (publish_after_commit).
struct prepared_sends {
  uint32_t destination_id = 0;
  uint64_t first_sequence = 0;
  bool publish_after_commit = false;
  incoming_list messages;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, prepared_sends& x) {
  return f(caf::meta::type_name("prepared_sends"), x.destination_id, x.first_sequence,
           x.publish_after_commit, x.messages);
}

// A subscription's deliveries acknowledged by a transaction: no longer in flight; the
// persistent ones wait for the commit's deletes.
struct prepared_acks {
  uint32_t destination_id = 0;
  key_list persistent_keys;
  uint64_t acknowledged = 0;
};

template <class Inspector> typename Inspector::result_type inspect(Inspector& f, prepared_acks& x) {
  return f(caf::meta::type_name("prepared_acks"), x.destination_id, x.persistent_keys,
           x.acknowledged);
}

// How a commit went for one destination: the sends it may now dispatch (those stored, or
// non-persistent, none if the commit failed), and its deletes: done, or failed (those messages
// are pending again, marked redelivered).
struct transaction_settlement {
  std::vector<uint64_t> sequences;
  incoming_list messages;
  key_list deleted;
  key_list failed_deletes;
  std::string failure; // why deletes failed, for the log
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, transaction_settlement& x) {
  return f(caf::meta::type_name("transaction_settlement"), x.sequences, x.messages, x.deleted,
           x.failed_deletes, x.failure);
}

} // namespace actormq::actors
