#include "actors/queue_core.hpp"

#include <algorithm>

namespace actormq::actors {

queue_core::queue_core(uint64_t memory_limit_bytes) : memory_limit_(memory_limit_bytes) {}

void queue_core::hold(queued_message& m) {
  if (m.body)
    memory_bytes_ += m.body->size();
}

void queue_core::release(queued_message& m) {
  if (m.body) {
    memory_bytes_ -= std::min<uint64_t>(memory_bytes_, m.body->size());
    m.body.reset();
  }
}

void queue_core::enqueue(queued_message message) {
  // A persistent body can be read back from the store, so it is kept only while memory allows.
  if (message.persistent && message.body && memory_bytes_ + message.body->size() > memory_limit_)
    message.body.reset();
  hold(message);
  fresh_.push_back(std::move(message));
}

uint64_t queue_core::add_consumer(uint64_t owner, uint64_t consumer_id, uint32_t credit,
                                  int32_t priority, bool network) {
  auto id = next_subscription_++;
  consumers_[id] = consumer{owner, consumer_id, credit, priority, network, {}};
  return id;
}

std::optional<uint64_t> queue_core::remove_consumer(uint64_t subscription) {
  auto i = consumers_.find(subscription);
  if (i == consumers_.end())
    return std::nullopt;
  uint64_t returned = 0;
  for (auto& [key, m] : i->second.in_flight) {
    m.redelivered = true;
    returned_.emplace(key, std::move(m));
    ++returned;
  }
  in_flight_count_ -= returned;
  consumers_.erase(i);
  return returned;
}

std::optional<uint64_t> queue_core::return_deliveries(uint64_t subscription,
                                                      const std::vector<uint64_t>& keys) {
  auto i = consumers_.find(subscription);
  if (i == consumers_.end())
    return std::nullopt;
  uint64_t returned = 0;
  for (auto key : keys) {
    auto j = i->second.in_flight.find(key);
    if (j == i->second.in_flight.end())
      continue;
    j->second.redelivered = true;
    returned_.insert_or_assign(key, std::move(j->second));
    i->second.in_flight.erase(j);
    ++returned;
  }
  in_flight_count_ -= returned;
  return returned;
}

std::vector<uint64_t> queue_core::subscriptions_of(uint64_t owner) const {
  std::vector<uint64_t> result;
  for (auto& [id, c] : consumers_)
    if (c.owner == owner)
      result.push_back(id);
  return result;
}

bool queue_core::add_credit(uint64_t subscription, uint32_t credit) {
  auto i = consumers_.find(subscription);
  if (i == consumers_.end())
    return false;
  i->second.credit += credit;
  return true;
}

bool queue_core::has_consumer_with_credit() const {
  return std::any_of(consumers_.begin(), consumers_.end(),
                     [](auto& kv) { return kv.second.credit > 0; });
}

queue_core::consumer* queue_core::pick_consumer(const queued_message& m, bool replay_forwarded,
                                                uint64_t& subscription) {
  // Highest priority first; among equals, round robin starting after the last one served.
  consumer* best = nullptr;
  uint64_t best_id = 0;
  auto better = [&](uint64_t id, consumer& c) {
    if (!best || c.priority > best->priority)
      return true;
    if (c.priority < best->priority)
      return false;
    // Same priority: prefer the first id after the cursor (wrapping around).
    bool c_after = id > rr_cursor_;
    bool best_after = best_id > rr_cursor_;
    if (c_after != best_after)
      return c_after;
    return id < best_id;
  };
  for (auto& [id, c] : consumers_) {
    if (c.credit == 0 || (c.network && m.forwarded && !replay_forwarded))
      continue;
    if (better(id, c)) {
      best = &c;
      best_id = id;
    }
  }
  subscription = best_id;
  return best;
}

std::optional<dispatch_decision>
queue_core::next_dispatch(int64_t now_ms, std::vector<uint64_t>& expired, bool replay_forwarded) {
  while (!fresh_.empty() || !returned_.empty()) {
    bool from_returned = !returned_.empty();
    queued_message& head = from_returned ? returned_.begin()->second : fresh_.front();
    if (head.expiration_ms > 0 && head.expiration_ms <= now_ms) {
      release(head);
      expired.push_back(head.sequence);
      if (from_returned)
        returned_.erase(returned_.begin());
      else
        fresh_.pop_front();
      continue;
    }
    uint64_t sub = 0;
    auto* c = pick_consumer(head, replay_forwarded, sub);
    if (!c)
      return std::nullopt;
    queued_message m = std::move(head);
    if (from_returned)
      returned_.erase(returned_.begin());
    else
      fresh_.pop_front();
    rr_cursor_ = sub;
    --c->credit;
    ++m.delivery_count;
    dispatch_decision d{sub, c->owner, c->consumer_id, c->network, m};
    // In flight, a persistent body is dropped (it can be read again); a non-persistent one is
    // the only copy and stays until acknowledged.
    if (m.persistent)
      release(m);
    c->in_flight.emplace(m.sequence, std::move(m));
    ++in_flight_count_;
    return d;
  }
  return std::nullopt;
}

uint64_t queue_core::hand_over(uint64_t subscription, const std::vector<uint64_t>& keys) {
  auto i = consumers_.find(subscription);
  if (i == consumers_.end())
    return 0;
  uint64_t n = 0;
  for (auto key : keys) {
    auto j = i->second.in_flight.find(key);
    if (j == i->second.in_flight.end())
      continue;
    release(j->second);
    i->second.in_flight.erase(j);
    --in_flight_count_;
    ++n;
  }
  return n;
}

void queue_core::set_recorded(uint64_t subscription, uint64_t key, uint32_t count) {
  auto i = consumers_.find(subscription);
  if (i == consumers_.end())
    return;
  auto j = i->second.in_flight.find(key);
  if (j != i->second.in_flight.end())
    j->second.recorded_deliveries = std::max(j->second.recorded_deliveries, count);
}

bool queue_core::in_flight_to(uint64_t subscription, uint64_t key) const {
  auto i = consumers_.find(subscription);
  return i != consumers_.end() && i->second.in_flight.count(key) > 0;
}

uint64_t queue_core::local_credit() const {
  uint64_t credit = 0;
  for (auto& [id, c] : consumers_)
    if (!c.network)
      credit += c.credit;
  return credit;
}

size_t queue_core::local_consumers() const {
  return static_cast<size_t>(std::count_if(consumers_.begin(), consumers_.end(),
                                           [](auto& kv) { return !kv.second.network; }));
}

bool queue_core::holds_forwarded() const {
  if (std::any_of(returned_.begin(), returned_.end(), [](auto& kv) { return kv.second.forwarded; }))
    return true;
  return std::any_of(fresh_.begin(), fresh_.end(), [](auto& m) { return m.forwarded; });
}

void queue_core::undo_dispatch(const dispatch_decision& decision) {
  auto i = consumers_.find(decision.subscription);
  if (i == consumers_.end())
    return;
  auto j = i->second.in_flight.find(decision.message.sequence);
  if (j == i->second.in_flight.end())
    return;
  auto m = std::move(j->second);
  i->second.in_flight.erase(j);
  --in_flight_count_;
  ++i->second.credit;
  --m.delivery_count;
  returned_.emplace(m.sequence, std::move(m));
}

std::optional<ack_outcome> queue_core::acknowledge(uint64_t subscription,
                                                   const std::vector<uint64_t>& keys) {
  auto i = consumers_.find(subscription);
  if (i == consumers_.end())
    return std::nullopt;
  ack_outcome out;
  for (auto key : keys) {
    auto j = i->second.in_flight.find(key);
    if (j == i->second.in_flight.end()) {
      out.unknown_keys.push_back(key);
      continue;
    }
    release(j->second);
    if (j->second.persistent) {
      out.persistent_keys.push_back(key);
      deleting_.insert_or_assign(key, std::move(j->second));
    }
    i->second.in_flight.erase(j);
    --in_flight_count_;
    ++out.acknowledged;
  }
  return out;
}

std::pair<std::vector<uint64_t>, uint64_t> queue_core::purge() {
  std::vector<uint64_t> keys;
  uint64_t total = 0;
  auto take = [&](queued_message& m) {
    release(m);
    if (m.persistent) {
      keys.push_back(m.sequence);
      deleting_.insert_or_assign(m.sequence, std::move(m));
    }
    ++total;
  };
  for (auto& m : fresh_)
    take(m);
  for (auto& [key, m] : returned_)
    take(m);
  fresh_.clear();
  returned_.clear();
  return {std::move(keys), total};
}

uint64_t queue_core::settle_deletes(const std::vector<uint64_t>& keys,
                                    const std::vector<uint64_t>& failed) {
  uint64_t returned = 0;
  for (auto key : failed) {
    auto i = deleting_.find(key);
    if (i == deleting_.end())
      continue;
    auto m = std::move(i->second);
    deleting_.erase(i);
    m.redelivered = m.redelivered || m.delivery_count > 0;
    returned_.insert_or_assign(key, std::move(m));
    ++returned;
  }
  for (auto key : keys)
    deleting_.erase(key);
  return returned;
}

std::vector<queued_message> queue_core::browse(size_t max) const {
  std::vector<queued_message> out;
  for (auto i = returned_.begin(); i != returned_.end() && out.size() < max; ++i)
    out.push_back(i->second);
  for (auto i = fresh_.begin(); i != fresh_.end() && out.size() < max; ++i)
    out.push_back(*i);
  return out;
}

} // namespace actormq::actors
