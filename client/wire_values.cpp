// Values shared by the client library's files: failures, frames built from state (OpenConsumer,
// a synthetic receipt), messages read from Dispatch frames, random ids and wall-clock time.
#include "client/session.hpp"
#include "protocol/envelope.hpp"

#include <mutex>
#include <random>

namespace actormq::client::detail {

failure make_failure(client_errc code, std::string what) {
  return failure{make_error_code(code), std::move(what)};
}

failure broker_failure(const wire::Error& error) {
  auto name = wire::ErrorCode_IsValid(error.code()) ? wire::ErrorCode_Name(error.code())
                                                    : std::to_string(error.code());
  return failure{make_broker_error_code(error.code()),
                 "broker error " + name + (error.message().empty() ? "" : ": " + error.message())};
}

failure failed_over_failure() {
  return make_failure(client_errc::failed_over,
                      "the connection failed over before the acknowledgement committed: the "
                      "messages it named are delivered again, marked redelivered");
}

wire::Frame receipt_frame(uint64_t correlation_id) {
  wire::Frame f;
  f.set_correlation_id(correlation_id);
  f.mutable_receipt();
  return f;
}

message to_message(wire::Dispatch&& dispatch) {
  message m;
  auto* w = dispatch.mutable_message();
  m.body = std::move(*w->mutable_body());
  m.destination = std::move(*w->mutable_destination());
  m.consumer_id = dispatch.consumer_id();
  m.delivery_key = dispatch.delivery_key();
  m.redelivered = dispatch.redelivered();
  m.delivery_count = dispatch.delivery_count();
  m.persistent = w->persistent();
  m.priority = w->priority();
  m.timestamp_ms = w->timestamp_ms();
  m.expiration_ms = w->expiration_ms();
  m.producer_id = std::move(*w->mutable_producer_id());
  m.producer_sequence = w->producer_sequence();
  m.origin_store_id = std::move(*w->mutable_origin_store_id());
  m.origin_sequence = w->origin_sequence();
  m.correlation_id = std::move(*w->mutable_correlation_id());
  m.reply_to = std::move(*w->mutable_reply_to());
  for (auto& [key, value] : *w->mutable_properties())
    m.properties.emplace(key, std::move(value));
  for (auto& [key, value] : w->typed_properties()) {
    property_value v;
    switch (value.value_case()) {
    case store::PropertyValue::kBoolValue:
      v = value.bool_value();
      break;
    case store::PropertyValue::kByteValue:
      v = value.byte_value();
      break;
    case store::PropertyValue::kShortValue:
      v = value.short_value();
      break;
    case store::PropertyValue::kIntValue:
      v = value.int_value();
      break;
    case store::PropertyValue::kLongValue:
      v = value.long_value();
      break;
    case store::PropertyValue::kFloatValue:
      v = double{value.float_value()};
      break;
    case store::PropertyValue::kDoubleValue:
      v = value.double_value();
      break;
    case store::PropertyValue::VALUE_NOT_SET:
      continue;
    }
    m.properties.emplace(key, protocol::property_text(value));
    m.typed_properties.emplace(key, v);
  }
  return m;
}

wire::Frame open_consumer_frame(const consumer_state& c) {
  wire::Frame frame;
  auto* open = frame.mutable_open_consumer();
  open->set_consumer_id(c.id);
  open->set_destination(c.destination);
  open->set_prefetch(c.options.prefetch);
  switch (c.options.mode) {
  case ack_mode::auto_acknowledge:
    open->set_ack_mode(wire::ACK_MODE_AUTO);
    break;
  case ack_mode::client_acknowledge:
    open->set_ack_mode(wire::ACK_MODE_CLIENT);
    break;
  case ack_mode::individual_acknowledge:
    open->set_ack_mode(wire::ACK_MODE_INDIVIDUAL);
    break;
  }
  open->set_priority(c.options.priority);
  open->set_exclusive(c.options.exclusive);
  if (c.options.durable) {
    open->set_durable(true);
    open->set_subscription_name(c.options.subscription_name);
  }
  open->set_selector(c.options.selector);
  return frame;
}

std::string random_hex(size_t bytes) {
  static std::mutex mutex;
  static std::mt19937_64 engine{[] {
    std::random_device device;
    std::seed_seq seed{device(), device(), device(), device(), device(), device()};
    return std::mt19937_64(seed);
  }()};
  static const char digits[] = "0123456789abcdef";
  std::string out;
  out.reserve(bytes * 2);
  std::lock_guard<std::mutex> guard(mutex);
  for (size_t i = 0; i < bytes; ++i) {
    auto byte = static_cast<unsigned>(engine() & 0xff);
    out.push_back(digits[byte >> 4]);
    out.push_back(digits[byte & 0xf]);
  }
  return out;
}

int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

} // namespace actormq::client::detail
