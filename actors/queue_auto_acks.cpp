// The queue's auto acknowledgements (nobody waits on their answer): their deletes wait up to
// store.auto_ack_delay_ms, or until 512 wait, so that they share the commit of a later write.
#include "actors/queue_internal.hpp"

#include <caf/send.hpp>
#include <spdlog/spdlog.h>

#include <chrono>

namespace actormq::actors::queue_detail {

namespace {

// Waiting deletes of auto acknowledgements beyond this many go to the store at once.
constexpr size_t max_waiting_deletes = 512;

} // namespace

void auto_acknowledge(self_ptr self, uint64_t sub, const key_list& keys) {
  auto& st = self->state;
  auto out = acknowledge(self, sub, keys);
  if (!out) {
    spdlog::warn("queue {}: an acknowledgement names no consumer {}", st.settings.name, sub);
    return;
  }
  if (!out->unknown_keys.empty())
    spdlog::warn("queue {}: {} acknowledged deliveries are unknown to this node", st.settings.name,
                 out->unknown_keys.size());
  if (out->persistent_keys.empty())
    return;
  if (st.waiting_deletes.empty())
    st.waiting_deletes_since = std::chrono::steady_clock::now();
  st.waiting_deletes.insert(st.waiting_deletes.end(), out->persistent_keys.begin(),
                            out->persistent_keys.end());
  if (st.settings.auto_ack_delay.count() == 0 || st.waiting_deletes.size() >= max_waiting_deletes) {
    flush_waiting_deletes(self);
  } else if (!st.waiting_deletes_flush_scheduled) {
    st.waiting_deletes_flush_scheduled = true;
    self->delayed_send(self, st.settings.auto_ack_delay, flush_atom::value);
  }
}

void flush_when_due(self_ptr self) {
  auto& st = self->state;
  st.waiting_deletes_flush_scheduled = false;
  if (st.waiting_deletes.empty())
    return;
  // Deletes that another write took meanwhile are gone; newer ones get their full wait.
  auto due = st.waiting_deletes_since + st.settings.auto_ack_delay;
  auto now = std::chrono::steady_clock::now();
  if (now >= due) {
    flush_waiting_deletes(self);
    return;
  }
  st.waiting_deletes_flush_scheduled = true;
  self->delayed_send(self, due - now, flush_atom::value);
}

} // namespace actormq::actors::queue_detail
