#include "actors/queue_core.hpp"

#include <algorithm>

namespace actormq::actors {

queue_core::queue_core(uint64_t memory_limit_bytes, payload_reader reader)
    : memory_limit_(memory_limit_bytes), reader_(std::move(reader)) {}

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

void queue_core::note_matches(const order_key& key, const queued_message& m, consumer* only) {
  protocol::envelope e;
  bool decoded = false;
  auto read = [&] {
    if (decoded)
      return true;
    if (m.body) {
      decoded = protocol::decode_envelope(*m.body, e);
    } else if (reader_) {
      auto payload = reader_(m.sequence);
      decoded = payload && protocol::decode_envelope(*payload, e);
    }
    return decoded;
  };
  auto check = [&](consumer& c) {
    if (!c.selector)
      return;
    // A message that cannot be read matches no selector; plain consumers still get it.
    if (!read())
      return;
    ++selector_evaluations_;
    if (c.selector->matches(e))
      c.matches.insert(key);
  };
  if (only) {
    check(*only);
    return;
  }
  for (auto& [id, c] : consumers_)
    check(c);
}

void queue_core::admit(queued_message m, bool returned) {
  auto priority = std::clamp(m.priority, protocol::min_priority, protocol::max_priority);
  order_key key{static_cast<uint32_t>(protocol::max_priority - priority) * 2 + (returned ? 0 : 1),
                returned ? m.sequence : ++next_arrival_};
  if (!m.group.empty()) {
    auto& g = groups_[m.group];
    g.keys.insert(key);
    if (auto owner = consumers_.find(g.owner); owner != consumers_.end()) {
      auto i = owner->second.owned.insert_or_assign(key, std::move(m)).first;
      ++owned_count_;
      if (i->second.expiration_ms > 0)
        expiring_.emplace(i->second.expiration_ms, key);
      if (owner->second.selector)
        note_matches(key, i->second, &owner->second);
      return;
    }
  }
  auto i = pending_.insert_or_assign(pending_.end(), key, std::move(m));
  if (i->second.expiration_ms > 0)
    expiring_.emplace(i->second.expiration_ms, key);
  if (selector_consumers_ > 0)
    note_matches(key, i->second);
}

void queue_core::enqueue(queued_message message) {
  // A persistent body can be read back from the store, so it is kept only while memory allows.
  if (message.persistent && message.body && memory_bytes_ + message.body->size() > memory_limit_)
    message.body.reset();
  hold(message);
  admit(std::move(message), false);
}

uint64_t queue_core::add_consumer(uint64_t owner, uint64_t consumer_id, uint32_t credit,
                                  int32_t priority, bool network,
                                  std::shared_ptr<const protocol::selector> selector,
                                  bool exclusive) {
  auto id = next_subscription_++;
  auto& c = consumers_[id];
  c = consumer{owner, consumer_id, credit,    priority, network, std::move(selector),
               {},    {},          exclusive, {},       {},      {}};
  if (exclusive)
    choose_exclusive_owner();
  if (c.selector) {
    ++selector_consumers_;
    for (auto& [key, m] : pending_)
      note_matches(key, m, &c);
  }
  return id;
}

std::optional<uint64_t> queue_core::remove_consumer(uint64_t subscription) {
  auto i = consumers_.find(subscription);
  if (i == consumers_.end())
    return std::nullopt;
  // Its groups go back to pending_ first, so that its returned deliveries join them there.
  auto groups = i->second.groups;
  for (auto& group : groups)
    unassign_group(group);
  auto in_flight = std::move(i->second.in_flight);
  auto own_policy = std::move(i->second.policy);
  const protocol::redelivery_policy* policy =
      own_policy ? &*own_policy : (policy_ ? &*policy_ : nullptr);
  if (i->second.selector)
    --selector_consumers_;
  consumers_.erase(i);
  if (exclusive_owner_ == subscription)
    choose_exclusive_owner();
  uint64_t returned = 0;
  for (auto& [key, m] : in_flight) {
    return_message(std::move(m), policy, false);
    ++returned;
  }
  in_flight_count_ -= returned;
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
    auto m = std::move(j->second);
    i->second.in_flight.erase(j);
    return_message(std::move(m), policy_of(i->second), true);
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

queue_core::consumer* queue_core::pick_consumer(const order_key& key, const queued_message& m,
                                                bool replay_forwarded, uint64_t& subscription) {
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
    if (c.credit == 0 || (c.network && m.forwarded && !replay_forwarded) || excluded(id))
      continue;
    if (c.selector && c.matches.count(key) == 0)
      continue;
    if (better(id, c)) {
      best = &c;
      best_id = id;
    }
  }
  subscription = best_id;
  return best;
}

void queue_core::erase_pending(pending_map::iterator i) {
  if (!i->second.group.empty())
    forget_group_key(i->second.group, i->first);
  if (i->second.expiration_ms > 0)
    expiring_.erase({i->second.expiration_ms, i->first});
  if (selector_consumers_ > 0)
    for (auto& [id, c] : consumers_)
      if (c.selector)
        c.matches.erase(i->first);
  pending_.erase(i);
}

dispatch_decision queue_core::take(pending_map::iterator i, consumer& c, uint64_t subscription) {
  auto key = i->first;
  auto group = i->second.group;
  queued_message m = std::move(i->second);
  i->second.group.clear();
  erase_pending(i);
  if (!group.empty())
    group_taken(group, m.group_sequence, key, subscription);
  return hand_to(std::move(m), c, subscription);
}

dispatch_decision queue_core::hand_to(queued_message m, consumer& c, uint64_t subscription) {
  rr_cursor_ = subscription;
  --c.credit;
  ++m.delivery_count;
  dispatch_decision d{subscription, c.owner, c.consumer_id, c.network, m};
  // In flight, a persistent body is dropped (it can be read again); a non-persistent one is
  // the only copy and stays until acknowledged.
  if (m.persistent)
    release(m);
  c.in_flight.emplace(m.sequence, std::move(m));
  ++in_flight_count_;
  return d;
}

std::optional<dispatch_decision> queue_core::dispatch_selected(int64_t now_ms,
                                                               std::vector<uint64_t>& expired,
                                                               bool replay_forwarded) {
  consumer* best = nullptr;
  uint64_t best_id = 0;
  pending_map::iterator best_message;
  for (auto& [id, c] : consumers_) {
    if (!c.selector || c.credit == 0 || excluded(id))
      continue;
    // Every match is pending (erase_pending drops it from every set); the loop expires those
    // whose time ran out.
    while (!c.matches.empty()) {
      auto key = *c.matches.begin();
      auto i = pending_.find(key);
      if (i == pending_.end()) {
        c.matches.erase(c.matches.begin());
        continue;
      }
      if (is_expired(i->second, now_ms)) {
        expire(i, expired);
        continue;
      }
      if (c.network && i->second.forwarded && !replay_forwarded)
        break;
      if (!best || i->first < best_message->first ||
          (i->first == best_message->first && c.priority > best->priority)) {
        best = &c;
        best_id = id;
        best_message = i;
      }
      break;
    }
  }
  if (!best)
    return std::nullopt;
  return take(best_message, *best, best_id);
}

std::optional<dispatch_decision>
queue_core::next_dispatch(int64_t now_ms, std::vector<uint64_t>& expired, bool replay_forwarded) {
  if (owned_count_ == 0)
    return dispatch_open(now_ms, expired, replay_forwarded);
  // Owned group messages compete with the head of pending_ by dispatch order.
  auto owned = find_owned(now_ms, expired, replay_forwarded);
  if (owned && (pending_.empty() || owned->second->first < pending_.begin()->first))
    return take_owned(owned->first, owned->second);
  if (auto d = dispatch_open(now_ms, expired, replay_forwarded))
    return d;
  if (owned)
    return take_owned(owned->first, owned->second);
  return std::nullopt;
}

std::optional<dispatch_decision>
queue_core::dispatch_open(int64_t now_ms, std::vector<uint64_t>& expired, bool replay_forwarded) {
  while (!pending_.empty()) {
    auto head = pending_.begin();
    if (is_expired(head->second, now_ms)) {
      expire(head, expired);
      continue;
    }
    uint64_t sub = 0;
    if (auto* c = pick_consumer(head->first, head->second, replay_forwarded, sub))
      return take(head, *c, sub);
    // Nobody takes the head now; a selector consumer may take a message further back.
    if (selector_consumers_ == 0)
      return std::nullopt;
    return dispatch_selected(now_ms, expired, replay_forwarded);
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
  // While an exclusive consumer holds the queue, only its credit can take a message.
  if (auto i = consumers_.find(exclusive_owner_); i != consumers_.end())
    return i->second.network ? 0 : i->second.credit;
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
  auto forwarded = [](auto& kv) { return kv.second.forwarded; };
  if (std::any_of(pending_.begin(), pending_.end(), forwarded))
    return true;
  return std::any_of(consumers_.begin(), consumers_.end(), [&](auto& kv) {
    return std::any_of(kv.second.owned.begin(), kv.second.owned.end(), forwarded);
  });
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
  admit(std::move(m), true);
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
  auto drop = [&](queued_message& m) {
    release(m);
    if (m.persistent) {
      keys.push_back(m.sequence);
      deleting_.insert_or_assign(m.sequence, std::move(m));
    }
    ++total;
  };
  for (auto& [key, m] : pending_)
    drop(m);
  pending_.clear();
  expiring_.clear();
  for (auto& [due, m] : delayed_)
    drop(m);
  delayed_.clear();
  for (auto& [id, c] : consumers_) {
    c.matches.clear();
    for (auto& [key, m] : c.owned)
      drop(m);
    c.owned.clear();
  }
  owned_count_ = 0;
  // Owners keep their groups; only the pending messages are gone.
  for (auto i = groups_.begin(); i != groups_.end();) {
    i->second.keys.clear();
    i = i->second.owner == 0 ? groups_.erase(i) : std::next(i);
  }
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
    admit(std::move(m), true);
    ++returned;
  }
  for (auto key : keys)
    deleting_.erase(key);
  return returned;
}

std::vector<queued_message> queue_core::browse(size_t max) const {
  std::vector<queued_message> out;
  if (owned_count_ == 0) {
    for (auto i = pending_.begin(); i != pending_.end() && out.size() < max; ++i)
      out.push_back(i->second);
  } else {
    // The first `max` of each map, merged in dispatch order.
    std::vector<std::pair<order_key, const queued_message*>> firsts;
    auto collect = [&](const pending_map& from) {
      size_t n = 0;
      for (auto i = from.begin(); i != from.end() && n < max; ++i, ++n)
        firsts.emplace_back(i->first, &i->second);
    };
    collect(pending_);
    for (auto& [id, c] : consumers_)
      collect(c.owned);
    std::sort(firsts.begin(), firsts.end(), [](auto& a, auto& b) { return a.first < b.first; });
    for (size_t i = 0; i < firsts.size() && out.size() < max; ++i)
      out.push_back(*firsts[i].second);
  }
  // Then those waiting for their redelivery delay, in the order they become due.
  for (auto i = delayed_.begin(); i != delayed_.end() && out.size() < max; ++i)
    out.push_back(i->second);
  return out;
}

} // namespace actormq::actors
