// What a session writes to its client: frames, answers, errors, deliveries, browse replies.
// Every function takes the session itself; a frame the session cannot encode is logged.
#pragma once

#include "actors/session.hpp"

#include <caf/io/broker.hpp>

#include <cstdint>
#include <string>

namespace actormq::actors {

using session_ptr = caf::io::stateful_broker<session_state>*;

void write_frame(session_ptr self, const wire::Frame& frame);
void write_error(session_ptr self, uint64_t correlation_id, uint32_t code, const std::string& text);
void write_error(session_ptr self, uint64_t correlation_id, const caf::error& err);
void write_receipt(session_ptr self, uint64_t correlation_id, uint64_t count,
                   uint64_t duplicates = 0);

// A fatal error: tell the client (correlation id 0), close the connection, end the session.
void fail(session_ptr self, wire::ErrorCode code, const std::string& text,
          uint64_t correlation_id = 0);

// A refused request: answered with an error when it has a correlation id; otherwise the client
// would never learn of it, so the connection closes with the error.
void refuse(session_ptr self, uint64_t corr, wire::ErrorCode code, const std::string& text);

void write_delivery(session_ptr self, delivery& d);

// Answers a browse with as many of `list` as fit in one frame, and the queue's depth.
void write_browse_reply(session_ptr self, uint64_t corr, const delivery_list& list,
                        uint64_t pending);

} // namespace actormq::actors
