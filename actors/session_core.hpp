// Private to the session's files: the core that acts on commands (session_core.cpp) and what it
// needs of the connection side (session.cpp).
#pragma once

#include "actors/session_output.hpp"

#include <cstdint>

namespace actormq::actors {

// session_core.cpp: acts on one command the codec made (connect, send, consumers, acks, ...).
void handle_command(session_ptr self, protocol::command& cmd);

// session_core.cpp: a delivery to a consumer the node acknowledges for (STOMP's ack:auto) was
// written: acknowledge it and give its credit back.
void delivery_written(session_ptr self, const session_state::consumer_entry& consumer,
                      uint64_t key);

// session_core.cpp: answers a disconnect that waits for earlier requests once they are answered
// (and ends the connection); nothing while one still waits.
void disconnect_if_due(session_ptr self);

// session.cpp: flow control of unanswered sends. The session stops reading beyond the limits of
// its context and reads again once half of them are answered.
void send_started(session_ptr self, uint64_t bytes);
void send_answered(session_ptr self, uint64_t bytes);

// session.cpp: the client said it is leaving; the session ends once nothing waits for a queue.
void client_leaves(session_ptr self);

} // namespace actormq::actors
