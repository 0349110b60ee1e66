#include "actors/topic.hpp"

#include "actors/errors.hpp"
#include "actors/snapshot.hpp"
#include "protocol/origin_stamp.hpp"

#include <spdlog/spdlog.h>

#include <chrono>

namespace actormq::actors {

namespace {

using self_ptr = topic_actor::stateful_pointer<topic_state>;

int64_t now_ms() {
  using namespace std::chrono;
  return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

void release_held_sends(self_ptr self) {
  auto& st = self->state;
  while (!st.held_sends.empty() && !st.core->over_limit()) {
    st.held_sends.front().deliver(send_result{false});
    st.held_sends.pop_front();
  }
  if (st.held_sends.empty() && st.flow_control_logged) {
    st.flow_control_logged = false;
    spdlog::info("topic {} has room again: publishers resume", st.settings.name);
  }
}

void dispatch(self_ptr self) {
  auto& st = self->state;
  for (auto& d : st.core->take_dispatches(now_ms())) {
    auto s = st.sessions.find(d.owner);
    if (s == st.sessions.end())
      continue;
    auto& m = d.message;
    delivery out{d.consumer_id, m.sequence, false,          1, m.body ? *m.body : std::string{},
                 m.persistent,  m.priority, m.expiration_ms};
    self->send(s->second, dispatch_atom::value, std::move(out));
    ++st.dispatched;
  }
  release_held_sends(self);
}

// A subscriber left: what it had waiting goes with it.
void unsubscribe(self_ptr self, uint64_t subscription) {
  auto& st = self->state;
  if (auto dropped = st.core->remove_subscriber(subscription))
    st.dropped_at_unsubscribe += *dropped;
}

// Answers a send now, or holds it while a non-durable subscriber is over its limits.
void answer_or_hold(self_ptr self, caf::typed_response_promise<send_result> promise) {
  auto& st = self->state;
  if (!st.core->over_limit()) {
    promise.deliver(send_result{false});
    return;
  }
  if (!st.flow_control_logged) {
    st.flow_control_logged = true;
    spdlog::warn("topic {} has a subscriber over its pending limit ({} of {} messages) or "
                 "is over its memory limit ({} of {} bytes): publishers wait",
                 st.settings.name, st.core->most_pending(), st.settings.subscriber_pending_limit,
                 st.core->memory_bytes(), st.settings.memory_limit_bytes);
  }
  st.held_sends.push_back(std::move(promise));
}

// A non-persistent message goes to every durable subscription in memory.
void hand_to_durables(self_ptr self, const incoming_message& m, const std::string& body) {
  for (auto& [name, d] : self->state.durables) {
    auto copy = m;
    copy.payload = body;
    self->send(d.queue, enqueue_atom::value, ++d.last_sequence, std::move(copy));
  }
}

// A persistent message is stored once for every durable subscription (one body, a reference
// each) and handed, with its body, to their queues after the commit; the send is answered then.
void store_for_durables(self_ptr self, incoming_message& m, const std::string& body,
                        caf::typed_response_promise<send_result> promise) {
  auto& st = self->state;
  storage::shared_put_op put;
  std::vector<std::pair<queue_actor, uint64_t>> targets;
  for (auto& [name, d] : st.durables) {
    storage::shared_put_target t;
    t.destination_id = d.destination_id;
    t.entry.sequence = ++d.last_sequence;
    t.entry.priority = m.priority;
    t.entry.expiration_ms = m.expiration_ms;
    put.targets.push_back(t);
    targets.emplace_back(d.queue, t.entry.sequence);
  }
  // The producer audit runs on the topic's own record, so a resend after a failover is
  // recognised whatever subscriptions came or went.
  put.audit_destination_id =
      st.destination_id != 0 ? st.destination_id : put.targets.front().destination_id;
  put.payload = body;
  put.producer_id = m.producer_id;
  put.producer_sequence = m.producer_sequence;
  op_list ops;
  ops.emplace_back(std::move(put));
  // The queues get the body with the key: reading it back from the store would wait for the
  // store's next checkpoint (docs/storage.md, "Journal"). A queue over its memory limit drops it
  // and reads it when it dispatches.
  m.payload = body;
  self->request(st.settings.store, caf::infinite, write_atom::value, std::move(ops))
      .then(
          [self, promise, targets, m](op_result_list& results) mutable {
            auto& st = self->state;
            auto& r = results.front();
            if (r.error) {
              promise.deliver(from_store_error(r.error, "store " + st.settings.name));
              return;
            }
            if (r.duplicate) {
              ++st.duplicates;
              promise.deliver(send_result{true});
              return;
            }
            ++st.stored_for_durables;
            for (auto& [queue, sequence] : targets)
              self->send(queue, enqueue_atom::value, sequence, m);
            answer_or_hold(self, std::move(promise));
          },
          [promise](caf::error& err) mutable { promise.deliver(err); });
}

caf::error not_for_topics(const topic_state& st, const char* what) {
  return make_broker_error(broker_errc::bad_destination,
                           std::string("a topic cannot be ") + what + ": " + st.settings.name);
}

// Frees a subscriber's window for these deliveries; answers how many there were.
caf::result<uint64_t> acknowledge(self_ptr self, uint64_t sub, const key_list& keys) {
  auto& st = self->state;
  auto n = st.core->acknowledge(sub, keys);
  if (!n)
    return make_broker_error(broker_errc::unknown_consumer,
                             "no subscriber " + std::to_string(sub) + " on " + st.settings.name);
  st.dequeued += *n;
  return *n;
}

} // namespace

queue_snapshot make_topic_snapshot(const topic_state& st, size_t mailbox) {
  queue_snapshot out;
  out.destination_kind = "topic";
  out.mailbox = mailbox;
  out.name = st.settings.name;
  out.pending = st.core->pending();
  out.in_flight = st.core->in_flight();
  out.consumers = st.core->subscribers();
  out.local_consumers = st.core->subscribers();
  out.enqueued = st.enqueued;
  out.dequeued = st.dequeued;
  out.expired = st.core->expired();
  out.dispatched = st.dispatched;
  out.dropped_without_subscribers = st.dropped_without_subscribers;
  out.dropped_at_unsubscribe = st.dropped_at_unsubscribe;
  out.memory_bytes = st.core->memory_bytes();
  out.held_sends = st.held_sends.size();
  out.duplicates_dropped = st.duplicates;
  out.durable_subscriptions = st.durables.size();
  out.stored_for_durables = st.stored_for_durables;
  return out;
}

topic_actor::behavior_type topic_behavior(self_ptr self, topic_settings settings) {
  auto& st = self->state;
  st.settings = std::move(settings);
  st.destination_id = st.settings.destination_id;
  st.core = std::make_unique<topic_core>(st.settings.subscriber_pending_limit,
                                         st.settings.memory_limit_bytes);
  self->set_down_handler([self](caf::down_msg& msg) {
    auto& st = self->state;
    auto id = msg.source.id();
    for (auto sub : st.core->subscriptions_of(id))
      unsubscribe(self, sub);
    st.sessions.erase(id);
    release_held_sends(self);
  });
  // An unexpected message is logged and dropped, never answered.
  self->set_default_handler(drop_unexpected);
  return {
      [self](send_atom, incoming_message& m) -> caf::result<send_result> {
        auto& st = self->state;
        auto sequence = ++st.next_sequence;
        ++st.enqueued;
        if (st.core->subscribers() == 0 && st.durables.empty()) {
          ++st.dropped_without_subscribers;
          return send_result{false};
        }
        if (!m.forwarded)
          protocol::origin_stamp(m.payload, st.settings.store_id, sequence);
        auto body = std::make_shared<const std::string>(std::move(m.payload));
        if (st.core->subscribers() > 0) {
          st.core->publish(
              topic_message{sequence, m.persistent, m.priority, m.expiration_ms, body});
          dispatch(self);
        }
        auto promise = self->make_response_promise<send_result>();
        if (!st.durables.empty()) {
          if (m.persistent) {
            store_for_durables(self, m, *body, promise);
            return promise;
          }
          hand_to_durables(self, m, *body);
        }
        answer_or_hold(self, promise);
        return promise;
      },
      [self](durable_atom, durable_link& link) {
        auto& st = self->state;
        if (link.topic_destination_id != 0)
          st.destination_id = link.topic_destination_id;
        auto& d = st.durables[link.name];
        d.destination_id = link.destination_id;
        d.last_sequence = std::max(d.last_sequence, link.last_sequence);
        d.queue = caf::actor_cast<queue_actor>(link.queue);
      },
      [self](remove_atom, std::string& name) {
        // Stores already asked for go ahead of the broker's removal: it asks the store after
        // this answer.
        return self->state.durables.erase(name) > 0;
      },
      [](enqueue_atom, uint64_t, incoming_message&) {},
      // Dead letters and retries move between queues only.
      [](relocate_atom, relocation& r) {
        if (r.source)
          caf::anon_send(caf::actor_cast<queue_actor>(r.source), relocated_atom::value,
                         r.from_sequence, false);
      },
      [](relocated_atom, uint64_t, bool) {},
      [](redeliver_atom) {},
      [](sweep_atom) {},
      [](retry_atom, uint32_t) { return uint64_t{0}; },
      [self](subscribe_atom, consumer_actor& session, subscription& s) -> caf::result<uint64_t> {
        auto& st = self->state;
        std::shared_ptr<const protocol::selector> selector;
        if (!s.selector.empty()) {
          auto parsed = protocol::selector::parse(s.selector, {s.convert_string_expressions});
          if (!parsed)
            return make_broker_error(broker_errc::invalid_field, parsed.message());
          selector = std::move(*parsed);
        }
        auto owner = session.id();
        if (st.sessions.emplace(owner, session).second)
          self->monitor(session);
        // Nothing published before this point reaches the subscriber, and nothing is
        // dispatched to it before this answer (dispatches follow a later publish or credit).
        return st.core->add_subscriber(owner, s.consumer_id, s.prefetch, std::move(selector));
      },
      [self](dispatch_atom) { dispatch(self); },
      [self](credit_atom, uint64_t sub, uint32_t credit) {
        if (self->state.core->add_credit(sub, credit))
          dispatch(self);
      },
      [self](ack_atom, uint64_t sub, key_list& keys) { return acknowledge(self, sub, keys); },
      // A non-durable subscriber gets each message once: a NACK releases it like an ack.
      [self](nack_atom, uint64_t sub, key_list& keys) { return acknowledge(self, sub, keys); },
      [self](auto_ack_atom, uint64_t sub, key_list& keys) {
        auto& st = self->state;
        if (auto n = st.core->acknowledge(sub, keys))
          st.dequeued += *n;
      },
      [](flush_atom) {},
      [self](stop_atom) {
        self->quit();
        return true;
      },
      [self](unsub_atom, uint64_t sub) -> caf::result<uint64_t> {
        auto& st = self->state;
        auto dropped = st.core->remove_subscriber(sub);
        if (!dropped)
          return make_broker_error(broker_errc::unknown_consumer, "no such subscriber");
        st.dropped_at_unsubscribe += *dropped;
        release_held_sends(self);
        // Nothing returns to a topic: a non-durable subscriber's messages go with it.
        return uint64_t{0};
      },
      [self](browse_atom, uint32_t) -> caf::result<delivery_list> {
        return not_for_topics(self->state, "browsed");
      },
      [self](purge_atom) -> caf::result<uint64_t> { return not_for_topics(self->state, "purged"); },
      [](handover_atom, uint64_t, key_list&) {},
      [](replay_atom) {},
      [self](stats_atom) -> destination_stats {
        auto& st = self->state;
        return destination_stats{st.settings.name,
                                 st.core->pending() + st.core->in_flight(),
                                 st.core->subscribers(),
                                 st.enqueued,
                                 st.dequeued,
                                 st.core->in_flight(),
                                 0,
                                 st.core->memory_bytes(),
                                 !st.held_sends.empty()};
      },
      [self](snapshot_atom) -> queue_snapshot {
        return make_topic_snapshot(self->state, self->mailbox().size());
      },
  };
}

} // namespace actormq::actors
