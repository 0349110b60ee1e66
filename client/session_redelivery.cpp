// The seen set (failover): identities of messages handed to the application without a committed
// acknowledgement, so that a message delivered again after a failover is marked redelivered.
#include "client/session.hpp"

#include <algorithm>

namespace actormq::client::detail {

namespace {

constexpr size_t seen_capacity = 65536;

} // namespace

uint64_t identity_of(const message& m) {
  const std::string* id = &m.producer_id;
  uint64_t sequence = m.producer_sequence;
  if (id->empty()) {
    id = &m.origin_store_id;
    sequence = m.origin_sequence;
  }
  if (id->empty())
    return 0;
  // splitmix64 of the id's hash combined with the sequence.
  uint64_t x = std::hash<std::string>{}(*id) ^ (sequence + 0x9e3779b97f4a7c15ULL);
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  x ^= x >> 31;
  return x == 0 ? 1 : x;
}

void session::note_handed(uint64_t identity, uint64_t epoch) {
  if (identity == 0)
    return;
  std::lock_guard<std::mutex> guard(seen_mutex_);
  auto [it, added] = seen_.insert_or_assign(identity, epoch);
  (void)it;
  if (!added)
    return;
  seen_order_.push_back(identity);
  while (seen_order_.size() > seen_capacity) {
    seen_.erase(seen_order_.front());
    seen_order_.pop_front();
  }
}

void session::note_acked(const std::vector<uint64_t>& identities) {
  std::lock_guard<std::mutex> guard(seen_mutex_);
  for (const auto& id : identities)
    seen_.erase(id);
}

void session::mark_if_seen(message& m, uint64_t epoch) const {
  if (!failover_ || epoch == 0)
    return;
  // Handed to the application before a failover and not acknowledged since: the new node
  // cannot know that it was delivered before.
  std::lock_guard<std::mutex> guard(seen_mutex_);
  auto it = seen_.find(identity_of(m));
  if (it != seen_.end() && it->second < epoch) {
    m.redelivered = true;
    m.delivery_count = std::max<uint32_t>(m.delivery_count, 2);
  }
}

} // namespace actormq::client::detail
