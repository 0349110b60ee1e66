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
void delivery_written(session_ptr self, session_state::consumer_entry& consumer, uint64_t key);

// session_core.cpp: answers a disconnect that waits for earlier requests once they are answered
// (and ends the connection); nothing while one still waits.
void disconnect_if_due(session_ptr self);

// session_routes.cpp: destinations beyond one named queue or topic.
// The actor of a parsed destination (a consumer's may be a wildcard topic). A temporary
// destination this connection owns is made by the broker on its first use.
void with_destination(session_ptr self, protocol::destination d, destination_resolver::ready_fn fn,
                      destination_resolver::fail_fn on_error);
// Whether this connection owns a temporary destination: its name is "ID:<connection id>:..."
// with the connection's client id (or, without one, an id the node makes for it).
bool owns_temporary(const session_state& st, const protocol::destination& d);
std::string connection_id(const session_state& st);
// Opens a consumer on several destinations (composite, queue wildcards); answers the request
// once every destination that exists now is subscribed.
void open_multi_consumer(session_ptr self, uint64_t request, uint64_t id,
                         std::vector<protocol::destination_pattern> patterns);
// A delivery for a part of a multi consumer: gets the client's consumer id and the session's
// key; the consumer, or null if the part is gone (dropped: the queue redelivers it).
session_state::consumer_entry* multi_delivery(session_ptr self, delivery& d);
void multi_ack(session_ptr self, uint64_t request, session_state::consumer_entry& c, key_list keys,
               bool reject);
void multi_credit(session_ptr self, session_state::consumer_entry& c, uint32_t credit);
void multi_close(session_ptr self, uint64_t request, uint64_t id);
void multi_delivery_written(session_ptr self, session_state::consumer_entry& c, uint64_t key);
// A queue was created: consumers whose queue wildcards match it subscribe to it.
void queue_created(session_ptr self, const std::string& name);
// A destination actor went down: parts on it go.
void destination_gone(session_ptr self, const caf::actor_addr& actor);
// A send to a composite destination: every part gets it, stored once (fanout.hpp).
void send_to_composite(session_ptr self, std::vector<protocol::destination> parts,
                       incoming_message in, destination_resolver::fail_fn on_error,
                       std::function<void(send_result&)> on_done);

// session.cpp: flow control of unanswered sends. The session stops reading beyond the limits of
// its context and reads again once half of them are answered.
void send_started(session_ptr self, uint64_t bytes);
void send_answered(session_ptr self, uint64_t bytes);

// session.cpp: the client said it is leaving; the session ends once nothing waits for a queue.
void client_leaves(session_ptr self);

} // namespace actormq::actors
