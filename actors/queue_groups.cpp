// queue_core's message groups (JMSXGroupID, JMSXGroupSeq) and exclusive consumers. A group's
// pending messages live in its owner's `owned` map, so that dispatch never scans past them when
// the owner has no credit: each dispatch compares the first owned message of each consumer with
// credit with the head of pending_, O(consumers) as picking a consumer already is.
#include "actors/queue_core.hpp"

namespace actormq::actors {

void queue_core::group_taken(const std::string& group, int32_t group_sequence, const order_key& key,
                             uint64_t subscription) {
  auto gi = groups_.find(group);
  if (gi == groups_.end())
    return;
  auto& g = gi->second;
  g.keys.erase(key);
  if (group_sequence == -1) {
    // The group closes: its next message may go to any consumer.
    if (g.owner != 0)
      unassign_group(group);
    else if (g.keys.empty())
      groups_.erase(gi);
    return;
  }
  if (g.owner != 0)
    return;
  auto ci = consumers_.find(subscription);
  if (ci == consumers_.end())
    return;
  auto& owner = ci->second;
  g.owner = subscription;
  owner.groups.insert(group);
  for (auto& k : g.keys) {
    auto node = pending_.extract(k);
    if (!node)
      continue;
    if (selector_consumers_ > 0)
      for (auto& [id, c] : consumers_)
        if (id != subscription)
          c.matches.erase(k);
    owner.owned.insert(std::move(node));
    ++owned_count_;
  }
}

void queue_core::unassign_group(const std::string& group) {
  auto gi = groups_.find(group);
  if (gi == groups_.end())
    return;
  auto& g = gi->second;
  auto ci = consumers_.find(g.owner);
  g.owner = 0;
  if (ci != consumers_.end()) {
    auto& owner = ci->second;
    owner.groups.erase(group);
    for (auto& k : g.keys) {
      auto node = owner.owned.extract(k);
      if (!node)
        continue;
      --owned_count_;
      owner.matches.erase(k);
      auto i = pending_.insert(std::move(node)).position;
      if (selector_consumers_ > 0)
        note_matches(k, i->second);
    }
  }
  if (g.keys.empty())
    groups_.erase(gi);
}

void queue_core::forget_group_key(const std::string& group, const order_key& key) {
  auto gi = groups_.find(group);
  if (gi == groups_.end())
    return;
  gi->second.keys.erase(key);
  if (gi->second.owner == 0 && gi->second.keys.empty())
    groups_.erase(gi);
}

std::optional<std::pair<uint64_t, queue_core::pending_map::iterator>>
queue_core::find_owned(int64_t now_ms, std::vector<uint64_t>& expired, bool replay_forwarded) {
  std::optional<std::pair<uint64_t, pending_map::iterator>> best;
  int32_t best_priority = 0;
  for (auto& [id, c] : consumers_) {
    if (c.credit == 0 || excluded(id))
      continue;
    while (!c.owned.empty()) {
      auto i = c.owned.begin();
      if (is_expired(i->second, now_ms)) {
        expire_taken(take_out_owned(c, i), expired);
        continue;
      }
      // A message of its group that the owner's selector or kind refuses waits for the owner
      // to go (docs/groups.md).
      if (c.network && i->second.forwarded && !replay_forwarded)
        break;
      if (c.selector && c.matches.count(i->first) == 0)
        break;
      if (!best || i->first < best->second->first ||
          (i->first == best->second->first && c.priority > best_priority)) {
        best.emplace(id, i);
        best_priority = c.priority;
      }
      break;
    }
  }
  return best;
}

dispatch_decision queue_core::take_owned(uint64_t subscription, pending_map::iterator i) {
  auto& c = consumers_.at(subscription);
  auto key = i->first;
  auto group = i->second.group;
  queued_message m = take_out_owned(c, i);
  // take_out_owned forgot the key; group_taken records the hand-over (or the group's close).
  group_taken(group, m.group_sequence, key, subscription);
  return hand_to(std::move(m), c, subscription);
}

queued_message queue_core::take_out_owned(consumer& c, pending_map::iterator i) {
  auto key = i->first;
  queued_message m = std::move(i->second);
  forget_group_key(m.group, key);
  if (m.expiration_ms > 0)
    expiring_.erase({m.expiration_ms, key});
  c.matches.erase(key);
  c.owned.erase(i);
  --owned_count_;
  return m;
}

bool queue_core::expire_owned(const order_key& key, std::vector<uint64_t>& expired) {
  for (auto& [id, c] : consumers_)
    if (auto i = c.owned.find(key); i != c.owned.end()) {
      expire_taken(take_out_owned(c, i), expired);
      return true;
    }
  return false;
}

void queue_core::choose_exclusive_owner() {
  exclusive_owner_ = 0;
  int32_t best_priority = 0;
  // By id: among equal priorities the earliest added wins (ActiveMQ's rule).
  for (auto& [id, c] : consumers_)
    if (c.exclusive && (exclusive_owner_ == 0 || c.priority > best_priority)) {
      exclusive_owner_ = id;
      best_priority = c.priority;
    }
}

size_t queue_core::owned_groups() const {
  size_t n = 0;
  for (auto& [id, c] : consumers_)
    n += c.groups.size();
  return n;
}

uint64_t queue_core::group_owner(const std::string& group) const {
  auto gi = groups_.find(group);
  return gi == groups_.end() ? 0 : gi->second.owner;
}

} // namespace actormq::actors
