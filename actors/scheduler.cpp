#include "actors/scheduler.hpp"

#include "actors/errors.hpp"
#include "actors/incoming.hpp"
#include "actors/scheduled_request.hpp"
#include "protocol/destination.hpp"

#include <caf/send.hpp>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <tuple>

namespace actormq::actors {

namespace {

using self_ptr = scheduler_actor::stateful_pointer<scheduler_state>;

// A delivery whose destination refused it is tried again after this long.
constexpr int64_t retry_ms = 1000;

int64_t now_ms() {
  using namespace std::chrono;
  return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

// One timer, for the earliest due time; a timer of an older generation is ignored when it runs.
void arm(self_ptr self) {
  auto& st = self->state;
  if (st.due.empty()) {
    st.timer_due_ms = -1;
    return;
  }
  auto first = st.due.begin()->first;
  if (st.timer_due_ms == first)
    return;
  st.timer_due_ms = first;
  auto wait = std::max<int64_t>(0, first - now_ms());
  self->delayed_send(self, std::chrono::milliseconds(wait), due_atom::value, ++st.timer_generation);
}

void write_ops(self_ptr self, op_list ops, const char* what, uint64_t id) {
  self->request(self->state.store, caf::infinite, write_atom::value, std::move(ops))
      .then(
          [what, id](op_result_list& results) {
            for (auto& r : results)
              if (r.error && r.error != storage::store_errc::not_found)
                spdlog::error("scheduler could not {} scheduled message {}: {}", what, id,
                              r.error.message());
          },
          [what, id](caf::error& err) {
            spdlog::error("scheduler could not {} scheduled message {}: {}", what, id,
                          error_text(err));
          });
}

// The delivery of `id` is in its destination: the store learns its next time, or loses it.
void delivered(self_ptr self, uint64_t id) {
  auto& st = self->state;
  st.firing.erase(id);
  auto i = st.entries.find(id);
  if (i == st.entries.end())
    return; // cancelled meanwhile
  auto& e = i->second;
  ++e.delivered;
  ++st.delivered;
  std::optional<int64_t> next;
  if (e.repeats_left != 0)
    next = next_due(e.next_ms, e.period_ms, e.cron, now_ms());
  op_list ops;
  if (!next) {
    ops.emplace_back(storage::unschedule_op{id});
    st.entries.erase(i);
    write_ops(self, std::move(ops), "remove", id);
    return;
  }
  if (e.repeats_left > 0)
    --e.repeats_left;
  e.next_ms = *next;
  ops.emplace_back(storage::schedule_op{e, {}, 0});
  st.due.emplace(e.next_ms, id);
  write_ops(self, std::move(ops), "update", id);
  arm(self);
}

void retry_later(self_ptr self, uint64_t id) {
  auto& st = self->state;
  st.firing.erase(id);
  auto i = st.entries.find(id);
  if (i == st.entries.end())
    return;
  i->second.next_ms = now_ms() + retry_ms;
  st.due.emplace(i->second.next_ms, id);
  arm(self);
}

// Sends a due message to its destination, as a producer "scheduler:<id>" whose sequence is the
// delivery's number: a delivery repeated after a crash is a resend the audit recognises.
void fire(self_ptr self, uint64_t id) {
  auto& st = self->state;
  auto i = st.entries.find(id);
  if (i == st.entries.end())
    return;
  auto& e = i->second;
  protocol::envelope envelope;
  if (!protocol::decode_envelope(e.payload, envelope)) {
    spdlog::error("scheduled message {} does not decode: it is dropped", id);
    op_list ops;
    ops.emplace_back(storage::unschedule_op{id});
    st.entries.erase(i);
    write_ops(self, std::move(ops), "remove", id);
    return;
  }
  auto in = incoming_of(envelope, e.payload);
  in.producer_id = "scheduler:" + std::to_string(id);
  in.producer_sequence = e.delivered + 1;
  st.firing.insert(id);
  st.resolver.resolve(
      self, st.broker, e.destination,
      [self, id, in = std::move(in)](const queue_actor& q) mutable {
        self->request(q, caf::infinite, send_atom::value, std::move(in))
            .then([self, id](send_result&) { delivered(self, id); },
                  [self, id](caf::error& err) {
                    spdlog::warn("scheduled message {} could not be delivered ({}); tried again "
                                 "in {} ms",
                                 id, error_text(err), retry_ms);
                    retry_later(self, id);
                  });
      },
      [self, id](const caf::error& err) {
        spdlog::warn("scheduled message {}: its destination cannot be had ({}); tried again in "
                     "{} ms",
                     id, error_text(err), retry_ms);
        retry_later(self, id);
      });
}

void on_due(self_ptr self, uint64_t generation) {
  auto& st = self->state;
  if (generation != st.timer_generation)
    return;
  st.timer_due_ms = -1;
  auto now = now_ms();
  while (!st.due.empty() && st.due.begin()->first <= now) {
    auto id = st.due.begin()->second;
    st.due.erase(st.due.begin());
    fire(self, id);
  }
  arm(self);
}

caf::result<uint64_t> schedule(self_ptr self, schedule_message& m) {
  auto& st = self->state;
  protocol::envelope envelope;
  if (!protocol::decode_envelope(m.payload, envelope))
    return make_broker_error(broker_errc::invalid_field, "the message does not decode");
  auto request = schedule_request_of(envelope);
  if (!request)
    return make_broker_error(broker_errc::invalid_field, "the message asks for no scheduling");
  if (!*request)
    return make_broker_error(broker_errc::invalid_field, request->message());
  auto destination = protocol::canonical_destination(m.destination);
  if (!destination)
    return make_broker_error(broker_errc::bad_destination, destination.message());
  auto now = now_ms();
  auto due = first_due(**request, now);
  if (!due)
    return make_broker_error(broker_errc::invalid_field,
                             "AMQ_SCHEDULED_CRON '" + (*request)->cron +
                                 "' is never due in the next five years");
  storage::scheduled_entry e;
  // Ids grow with the clock, so that one is never given again after a restart (the audit keys
  // deliveries by it) even when the highest was delivered and removed.
  e.id = std::max<uint64_t>(st.last_id + 1, static_cast<uint64_t>(now) * 1000);
  st.last_id = e.id;
  e.destination = std::move(*destination);
  e.next_ms = *due;
  e.period_ms = (*request)->period_ms;
  e.repeats_left = (*request)->repeat;
  e.cron = (*request)->cron;
  e.payload = std::move(m.payload);
  op_list ops;
  // The producer audit keeps a resend (after a failover) from being scheduled twice.
  ops.emplace_back(storage::schedule_op{e, envelope.producer_id(), envelope.producer_sequence()});
  auto promise = self->make_response_promise<uint64_t>();
  self->request(st.store, caf::infinite, write_atom::value, std::move(ops))
      .then(
          [self, promise, e](op_result_list& results) mutable {
            if (!results.empty() && results.front().error) {
              promise.deliver(from_store_error(results.front().error, "schedule"));
              return;
            }
            if (!results.empty() && results.front().duplicate) {
              promise.deliver(uint64_t{0}); // scheduled before: nothing new
              return;
            }
            auto& st = self->state;
            st.due.emplace(e.next_ms, e.id);
            auto id = e.id;
            st.entries.emplace(id, std::move(e));
            arm(self);
            promise.deliver(id);
          },
          [promise](caf::error& err) mutable { promise.deliver(err); });
  return promise;
}

scheduled_list list_scheduled(const scheduler_state& st) {
  scheduled_list out;
  for (auto& [id, e] : st.entries)
    out.push_back(scheduled_info{id, e.destination, e.next_ms, e.period_ms, e.repeats_left, e.cron,
                                 e.delivered, e.payload.size()});
  std::sort(out.begin(), out.end(),
            [](auto& a, auto& b) { return std::tie(a.next_ms, a.id) < std::tie(b.next_ms, b.id); });
  return out;
}

caf::result<bool> cancel(self_ptr self, uint64_t id) {
  auto& st = self->state;
  auto i = st.entries.find(id);
  if (i == st.entries.end())
    return false;
  st.due.erase({i->second.next_ms, id});
  st.entries.erase(i);
  arm(self);
  op_list ops;
  ops.emplace_back(storage::unschedule_op{id});
  auto promise = self->make_response_promise<bool>();
  self->request(st.store, caf::infinite, write_atom::value, std::move(ops))
      .then(
          [promise, id](op_result_list& results) mutable {
            if (!results.empty() && results.front().error &&
                results.front().error != storage::store_errc::not_found) {
              promise.deliver(from_store_error(results.front().error, "cancel"));
              return;
            }
            spdlog::info("scheduled message {} cancelled", id);
            promise.deliver(true);
          },
          [promise](caf::error& err) mutable { promise.deliver(err); });
  return promise;
}

} // namespace

scheduler_actor::behavior_type scheduler_behavior(self_ptr self,
                                                  std::shared_ptr<storage::backend> db,
                                                  store_actor store, broker_actor broker) {
  auto& st = self->state;
  st.db = std::move(db);
  st.store = std::move(store);
  st.broker = std::move(broker);
  st.resolver.monitor_queues = true;
  self->set_down_handler([self](caf::down_msg& msg) { self->state.resolver.forget(msg.source); });
  self->set_default_handler(drop_unexpected);
  auto stored = st.db->scheduled();
  if (!stored) {
    spdlog::error("scheduler cannot read the scheduled messages: {}", stored.message());
  } else {
    for (auto& e : *stored) {
      st.last_id = std::max(st.last_id, e.id);
      st.due.emplace(e.next_ms, e.id);
      st.entries.emplace(e.id, std::move(e));
    }
    if (!st.entries.empty())
      spdlog::info("scheduler holds {} scheduled messages", st.entries.size());
  }
  arm(self);
  return {
      [self](schedule_atom, schedule_message& m) { return schedule(self, m); },
      [self](due_atom, uint64_t generation) { on_due(self, generation); },
      [self](list_atom) { return list_scheduled(self->state); },
      [self](cancel_atom, uint64_t id) { return cancel(self, id); },
  };
}

} // namespace actormq::actors
