// The envelope (envelope.proto) as the node stores and dispatches it: its encoding and the checks
// every protocol's messages pass. Plain C++ (no CAF).
#pragma once

#include "protocol/envelope.pb.h"
#include "protocol/error_code.hpp"

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace actormq::protocol {

using envelope = store::Envelope;

// JMS priorities.
constexpr int32_t min_priority = 0;
constexpr int32_t max_priority = 9;
constexpr int32_t default_priority = 4;

// The longest producer id a node takes (the store keys its audit by it).
constexpr size_t max_producer_id_bytes = 255;

// The envelope's bytes as the store keeps them: deterministic Protobuf serialization (map entries
// in key order), so that equal envelopes give equal bytes. Replaces what `out` held.
void encode_envelope(const envelope& e, std::string& out);

// False if `bytes` is not an envelope (nor a wire Message of an earlier build, which reads as one).
bool decode_envelope(std::string_view bytes, envelope& out);

// Why a producer's message cannot be taken, or code none.
struct envelope_refusal {
  error_code code = error_code::none;
  std::string text;
};
envelope_refusal check_envelope(const envelope& e);

// The text JMS gives a typed property read as a string ("true", "42", "1.5").
std::string property_text(const store::PropertyValue& v);

} // namespace actormq::protocol
