// Private to the session's files: local transactions of one connection (docs/transactions.md).
// Sends and acknowledgements naming a transaction are held in the session until it ends; a
// commit hands them to a transaction actor (transaction.hpp), which applies them in one store
// batch; a rollback drops the sends and has the acknowledged deliveries redelivered. What a
// connection that ends still holds is dropped with the session: its held sends were never
// visible, and its queues redeliver whatever its consumers had not acknowledged.
#pragma once

#include "actors/session_output.hpp"

#include <cstdint>

namespace actormq::actors {

void handle_begin(session_ptr self, uint64_t request, const protocol::begin_command& begin);
void handle_commit(session_ptr self, uint64_t request, const protocol::commit_command& commit);
void handle_rollback(session_ptr self, uint64_t request,
                     const protocol::rollback_command& rollback);

// A send naming a transaction: held (answered at once when it wants an answer), or refused.
void hold_send(session_ptr self, uint64_t request, protocol::send_command& send);

// An acknowledgement (or rejection) of the consumer `consumer` naming a transaction.
void hold_ack(session_ptr self, uint64_t request, protocol::ack_command& ack,
              const session_state::consumer_entry& consumer);

} // namespace actormq::actors
