// The node's origin identity in a stored message: the UUID of the store that first took it and
// its sequence there. The queue that assigns the sequence stamps the serialized Message without
// parsing it. Plain C++ (no CAF).
#pragma once

#include "protocol/varint.hpp"

#include <cstdint>
#include <string>
#include <string_view>

namespace actormq::protocol {

// The most bytes origin_stamp adds for a store id of `store_id_bytes`: two field tags, the id's
// length and the id, and the sequence (at most 10 bytes).
constexpr size_t origin_stamp_bytes(size_t store_id_bytes) {
  return 1 + varint_bytes(store_id_bytes) + store_id_bytes + 1 + varint_bytes(UINT64_MAX);
}

// Appends `origin_store_id` and `origin_sequence` to a serialized actormq.wire.Message. A
// Message parsed from the result has these values whatever the fields held before (the last
// occurrence of a field wins), so a caller that wants the result small clears them first.
void origin_stamp(std::string& serialized_message, std::string_view store_id, uint64_t sequence);

} // namespace actormq::protocol
