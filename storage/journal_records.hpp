// Private to storage/: the payload of a journal record, the operations of one committed part of a
// batch (journal.hpp), and which operations must be flushed before they are answered.
// Layout, little-endian: u32 count, then per operation its u8 index in `operation` and its
// fields in declaration order (integers at fixed width, strings as u32 size and bytes, an
// index_entry as its stored value, encoding.hpp).
#pragma once

#include "storage/backend.hpp"

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace actormq::storage::detail {

// Record flags.
constexpr uint8_t record_puts_fail_full = 1; // the part ran with puts failing store_full

std::string encode_operations(const std::vector<operation>& batch, size_t first, size_t last);
// False if `payload` is not a whole, well-formed list (then `out` holds what decoded).
bool decode_operations(std::string_view payload, std::vector<operation>& out);

// True if an answer to [first, last) may leave before the journal is flushed: deletes and
// cleared transfer marks only. Their loss in a power cut brings a message back (marked
// redelivered), never loses one; a later flush or checkpoint makes them durable in order.
bool may_answer_unflushed(const std::vector<operation>& batch, size_t first, size_t last);

// At most how many pages [first, last) writes or copies: its payloads' pages plus, per
// operation, a path through each tree it changes.
uint64_t pages_touched(const std::vector<operation>& batch, size_t first, size_t last,
                       uint64_t page_size);

} // namespace actormq::storage::detail
