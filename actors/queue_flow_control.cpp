// The queue's flow control (docs/operations.md, "Flow control"). Non-persistent bodies are the
// only copy of their messages, so over its memory limit (limits.destination_memory_bytes, or the
// memory_limit_bytes of the queue's destination policy) a queue takes no more of them: a send
// waits, in order, until consumers make room, as ActiveMQ's producers do; configured, it fails
// at once (limits.send_fail_if_no_space) or after a timeout
// (limits.send_fail_if_no_space_after_timeout_ms). A message that waits is not accepted yet, so
// a send that fails leaves nothing behind. Persistent sends are held by the store when it is
// full (store_flow_control.cpp); it tells the queue, which names the limit in the log and the
// console.
#include "actors/queue_internal.hpp"

#include "actors/errors.hpp"
#include "protocol/origin_stamp.hpp"

#include <caf/send.hpp>
#include <spdlog/spdlog.h>

#include <algorithm>

namespace actormq::actors {

using namespace queue_detail;

namespace {

using clock = std::chrono::steady_clock;

int64_t ms_since(clock::time_point since) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(clock::now() - since).count();
}

std::string memory_limit_text(const queue_state& st) {
  return std::to_string(st.settings.memory_limit_bytes) + " bytes, set by " +
         st.settings.memory_limit_source;
}

// Accepts a non-persistent send: its sequence and origin stamp, then dispatch.
void accept_sent(self_ptr self, incoming_message& m) {
  auto& st = self->state;
  auto sequence = ++st.next_sequence;
  // A forwarded message keeps the identity its first node gave it.
  if (!m.forwarded)
    protocol::origin_stamp(m.payload, st.db->info().store_id, sequence);
  auto body = std::make_shared<const std::string>(std::move(m.payload));
  m.payload.clear();
  accept(self, sequence, m, std::move(body));
}

caf::error no_room(const queue_state& st, const std::string& why) {
  return make_broker_error(broker_errc::limit_exceeded,
                           st.settings.name + " is over its memory limit (" +
                               memory_limit_text(st) + "): the send was refused, " + why);
}

void arm_timer(self_ptr self) {
  auto& st = self->state;
  if (st.held_timer || st.settings.send_fail_after.count() <= 0)
    return;
  auto next = clock::time_point::max();
  for (auto& h : st.held_sends)
    next = std::min(next, h.deadline);
  if (next == clock::time_point::max())
    return;
  st.held_timer = true;
  auto wait = std::chrono::duration_cast<std::chrono::milliseconds>(next - clock::now());
  self->delayed_send(self, std::max(wait, std::chrono::milliseconds(1)), held_atom::value);
}

void log_released(self_ptr self) {
  auto& st = self->state;
  if (!st.held_sends.empty() || !st.flow_control_logged)
    return;
  st.flow_control_logged = false;
  spdlog::info("queue {} releases its producers: {} bytes held in memory, limit {}",
               st.settings.name, st.core->memory_bytes(), memory_limit_text(st));
}

} // namespace

caf::result<send_result> send_non_persistent(self_ptr self, incoming_message& m) {
  auto& st = self->state;
  // Behind a waiting send, a later one waits too: a producer's messages keep their order.
  if (st.held_sends.empty() && !st.core->over_memory_limit()) {
    accept_sent(self, m);
    return send_result{false};
  }
  // A bridge's send always waits (ActiveMQ never fails a network connection's send for want of
  // room: the bridge would only send it again).
  if (st.settings.send_fail_if_no_space && !m.forwarded) {
    ++st.refused_sends;
    return no_room(st, "at once (limits.send_fail_if_no_space)");
  }
  if (!st.flow_control_logged) {
    st.flow_control_logged = true;
    spdlog::warn("queue {} is over its memory limit ({} of {}): producers wait{}", st.settings.name,
                 st.core->memory_bytes(), memory_limit_text(st),
                 st.settings.send_fail_after.count() > 0
                     ? " for up to " + std::to_string(st.settings.send_fail_after.count()) +
                           " ms (limits.send_fail_if_no_space_after_timeout_ms)"
                     : std::string());
  }
  auto deadline = clock::time_point::max();
  if (st.settings.send_fail_after.count() > 0 && !m.forwarded)
    deadline = clock::now() + st.settings.send_fail_after;
  auto promise = self->make_response_promise<send_result>();
  st.held_sends.push_back({promise, std::move(m), deadline});
  arm_timer(self);
  return promise;
}

void release_held_sends(self_ptr self) {
  auto& st = self->state;
  // accept() dispatches, and dispatch() comes back here: the outer call goes on.
  if (st.releasing)
    return;
  st.releasing = true;
  while (!st.held_sends.empty() && !st.core->over_memory_limit()) {
    auto h = std::move(st.held_sends.front());
    st.held_sends.pop_front();
    accept_sent(self, h.message);
    h.promise.deliver(send_result{false});
  }
  st.releasing = false;
  log_released(self);
}

void expire_held_sends(self_ptr self) {
  auto& st = self->state;
  st.held_timer = false;
  auto now = clock::now();
  size_t expired = 0;
  for (auto it = st.held_sends.begin(); it != st.held_sends.end();) {
    if (it->deadline > now) {
      ++it;
      continue;
    }
    it->promise.deliver(no_room(st, "after waiting " +
                                        std::to_string(st.settings.send_fail_after.count()) +
                                        " ms (limits.send_fail_if_no_space_after_timeout_ms)"));
    it = st.held_sends.erase(it);
    ++expired;
  }
  if (expired > 0) {
    st.refused_sends += expired;
    spdlog::warn("queue {}: {} sends failed after waiting {} ms for room under its memory limit "
                 "({})",
                 st.settings.name, expired, st.settings.send_fail_after.count(),
                 memory_limit_text(st));
  }
  log_released(self);
  arm_timer(self);
}

void store_full_changed(self_ptr self, bool held) {
  auto& st = self->state;
  if (held == st.store_full)
    return;
  st.store_full = held;
  if (held) {
    st.store_full_since = clock::now();
    spdlog::warn("queue {}: the store is full (store.max_size_mb = {}): producers wait",
                 st.settings.name, st.settings.store_max_size_mb);
  } else {
    spdlog::info("queue {} releases its producers: the store has room (they waited {} ms)",
                 st.settings.name, ms_since(st.store_full_since));
  }
}

std::string flow_control_reason(const queue_state& st) {
  std::string out;
  if (!st.held_sends.empty())
    out = "memory limit " + std::to_string(st.settings.memory_limit_bytes) + " bytes";
  if (st.store_full)
    out += std::string(out.empty() ? "" : ", ") + "store full";
  return out;
}

} // namespace actormq::actors
