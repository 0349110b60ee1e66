// A wire Message (actormq.proto) as an envelope and back: what the Protobuf codec sends and
// delivers. Plain C++ (no CAF).
#pragma once

#include "protocol/actormq.pb.h"
#include "protocol/envelope.hpp"

#include <string_view>

namespace actormq::protocol {

// A producer's message as the node keeps it. Takes the body and properties from `m`. The origin
// fields are left empty: the node sets them (origin_stamp.hpp).
void to_envelope(wire::Message& m, envelope& out);

// A stored envelope as a consumer receives it. Takes the body and properties from `e`.
void to_wire(envelope& e, wire::Message& out);

// True if every top-level field of the encoded envelope is one a wire Message has (numbers 1-15,
// the same types): then the bytes are that Message's encoding as they are. False for an envelope
// with a body type or a message id, and for bytes that do not parse.
bool is_wire_message(std::string_view envelope_bytes);

} // namespace actormq::protocol
