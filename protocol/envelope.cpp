#include "protocol/envelope.hpp"

#include <cstdio>

#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/io/zero_copy_stream_impl_lite.h>

namespace actormq::protocol {

void encode_envelope(const envelope& e, std::string& out) {
  const size_t size = e.ByteSizeLong();
  out.resize(size);
  google::protobuf::io::ArrayOutputStream stream(out.data(), static_cast<int>(size));
  google::protobuf::io::CodedOutputStream coded(&stream);
  coded.SetSerializationDeterministic(true);
  e.SerializeWithCachedSizes(&coded);
}

bool decode_envelope(std::string_view bytes, envelope& out) {
  return out.ParseFromArray(bytes.data(), static_cast<int>(bytes.size()));
}

envelope_refusal check_envelope(const envelope& e) {
  auto field = [](std::string text) {
    return envelope_refusal{error_code::invalid_field, std::move(text)};
  };
  if (e.priority() < min_priority || e.priority() > max_priority)
    return field("priority " + std::to_string(e.priority()) + " is out of range (" +
                 std::to_string(min_priority) + ".." + std::to_string(max_priority) + ")");
  if (e.producer_id().size() > max_producer_id_bytes)
    return field("producer_id of " + std::to_string(e.producer_id().size()) +
                 " bytes is over the maximum of " + std::to_string(max_producer_id_bytes) +
                 " bytes");
  if (e.expiration_ms() < 0)
    return field("expiration_ms " + std::to_string(e.expiration_ms()) +
                 " is negative (0 = never, else milliseconds since the epoch)");
  return {};
}

std::string property_text(const store::PropertyValue& v) {
  auto floating = [](double d, const char* format) {
    char buf[40];
    std::snprintf(buf, sizeof buf, format, d);
    return std::string(buf);
  };
  switch (v.value_case()) {
  case store::PropertyValue::kBoolValue:
    return v.bool_value() ? "true" : "false";
  case store::PropertyValue::kByteValue:
    return std::to_string(v.byte_value());
  case store::PropertyValue::kShortValue:
    return std::to_string(v.short_value());
  case store::PropertyValue::kIntValue:
    return std::to_string(v.int_value());
  case store::PropertyValue::kLongValue:
    return std::to_string(v.long_value());
  case store::PropertyValue::kFloatValue:
    return floating(v.float_value(), "%.9g");
  case store::PropertyValue::kDoubleValue:
    return floating(v.double_value(), "%.17g");
  case store::PropertyValue::VALUE_NOT_SET:
    break;
  }
  return {};
}

} // namespace actormq::protocol
