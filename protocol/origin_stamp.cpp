#include "protocol/origin_stamp.hpp"

#include "protocol/actormq.pb.h"
#include "protocol/varint.hpp"

namespace actormq::protocol {

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
