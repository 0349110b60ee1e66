#include "actors/durable_filter.hpp"

namespace actormq::actors {

const protocol::envelope* lazy_envelope::get() {
  if (state_ < 0)
    state_ = protocol::decode_envelope(payload_, envelope_) ? 1 : 0;
  return state_ == 1 ? &envelope_ : nullptr;
}

std::shared_ptr<const protocol::selector> subscription_selector(const durable_name& d,
                                                                std::string& why) {
  if (d.selector.empty())
    return nullptr;
  auto parsed = protocol::selector::parse(d.selector, {});
  if (!parsed) {
    why = "the selector of the durable subscription '" + d.subscription_name + "' of client id '" +
          d.client_id + "' does not parse (" + parsed.message() + "): it takes every message";
    return nullptr;
  }
  return std::move(*parsed);
}

bool selects(const std::shared_ptr<const protocol::selector>& selector, lazy_envelope& message) {
  if (!selector)
    return true;
  auto* envelope = message.get();
  return envelope != nullptr && selector->matches(*envelope);
}

} // namespace actormq::actors
