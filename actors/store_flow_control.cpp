// The store actor's flow control (docs/operations.md, "Store full"): a put that finds the store
// full waits for room, as ActiveMQ's producers do by default, or fails at once
// (limits.send_fail_if_no_space) or after a timeout
// (limits.send_fail_if_no_space_after_timeout_ms). Waiting puts keep their order: a later put never
// passes one that waits. They are tried again when a commit freed pages (a delete, a purge, a move
// out of a queue), oldest first and only as many as the measured room should take, so that a retry
// that fails again costs little.
#include "actors/store_actor.hpp"

#include <caf/send.hpp>
#include <spdlog/spdlog.h>

#include <algorithm>

namespace actormq::actors {

namespace {

using clock = std::chrono::steady_clock;

int64_t ms_since(clock::time_point since) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(clock::now() - since).count();
}

// A message a bridge forwarded from another node always waits: the bridge would only send it
// again (ActiveMQ never fails a network connection's send for want of space).
bool forwarded(const storage::operation& op) {
  auto* put = std::get_if<storage::put_op>(&op);
  return put != nullptr && (put->entry.flags & storage::flag_forwarded) != 0;
}

uint64_t payload_bytes(const storage::operation& op) {
  if (auto* put = std::get_if<storage::put_op>(&op))
    return put->payload.size();
  if (auto* shared = std::get_if<storage::shared_put_op>(&op))
    return shared->payload.size();
  return 0;
}

std::string limit_text(const store_state& st) {
  return "store.max_size_mb = " + std::to_string(st.flow.max_size_mb);
}

// A listener learns when the first of its puts waits and when the last one is done.
void count_listener(store_self self, const store_state::result_slot& slot, bool waiting) {
  auto& listener = slot.answer->listener;
  if (!listener)
    return;
  auto& st = self->state;
  auto id = listener.id();
  if (waiting) {
    if (++st.held_of_listener[id] == 1)
      self->send(listener, store_full_atom::value, true);
    return;
  }
  auto it = st.held_of_listener.find(id);
  if (it == st.held_of_listener.end())
    return;
  if (--it->second == 0) {
    st.held_of_listener.erase(it);
    self->send(listener, store_full_atom::value, false);
  }
}

// A waiting put is done (stored, refused, or failed).
void release(store_self self, store_state::held_put& h, storage::op_result r) {
  count_listener(self, h.slot, false);
  resolve(self, h.slot, std::move(r));
}

void arm_timer(store_self self) {
  auto& st = self->state;
  if (st.held_timer || st.flow.fail_after.count() <= 0)
    return;
  auto next = clock::time_point::max();
  for (auto& h : st.held)
    next = std::min(next, h.deadline);
  if (next == clock::time_point::max())
    return;
  st.held_timer = true;
  auto wait = std::chrono::duration_cast<std::chrono::milliseconds>(next - clock::now());
  self->delayed_send(self, std::max(wait, std::chrono::milliseconds(1)), held_atom::value);
}

void log_released(store_self self, size_t stored) {
  auto& st = self->state;
  if (!st.held.empty())
    return;
  spdlog::info("store has room again ({}): the sends that waited go on ({} stored after "
               "waiting up to {} ms)",
               limit_text(st), stored, ms_since(st.held_since));
}

} // namespace

void resolve(store_self, store_state::result_slot& slot, storage::op_result r) {
  auto& answer = *slot.answer;
  answer.results[slot.index] = std::move(r);
  if (--answer.unresolved == 0)
    answer.promise.deliver(std::move(answer.results));
}

bool holdable(const storage::operation& op) {
  return std::holds_alternative<storage::put_op>(op) ||
         std::holds_alternative<storage::shared_put_op>(op);
}

bool frees_pages(const storage::operation& op) {
  return std::holds_alternative<storage::delete_op>(op) ||
         std::holds_alternative<storage::purge_op>(op) ||
         std::holds_alternative<storage::remove_destination_op>(op) ||
         std::holds_alternative<storage::relocate_op>(op) ||
         std::holds_alternative<storage::unschedule_op>(op);
}

void hold_or_fail(store_self self, storage::operation op, store_state::result_slot slot) {
  auto& st = self->state;
  bool network = forwarded(op);
  if (st.flow.send_fail_if_no_space && !network) {
    resolve(self, slot, storage::op_result{storage::store_errc::store_full});
    return;
  }
  auto deadline = clock::time_point::max();
  if (st.flow.fail_after.count() > 0 && !network)
    deadline = clock::now() + st.flow.fail_after;
  if (st.held.empty()) {
    st.held_since = clock::now();
    spdlog::warn("store is full ({}; acknowledgements, purges and expiry make room): sends "
                 "wait for room{}",
                 limit_text(st),
                 st.flow.fail_after.count() > 0
                     ? " for up to " + std::to_string(st.flow.fail_after.count()) +
                           " ms (limits.send_fail_if_no_space_after_timeout_ms)"
                     : std::string());
  }
  count_listener(self, slot, true);
  st.held.push_back({std::move(op), std::move(slot), deadline});
  arm_timer(self);
}

void withhold_puts(store_self self) {
  auto& st = self->state;
  size_t kept = 0;
  for (size_t i = 0; i < st.batch.size(); ++i) {
    if (holdable(st.batch[i])) {
      hold_or_fail(self, std::move(st.batch[i]), std::move(st.slots[i]));
      continue;
    }
    if (kept != i) {
      st.batch[kept] = std::move(st.batch[i]);
      st.slots[kept] = std::move(st.slots[i]);
    }
    ++kept;
  }
  st.batch.resize(kept);
  st.slots.resize(kept);
}

void retry_held(store_self self) {
  auto& st = self->state;
  size_t stored = 0;
  while (!st.held.empty()) {
    // The oldest puts whose bodies fit in the room measured now; at least the oldest one when
    // its body alone fits (the rest of a message, its index entry and audit, is small).
    auto room = st.db->room_for_puts();
    size_t count = 0;
    uint64_t need = 0;
    while (count < st.held.size() && count < st.max_batch) {
      need += payload_bytes(st.held[count].op);
      if (need > room)
        break;
      ++count;
    }
    if (count == 0)
      break;
    op_list ops;
    ops.reserve(count);
    for (size_t i = 0; i < count; ++i)
      ops.push_back(std::move(st.held[i].op));
    auto results = st.db->apply(ops);
    schedule_checkpoint(self);
    bool full = std::any_of(results.begin(), results.end(), [](const storage::op_result& r) {
      return r.error == storage::store_errc::store_full;
    });
    if (full) {
      // The estimate was short: they wait for the next commit that frees pages.
      for (size_t i = 0; i < count; ++i)
        st.held[i].op = std::move(ops[i]);
      break;
    }
    for (size_t i = 0; i < count; ++i) {
      auto h = std::move(st.held.front());
      st.held.pop_front();
      release(self, h, std::move(results[i]));
    }
    stored += count;
  }
  if (stored > 0)
    log_released(self, stored);
}

void expire_held(store_self self) {
  auto& st = self->state;
  st.held_timer = false;
  auto now = clock::now();
  size_t expired = 0;
  for (auto it = st.held.begin(); it != st.held.end();) {
    if (it->deadline > now) {
      ++it;
      continue;
    }
    auto h = std::move(*it);
    it = st.held.erase(it);
    release(self, h, storage::op_result{storage::store_errc::store_full});
    ++expired;
  }
  if (expired > 0) {
    st.held_timed_out += expired;
    spdlog::warn("store is full ({}): {} sends failed after waiting {} ms for room "
                 "(limits.send_fail_if_no_space_after_timeout_ms)",
                 limit_text(st), expired, st.flow.fail_after.count());
    if (st.held.empty())
      spdlog::info("store: no send waits for room any more");
  }
  arm_timer(self);
}

void fail_held(store_self self) {
  auto& st = self->state;
  while (!st.held.empty()) {
    auto h = std::move(st.held.front());
    st.held.pop_front();
    release(self, h, storage::op_result{storage::store_errc::store_full});
  }
}

} // namespace actormq::actors
