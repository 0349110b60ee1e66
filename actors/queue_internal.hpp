// What the queue actor's files share of its work (queue.cpp, queue_auto_acks.cpp,
// queue_transactions.cpp); its interface is queue.hpp. Defined in queue.cpp unless said otherwise.
#pragma once

#include "actors/queue.hpp"

#include <caf/expected.hpp>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace actormq::actors::queue_detail {

using self_ptr = queue_actor::stateful_pointer<queue_state>;

// Dispatches what the consumers' credit allows.
void dispatch(self_ptr self);

// A message may be dispatched now (after its commit, if persistent).
void accept(self_ptr self, uint64_t sequence, const incoming_message& m,
            std::shared_ptr<const std::string> body, uint32_t recorded_deliveries = 0);

// Deletes of acknowledged or purged messages are done: those that failed are pending again.
void settle_deletes(self_ptr self, const std::vector<uint64_t>& keys,
                    const std::vector<uint64_t>& failed, const caf::error& err, const char* what);

// Acknowledges deliveries of a subscription in the core (their deletes are the caller's), or
// the error of an unknown subscription.
caf::expected<ack_outcome> acknowledge(self_ptr self, uint64_t sub, const key_list& keys);

// The waiting deletes of auto acknowledgements go to the store in a write of their own.
void flush_waiting_deletes(self_ptr self);

// queue_auto_acks.cpp: an auto acknowledgement, whose deletes wait to share a commit; and the
// flush of those that waited long enough (flush_atom).
void auto_acknowledge(self_ptr self, uint64_t sub, const key_list& keys);
void flush_when_due(self_ptr self);

// queue_transactions.cpp: a transaction's sends get their sequences; its acknowledgements are
// set aside for its commit; the commit's outcome settles both.
prepared_sends prepare_sends(self_ptr self, incoming_list& messages);
caf::result<prepared_acks> prepare_acks(self_ptr self, uint64_t sub, const key_list& keys);
void settle_transaction(self_ptr self, transaction_settlement& done);

} // namespace actormq::actors::queue_detail
