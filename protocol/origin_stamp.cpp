#include "protocol/origin_stamp.hpp"

#include "protocol/actormq.pb.h"

namespace actormq::protocol {

namespace {

constexpr uint32_t wire_type_varint = 0;
constexpr uint32_t wire_type_length_delimited = 2;

void append_varint(std::string& out, uint64_t value) {
  while (value >= 0x80) {
    out.push_back(static_cast<char>((value & 0x7f) | 0x80));
    value >>= 7;
  }
  out.push_back(static_cast<char>(value));
}

void append_tag(std::string& out, int field, uint32_t wire_type) {
  append_varint(out, (static_cast<uint64_t>(field) << 3) | wire_type);
}

} // namespace

void origin_stamp(std::string& serialized_message, std::string_view store_id, uint64_t sequence) {
  serialized_message.reserve(serialized_message.size() + origin_stamp_bytes(store_id.size()));
  append_tag(serialized_message, wire::Message::kOriginStoreIdFieldNumber,
             wire_type_length_delimited);
  append_varint(serialized_message, store_id.size());
  serialized_message.append(store_id);
  append_tag(serialized_message, wire::Message::kOriginSequenceFieldNumber, wire_type_varint);
  append_varint(serialized_message, sequence);
}

} // namespace actormq::protocol
