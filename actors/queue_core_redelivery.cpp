// queue_core's redelivery policy, dead letters and expiry (queue_core.hpp).
#include "actors/queue_core.hpp"

#include <algorithm>
#include <chrono>
#include <limits>

namespace actormq::actors {

namespace {

int64_t system_now_ms() {
  using namespace std::chrono;
  return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

} // namespace

bool queue_core::set_consumer_policy(uint64_t subscription, protocol::redelivery_policy policy) {
  auto i = consumers_.find(subscription);
  if (i == consumers_.end())
    return false;
  i->second.policy = std::move(policy);
  return true;
}

void queue_core::return_message(queued_message m, const protocol::redelivery_policy* policy,
                                bool delayed) {
  m.redelivered = true;
  if (!policy) {
    admit(std::move(m), true);
    return;
  }
  if (policy->exhausted(m.delivery_count)) {
    // The body stays with a non-persistent message (its only copy); a persistent one is read
    // from the store when it moves.
    if (m.persistent)
      release(m);
    auto cause = protocol::redelivery_exceeded_cause(m.delivery_count, *policy);
    dead_letters_.push_back({std::move(m), std::move(cause), false});
    return;
  }
  auto delay = delayed ? policy->delay_before(m.delivery_count) : 0;
  if (delay <= 0) {
    admit(std::move(m), true);
    return;
  }
  auto now = clock_ ? clock_() : system_now_ms();
  auto due = now > std::numeric_limits<int64_t>::max() - delay ? std::numeric_limits<int64_t>::max()
                                                               : now + delay;
  auto key = std::make_pair(due, m.sequence);
  delayed_.insert_or_assign(key, std::move(m));
}

uint64_t queue_core::release_due(int64_t now_ms) {
  uint64_t released = 0;
  while (!delayed_.empty() && delayed_.begin()->first.first <= now_ms) {
    auto m = std::move(delayed_.begin()->second);
    delayed_.erase(delayed_.begin());
    admit(std::move(m), true);
    ++released;
  }
  return released;
}

std::optional<int64_t> queue_core::next_due() const {
  if (delayed_.empty())
    return std::nullopt;
  return delayed_.begin()->first.first;
}

void queue_core::expire(pending_map::iterator i, std::vector<uint64_t>& expired) {
  auto m = std::move(i->second);
  erase_pending(i);
  expire_taken(std::move(m), expired);
}

void queue_core::expire_taken(queued_message m, std::vector<uint64_t>& expired) {
  expired.push_back(m.sequence);
  if (m.persistent)
    release(m);
  dead_letters_.push_back({std::move(m), protocol::expired_cause, true});
}

uint64_t queue_core::sweep_expired(int64_t now_ms, size_t max) {
  uint64_t swept = 0;
  std::vector<uint64_t> keys;
  while (swept < max && !expiring_.empty() && expiring_.begin()->first <= now_ms) {
    auto key = expiring_.begin()->second;
    if (auto i = pending_.find(key); i != pending_.end())
      expire(i, keys);
    else if (!expire_owned(key, keys)) // cannot happen: both keep expiring_ in step
      expiring_.erase(expiring_.begin());
    ++swept;
  }
  return swept;
}

std::vector<dead_letter> queue_core::take_dead_letters() {
  std::vector<dead_letter> out;
  out.swap(dead_letters_);
  // A non-persistent body kept for its dead letter is no longer the queue's to account for.
  for (auto& d : out)
    if (d.message.body) {
      auto body = d.message.body;
      release(d.message);
      d.message.body = std::move(body);
    }
  return out;
}

std::vector<queued_message> queue_core::take_pending(size_t max) {
  std::vector<queued_message> out;
  for (auto i = pending_.begin(); out.size() < max && i != pending_.end();) {
    if (!i->second.persistent) { // the store holds nothing to move
      ++i;
      continue;
    }
    auto m = std::move(i->second);
    erase_pending(i++);
    out.push_back(m); // with its body, if it had one in memory
    hold_for_removal(std::move(m));
  }
  return out;
}

void queue_core::hold_for_removal(queued_message m) {
  release(m);
  deleting_.insert_or_assign(m.sequence, std::move(m));
}

} // namespace actormq::actors
