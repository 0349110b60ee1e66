// What a topic needs to filter the messages of a durable subscription with a selector: the
// selector kept in the subscription's store name (durable_name.hpp), and a message's envelope
// decoded at most once for all its subscriptions. Plain C++ (no CAF).
#pragma once

#include "actors/durable_name.hpp"
#include "protocol/selector.hpp"

#include <memory>
#include <string>

namespace actormq::actors {

// A message's envelope, decoded on first use and only then.
class lazy_envelope {
public:
  explicit lazy_envelope(const std::string& payload) : payload_(payload) {}
  // Nothing if the payload is no readable envelope (it matches no selector).
  const protocol::envelope* get();

private:
  const std::string& payload_;
  int state_ = -1; // -1: not decoded yet; 0: unreadable; 1: decoded
  protocol::envelope envelope_;
};

// The subscription's selector; nothing if it has none, or, with `why` set, if its text does not
// parse (then the subscription takes every message and its consumer's selector filters).
std::shared_ptr<const protocol::selector> subscription_selector(const durable_name& d,
                                                                std::string& why);

// Whether `selector` (none: every message) takes the message.
bool selects(const std::shared_ptr<const protocol::selector>& selector, lazy_envelope& message);

} // namespace actormq::actors
