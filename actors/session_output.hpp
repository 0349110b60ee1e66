// What a session writes to its client: events (protocol/session_commands.hpp) encoded by the
// connection's codec. Every function takes the session itself; an event the codec cannot encode
// is logged.
#pragma once

#include "actors/session.hpp"

#include <cstdint>
#include <string>

namespace actormq::actors {

using session_ptr = session_actor::stateful_broker_pointer<session_state>;

// Encodes and writes one event answering `request_id` (0: not an answer). Once the session is
// closing only errors are written.
void emit(session_ptr self, uint64_t request_id, const protocol::event& ev);

void write_error(session_ptr self, uint64_t request_id, protocol::error_code code,
                 const std::string& text);
void write_error(session_ptr self, uint64_t request_id, const caf::error& err);
// Nothing for request id 0 (the client wants no answer).
void write_receipt(session_ptr self, uint64_t request_id, uint64_t count, uint64_t duplicates = 0);

// A fatal error: tell the client, close the connection, end the session.
void fail(session_ptr self, protocol::error_code code, const std::string& text,
          uint64_t request_id = 0);

// A refused request: answered with an error when it has a request id; otherwise the client
// would never learn of it, so the connection closes with the error.
void refuse(session_ptr self, uint64_t request_id, protocol::error_code code,
            const std::string& text);

// False if it was not written (the session is closing, or the codec could not encode it).
bool write_delivery(session_ptr self, const delivery& d);

// Answers a browse with the messages (as many as the protocol fits) and the queue's depth.
void write_browse_reply(session_ptr self, uint64_t request_id, const delivery_list& list,
                        uint64_t pending);

} // namespace actormq::actors
