// The queue actor's dead letters (queue.hpp): messages over their redelivery limit or expired
// move to their dead-letter queue in one store operation (relocate_op) through the broker, or
// are deleted or dropped as the dead-letter strategy says; returned messages wait on a timer
// for their redelivery delay; a periodic sweep finds expired messages nobody reads; a retry
// moves dead letters back to their original destinations.
#include "actors/errors.hpp"
#include "actors/queue.hpp"
#include "protocol/dead_letter.hpp"

#include <caf/send.hpp>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>

namespace actormq::actors {

namespace {

using self_ptr = queue_actor::stateful_pointer<queue_state>;

// Expired messages one sweep step takes; a full step is followed by another at once (behind
// the mail that waits), so a sweep never holds the queue for long.
constexpr size_t sweep_step = 1000;
// A longer redelivery wait is armed in steps of this (the timer checks what is due).
constexpr int64_t longest_timer_ms = 3600000;

int64_t now_ms() {
  using namespace std::chrono;
  return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

// The dead-letter queue of this queue; empty if its dead letters have nowhere to go (it is its
// own dead-letter queue).
std::string dead_letter_target(const queue_state& st) {
  auto target = st.settings.policy.dead_letter.target_for(st.settings.name);
  return target == st.settings.name ? std::string() : target;
}

void arm_redelivery_timer(self_ptr self) {
  auto& st = self->state;
  auto due = st.core->next_due();
  if (!due || (st.redeliver_timer && *st.redeliver_timer <= *due))
    return;
  auto now = now_ms();
  auto wait = std::clamp<int64_t>(*due - now, 0, longest_timer_ms);
  st.redeliver_timer = now + wait;
  self->delayed_send(self, std::chrono::milliseconds(wait), redeliver_atom::value);
}

// The envelope of a message, from memory or the store.
std::optional<std::string> payload_of(queue_state& st, const queued_message& m) {
  if (m.body)
    return *m.body;
  auto body = st.db->read_payload(st.settings.destination_id, m.sequence);
  if (!body) {
    spdlog::error("queue {} cannot read message {}: {}", st.settings.name, m.sequence,
                  body.message());
    return std::nullopt;
  }
  return std::move(*body);
}

void delete_from_store(self_ptr self, const std::vector<uint64_t>& keys) {
  auto& st = self->state;
  op_list ops;
  for (auto key : keys)
    ops.emplace_back(storage::delete_op{st.settings.destination_id, key});
  // A message whose delete fails is found again after a restart.
  self->request(st.store, caf::infinite, write_atom::value, std::move(ops))
      .then(
          [self](op_result_list& results) {
            for (auto& r : results)
              if (r.error && r.error != storage::store_errc::not_found) {
                spdlog::error("queue {} could not delete a dead letter: {}",
                              self->state.settings.name, r.error.message());
                return;
              }
          },
          [self](caf::error& err) {
            spdlog::error("queue {} could not delete dead letters: {}", self->state.settings.name,
                          error_text(err));
          });
}

// Sends a message to the queue `target` through the broker; a persistent one waits in the
// core (deleting) until the target says whether it moved.
bool send_relocation(self_ptr self, queued_message m, std::string payload,
                     const std::string& target) {
  auto& st = self->state;
  if (!st.settings.router)
    return false;
  relocation r{
      st.settings.destination_id,       m.sequence, std::move(payload), m.persistent, m.priority,
      caf::actor_cast<caf::actor>(self)};
  if (m.persistent)
    st.core->hold_for_removal(std::move(m));
  ++st.dequeued;
  caf::anon_send(st.settings.router, relocate_atom::value, target, std::move(r));
  return true;
}

// A message moved here becomes pending.
void admit_moved(self_ptr self, uint64_t sequence, std::shared_ptr<const std::string> body,
                 bool persistent, int32_t priority) {
  auto& st = self->state;
  queued_message q;
  q.sequence = sequence;
  q.size = static_cast<uint32_t>(body->size());
  q.priority = priority;
  q.persistent = persistent;
  q.body = std::move(body);
  st.core->enqueue(std::move(q));
  ++st.enqueued;
  self->send(self, dispatch_atom::value);
}

} // namespace

void start_dead_letters(self_ptr self) {
  auto& st = self->state;
  auto& policy = st.settings.policy;
  // A durable subscription's queue has no queue name to give a prefix to.
  if (st.settings.name.rfind("queue://", 0) != 0)
    policy.dead_letter.individual = false;
  auto redelivery = policy.redelivery;
  // Its own dead-letter queue keeps its messages: they are redelivered without limit.
  if (dead_letter_target(st).empty())
    redelivery.maximum_redeliveries = -1;
  st.core->set_redelivery_policy(redelivery);
  if (policy.expire_messages_period_ms > 0)
    self->delayed_send(self, std::chrono::milliseconds(policy.expire_messages_period_ms),
                       sweep_atom::value);
}

void handle_dead_letters(self_ptr self) {
  auto& st = self->state;
  auto dead = st.core->take_dead_letters();
  if (!dead.empty()) {
    auto target = dead_letter_target(st);
    auto& strategy = st.settings.policy.dead_letter;
    std::vector<uint64_t> deletes;
    uint64_t moved = 0;
    uint64_t dropped = 0;
    for (auto& d : dead) {
      auto& m = d.message;
      if (d.expired)
        ++st.expired;
      bool wanted = !target.empty() && (m.persistent || strategy.process_non_persistent) &&
                    (!d.expired || strategy.process_expired);
      std::optional<std::string> letter;
      if (wanted) {
        if (auto payload = payload_of(st, m)) {
          letter.emplace();
          if (!protocol::make_dead_letter(*payload, target, d.cause, *letter)) {
            spdlog::error("queue {}: message {} is not an envelope; it is deleted",
                          st.settings.name, m.sequence);
            letter.reset();
          }
        }
      }
      auto sequence = m.sequence;
      auto persistent = m.persistent;
      if (letter && send_relocation(self, std::move(m), std::move(*letter), target)) {
        ++st.dead_lettered;
        ++moved;
        continue;
      }
      ++st.dequeued;
      if (persistent) {
        deletes.push_back(sequence);
      } else {
        ++st.dropped;
        ++dropped;
      }
    }
    if (!deletes.empty())
      delete_from_store(self, deletes);
    spdlog::info("queue {}: {} dead letters ({} to {}, {} non-persistent dropped, {} deleted)",
                 st.settings.name, dead.size(), moved, target.empty() ? "nowhere" : target, dropped,
                 deletes.size());
  }
  arm_redelivery_timer(self);
}

void store_relocation(self_ptr self, relocation& r) {
  auto& st = self->state;
  auto reply = [source = r.source, key = r.from_sequence](bool ok) {
    if (source)
      caf::anon_send(caf::actor_cast<queue_actor>(source), relocated_atom::value, key, ok);
  };
  auto sequence = ++st.next_sequence;
  auto body = std::make_shared<const std::string>(std::move(r.payload));
  if (!r.persistent) {
    admit_moved(self, sequence, std::move(body), false, r.priority);
    reply(true);
    return;
  }
  storage::relocate_op op;
  op.from_destination_id = r.from_destination_id;
  op.from_sequence = r.from_sequence;
  op.to_destination_id = st.settings.destination_id;
  op.entry.sequence = sequence;
  op.entry.priority = r.priority;
  op.payload = *body;
  op_list ops;
  ops.emplace_back(std::move(op));
  auto priority = r.priority;
  self->request(st.store, caf::infinite, write_atom::value, std::move(ops))
      .then(
          [self, sequence, body, priority, reply](op_result_list& results) mutable {
            bool ok = !results.empty() && !results.front().error;
            if (ok)
              admit_moved(self, sequence, std::move(body), true, priority);
            else
              spdlog::warn("queue {} could not take a moved message: {}", self->state.settings.name,
                           results.empty() ? "no result" : results.front().error.message());
            reply(ok);
          },
          [self, reply](caf::error& err) {
            spdlog::warn("queue {} could not take a moved message: {}", self->state.settings.name,
                         error_text(err));
            reply(false);
          });
}

void relocation_done(self_ptr self, uint64_t sequence, bool ok) {
  auto& st = self->state;
  std::vector<uint64_t> keys{sequence};
  auto returned = st.core->settle_deletes(keys, ok ? std::vector<uint64_t>{} : keys);
  auto retry = st.retrying.find(sequence);
  if (retry != st.retrying.end()) {
    auto count = retry->second;
    st.retrying.erase(retry);
    count->moved += ok ? 1 : 0;
    if (--count->waiting == 0)
      count->promise.deliver(count->moved);
  } else if (!ok) {
    st.dead_lettered -= std::min<uint64_t>(st.dead_lettered, 1);
  }
  if (returned > 0) {
    st.dequeued -= std::min(st.dequeued, returned);
    spdlog::warn("queue {}: message {} could not be moved; it is pending again", st.settings.name,
                 sequence);
    self->send(self, dispatch_atom::value);
  }
}

void redeliver_due(self_ptr self) {
  auto& st = self->state;
  st.redeliver_timer.reset();
  if (st.core->release_due(now_ms()) > 0)
    self->send(self, dispatch_atom::value);
  arm_redelivery_timer(self);
}

void sweep_expired(self_ptr self) {
  auto& st = self->state;
  auto swept = st.core->sweep_expired(now_ms(), sweep_step);
  if (swept > 0)
    handle_dead_letters(self);
  if (swept == sweep_step)
    self->send(self, sweep_atom::value);
  else
    self->delayed_send(self,
                       std::chrono::milliseconds(st.settings.policy.expire_messages_period_ms),
                       sweep_atom::value);
}

caf::result<uint64_t> retry_dead_letters(self_ptr self, uint32_t max) {
  auto& st = self->state;
  if (!st.settings.router)
    return uint64_t{0};
  auto taken = st.core->take_pending(max);
  if (taken.empty())
    return uint64_t{0};
  auto count = std::make_shared<queue_state::retry_count>();
  count->promise = self->make_response_promise<uint64_t>();
  std::vector<uint64_t> stay;
  for (auto& m : taken) {
    auto payload = payload_of(st, m);
    std::string envelope;
    std::string target;
    if (!payload || !protocol::make_retry(*payload, envelope, target)) {
      stay.push_back(m.sequence); // not a dead letter: it names no original destination
      continue;
    }
    relocation r{
        st.settings.destination_id,       m.sequence, std::move(envelope), m.persistent, m.priority,
        caf::actor_cast<caf::actor>(self)};
    ++count->waiting;
    st.retrying[m.sequence] = count;
    ++st.dequeued;
    caf::anon_send(st.settings.router, relocate_atom::value, target, std::move(r));
  }
  if (!stay.empty())
    st.core->settle_deletes(stay, stay);
  spdlog::info("queue {} moves {} messages back to their original destinations ({} stay)",
               st.settings.name, count->waiting, stay.size());
  if (count->waiting == 0)
    count->promise.deliver(uint64_t{0});
  return count->promise;
}

} // namespace actormq::actors
