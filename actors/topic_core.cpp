#include "actors/topic_core.hpp"

#include <algorithm>

namespace actormq::actors {

topic_core::topic_core(uint64_t subscriber_pending_limit, uint64_t memory_limit_bytes,
                       slow_subscriber_policy slow)
    : subscriber_pending_limit_(subscriber_pending_limit), memory_limit_(memory_limit_bytes),
      slow_(slow) {}

uint64_t topic_core::add_subscriber(uint64_t owner, uint64_t consumer_id, uint32_t credit,
                                    std::shared_ptr<const protocol::selector> selector) {
  auto id = next_subscription_++;
  auto& s = subscribers_[id];
  s.owner = owner;
  s.consumer_id = consumer_id;
  s.credit = credit;
  s.selector = std::move(selector);
  return id;
}

std::optional<uint64_t> topic_core::remove_subscriber(uint64_t subscription) {
  auto i = subscribers_.find(subscription);
  if (i == subscribers_.end())
    return std::nullopt;
  auto& s = i->second;
  uint64_t dropped = s.pending.size() + s.in_flight.size();
  for (auto& m : s.pending)
    release(m.sequence);
  pending_count_ -= s.pending.size();
  in_flight_count_ -= s.in_flight.size();
  subscribers_.erase(i);
  return dropped;
}

std::vector<uint64_t> topic_core::subscriptions_of(uint64_t owner) const {
  std::vector<uint64_t> out;
  for (auto& [id, s] : subscribers_)
    if (s.owner == owner)
      out.push_back(id);
  return out;
}

bool topic_core::add_credit(uint64_t subscription, uint32_t credit) {
  auto i = subscribers_.find(subscription);
  if (i == subscribers_.end())
    return false;
  i->second.credit += credit;
  return true;
}

size_t topic_core::publish(const topic_message& message) {
  if (subscribers_.empty())
    return 0;
  // The envelope is decoded once, and only if a subscriber has a selector.
  protocol::envelope e;
  int decoded = -1; // -1: not yet; 0: unreadable (matches no selector); 1: decoded
  size_t taken = 0;
  for (auto& [id, s] : subscribers_) {
    if (s.selector) {
      if (decoded < 0)
        decoded = message.body && protocol::decode_envelope(*message.body, e) ? 1 : 0;
      if (decoded == 0 || !s.selector->matches(e))
        continue;
    }
    s.pending.push_back(message);
    ++taken;
  }
  if (taken == 0)
    return 0;
  pending_count_ += taken;
  auto& held = bodies_[message.sequence];
  held.bytes = message.body ? message.body->size() : 0;
  held.references = taken;
  memory_bytes_ += held.bytes;
  for (auto& [id, s] : subscribers_)
    drop_oldest_of(s);
  return taken;
}

std::vector<topic_dispatch> topic_core::take_dispatches(int64_t now_ms) {
  std::vector<topic_dispatch> out;
  for (auto& [id, s] : subscribers_) {
    while (s.credit > 0 && !s.pending.empty()) {
      auto m = std::move(s.pending.front());
      s.pending.pop_front();
      --pending_count_;
      release(m.sequence);
      if (m.expiration_ms != 0 && m.expiration_ms <= now_ms) {
        ++expired_;
        continue;
      }
      --s.credit;
      s.in_flight.insert(m.sequence);
      ++in_flight_count_;
      out.push_back(topic_dispatch{id, s.owner, s.consumer_id, std::move(m)});
    }
  }
  return out;
}

std::optional<uint64_t> topic_core::acknowledge(uint64_t subscription,
                                                const std::vector<uint64_t>& keys) {
  auto i = subscribers_.find(subscription);
  if (i == subscribers_.end())
    return std::nullopt;
  uint64_t n = 0;
  for (auto key : keys)
    n += i->second.in_flight.erase(key);
  in_flight_count_ -= n;
  return n;
}

bool topic_core::over_limit() const {
  return memory_bytes_ > memory_limit_ ||
         holds_publishers(slow_, most_pending(), subscriber_pending_limit_);
}

std::vector<topic_discards> topic_core::discards() const {
  std::vector<topic_discards> out;
  for (auto& [id, s] : subscribers_)
    if (s.discarded > 0)
      out.push_back(topic_discards{s.owner, s.consumer_id, s.discarded});
  return out;
}

void topic_core::drop_oldest_of(subscriber& s) {
  auto n = messages_to_drop(slow_, s.pending.size(), subscriber_pending_limit_);
  for (uint64_t i = 0; i < n; ++i) {
    release(s.pending.front().sequence);
    s.pending.pop_front();
  }
  pending_count_ -= n;
  s.discarded += n;
  discarded_ += n;
}

uint64_t topic_core::most_pending() const {
  uint64_t most = 0;
  for (auto& [id, s] : subscribers_)
    most = std::max<uint64_t>(most, s.pending.size());
  return most;
}

void topic_core::release(uint64_t sequence) {
  auto i = bodies_.find(sequence);
  if (i == bodies_.end())
    return;
  if (--i->second.references == 0) {
    memory_bytes_ -= i->second.bytes;
    bodies_.erase(i);
  }
}

} // namespace actormq::actors
