#include "protocol/wire_envelope.hpp"

#include "protocol/varint.hpp"

#include <algorithm>
#include <cstdint>

namespace actormq::protocol {

void to_envelope(wire::Message& m, envelope& out) {
  out.Clear();
  out.set_destination(m.destination());
  out.mutable_body()->swap(*m.mutable_body());
  out.set_persistent(m.persistent());
  out.set_priority(m.priority());
  out.set_expiration_ms(m.expiration_ms());
  out.set_timestamp_ms(m.timestamp_ms());
  out.mutable_producer_id()->swap(*m.mutable_producer_id());
  out.set_producer_sequence(m.producer_sequence());
  out.mutable_properties()->swap(*m.mutable_properties());
  out.mutable_correlation_id()->swap(*m.mutable_correlation_id());
  out.mutable_reply_to()->swap(*m.mutable_reply_to());
  out.mutable_type()->swap(*m.mutable_type());
  out.mutable_typed_properties()->swap(*m.mutable_typed_properties());
}

bool is_wire_message(std::string_view bytes) {
  constexpr uint64_t last_wire_field = wire::Message::kTypedPropertiesFieldNumber;
  size_t i = 0;
  while (i < bytes.size()) {
    uint64_t tag = 0;
    if (!read_varint(bytes, i, tag))
      return false;
    auto field = tag >> 3;
    if (field == 0 || field > last_wire_field)
      return false;
    uint64_t n = 0;
    switch (tag & 7) {
    case wire_type_varint:
      if (!read_varint(bytes, i, n))
        return false;
      break;
    case wire_type_fixed64:
      i += 8;
      break;
    case wire_type_length_delimited:
      if (!read_varint(bytes, i, n) || n > bytes.size() - std::min(i, bytes.size()))
        return false;
      i += n;
      break;
    case wire_type_fixed32:
      i += 4;
      break;
    default:
      return false;
    }
  }
  return i == bytes.size();
}

void to_wire(envelope& e, wire::Message& out) {
  out.Clear();
  out.set_destination(e.destination());
  out.mutable_body()->swap(*e.mutable_body());
  out.set_persistent(e.persistent());
  out.set_priority(e.priority());
  out.set_expiration_ms(e.expiration_ms());
  out.set_timestamp_ms(e.timestamp_ms());
  out.set_producer_id(e.producer_id());
  out.set_producer_sequence(e.producer_sequence());
  out.mutable_properties()->swap(*e.mutable_properties());
  out.mutable_typed_properties()->swap(*e.mutable_typed_properties());
  out.set_origin_store_id(e.origin_store_id());
  out.set_origin_sequence(e.origin_sequence());
  out.set_correlation_id(e.correlation_id());
  out.set_reply_to(e.reply_to());
  out.set_type(e.type());
}

} // namespace actormq::protocol
