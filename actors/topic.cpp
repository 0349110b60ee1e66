#include "actors/topic.hpp"

#include "actors/durable_filter.hpp"
#include "actors/durable_name.hpp"
#include "actors/errors.hpp"
#include "actors/fanout.hpp"
#include "actors/snapshot.hpp"
#include "protocol/origin_stamp.hpp"

#include <caf/send.hpp>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>

namespace actormq::actors {

namespace {

using self_ptr = topic_actor::stateful_pointer<topic_state>;

int64_t now_ms() {
  using namespace std::chrono;
  return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

// Tells the broker the topic's consumer demand when it changed: bridges of peers forward the
// topic's messages here while it is above 0. Network subscriptions are not demand (a message
// that came over a link goes no further).
void report_demand(self_ptr self) {
  auto& st = self->state;
  // A wildcard topic is fed by the topics it matches on this node: it makes no demand of its
  // own across bridges.
  if (st.settings.pattern)
    return;
  auto demand = static_cast<uint32_t>(st.core->subscribers());
  for (auto& [name, d] : st.durables)
    demand += d.network ? 0 : 1;
  if (demand == st.reported_demand)
    return;
  st.reported_demand = demand;
  if (st.settings.demand_listener)
    caf::anon_send(st.settings.demand_listener, demand_atom::value, st.settings.name, demand);
}

// Whether a durable subscription takes the message: a network subscription takes none that came
// over a link; one with a selector only what it selects (an unreadable message matches none).
bool takes(const topic_durable& d, const incoming_message& m, lazy_envelope& e) {
  return !(d.network && m.forwarded) && selects(d.selector, e);
}

bool any_durable_takes(const topic_state& st, const incoming_message& m) {
  lazy_envelope e(m.payload);
  return std::any_of(st.durables.begin(), st.durables.end(),
                     [&](auto& kv) { return takes(kv.second, m, e); });
}

void release_held_sends(self_ptr self) {
  auto& st = self->state;
  while (!st.held_sends.empty() && !st.core->over_limit()) {
    st.held_sends.front()(caf::error{}, send_result{false});
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
  report_demand(self);
}

// Once per topic: a slow subscriber's oldest messages are dropped (drop_oldest).
void log_first_discard(self_ptr self) {
  auto& st = self->state;
  if (st.discard_logged)
    return;
  st.discard_logged = true;
  spdlog::warn("topic {} drops the oldest pending messages of a subscriber with more than {} "
               "waiting (limits.slow_topic_subscriber drop_oldest; counted as discarded)",
               st.settings.name, st.settings.subscriber_pending_limit);
}

using send_answer = topic_state::send_answer;

send_answer answer_to(caf::typed_response_promise<send_result> promise) {
  return [promise](const caf::error& err, send_result r) mutable {
    if (err)
      promise.deliver(err);
    else
      promise.deliver(r);
  };
}

// Answers a send now, or holds it while a non-durable subscriber is over its limits.
void answer_or_hold(self_ptr self, send_answer promise) {
  auto& st = self->state;
  if (!st.core->over_limit()) {
    promise(caf::error{}, send_result{false});
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
  lazy_envelope e(body);
  for (auto& [name, d] : self->state.durables) {
    if (!takes(d, m, e))
      continue;
    auto copy = m;
    copy.payload = body;
    self->send(d.queue, enqueue_atom::value, ++d.last_sequence, std::move(copy));
  }
}

// A persistent message is stored once for every durable subscription (one body, a reference
// each) and handed, with its body, to their queues after the commit; the send is answered then.
// `first_time`: a forwarded message the topic's in-memory audit took (forgotten again if the
// store fails, so that its resend is taken).
void store_for_durables(self_ptr self, incoming_message& m, const std::string& body,
                        send_answer promise, bool first_time) {
  auto& st = self->state;
  storage::shared_put_op put;
  std::vector<std::pair<queue_actor, uint64_t>> targets;
  lazy_envelope e(body);
  for (auto& [name, d] : st.durables) {
    if (!takes(d, m, e))
      continue;
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
          [self, promise, targets, m, first_time](op_result_list& results) mutable {
            auto& st = self->state;
            auto& r = results.front();
            if (r.error) {
              // A forwarded message that was not stored is taken when its bridge sends it again.
              if (m.forwarded && first_time)
                st.forwarded_audit.forget(m.producer_id, m.producer_sequence);
              promise(from_store_error(r.error, "store " + st.settings.name), send_result{});
              return;
            }
            if (r.duplicate) {
              ++st.duplicates;
              promise(caf::error{}, send_result{true});
              return;
            }
            ++st.stored_for_durables;
            for (auto& [queue, sequence] : targets)
              self->send(queue, enqueue_atom::value, sequence, m);
            answer_or_hold(self, std::move(promise));
          },
          [promise](caf::error& err) mutable { promise(err, send_result{}); });
}

// Hands a message to the wildcard topics that match this one (each as a publish of its own) and
// to this virtual topic's consumer queues (through one fan-out, which stores a persistent
// message once for all of them). Returns the answer for this topic's own part: the send is
// answered once every part is done.
send_answer hand_to_targets(self_ptr self, const incoming_message& m, send_answer answer) {
  auto& st = self->state;
  ++st.handed_to_targets;
  fanout_parts parts;
  parts.store = st.settings.store;
  for (auto& [name, actor] : st.targets) {
    auto target = caf::actor_cast<queue_actor>(actor);
    if (name.rfind("topic://", 0) == 0)
      parts.topics.push_back(target);
    else
      parts.queues.push_back(target);
  }
  struct join {
    send_answer answer;
    size_t waiting = 2;
    caf::error error;
    bool duplicate = false;
    void done(const caf::error& err, send_result r) {
      if (err && !error)
        error = err;
      duplicate = duplicate || r.duplicate;
      if (--waiting == 0)
        answer(error, send_result{duplicate});
    }
  };
  auto joined = std::make_shared<join>();
  joined->answer = std::move(answer);
  auto fanout = self->spawn(fanout_behavior, std::move(parts));
  self->request(fanout, caf::infinite, send_atom::value, m)
      .then([joined](send_result& r) { joined->done(caf::error{}, r); },
            [joined](caf::error& err) { joined->done(err, send_result{}); });
  return [joined](const caf::error& err, send_result r) { joined->done(err, r); };
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
  out.discarded = st.core->discarded();
  for (auto& d : st.core->discards())
    out.discarded_by_subscriber += (out.discarded_by_subscriber.empty() ? "" : "; ") +
                                   std::string("session ") + std::to_string(d.owner) +
                                   " consumer " + std::to_string(d.consumer_id) + ": " +
                                   std::to_string(d.discarded);
  return out;
}

topic_actor::behavior_type topic_behavior(self_ptr self, topic_settings settings) {
  auto& st = self->state;
  st.settings = std::move(settings);
  st.destination_id = st.settings.destination_id;
  st.core =
      std::make_unique<topic_core>(st.settings.subscriber_pending_limit,
                                   st.settings.memory_limit_bytes, st.settings.slow_subscriber);
  for (auto& t : st.settings.targets)
    st.targets[t.name] = t.actor;
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
        // A bridge sends its marked messages again after a reconnect: the subscribers served
        // from memory must not get one twice. Durable subscriptions have the store's audit,
        // which answers a resend only once the first one is stored: a resend is acknowledged,
        // and deleted by its sender, never before the message is safe here.
        bool resend = m.forwarded && m.persistent &&
                      !st.forwarded_audit.first_time(m.producer_id, m.producer_sequence);
        bool for_durables = any_durable_takes(st, m);
        if (resend && !for_durables) {
          ++st.duplicates;
          return send_result{true};
        }
        auto sequence = ++st.next_sequence;
        if (!resend)
          ++st.enqueued;
        // Wildcard topics and virtual-topic queues get each message once, not a bridge's resend.
        const bool to_targets = !resend && !st.targets.empty();
        if (st.core->subscribers() == 0 && !for_durables && !to_targets) {
          ++st.dropped_without_subscribers;
          return send_result{false};
        }
        if (!m.forwarded && !st.settings.pattern)
          protocol::origin_stamp(m.payload, st.settings.store_id, sequence);
        auto body = std::make_shared<const std::string>(std::move(m.payload));
        if (st.core->subscribers() > 0 && !resend) {
          auto discarded = st.core->discarded();
          st.core->publish(
              topic_message{sequence, m.persistent, m.priority, m.expiration_ms, body});
          if (st.core->discarded() > discarded)
            log_first_discard(self);
          dispatch(self);
        }
        auto promise = answer_to(self->make_response_promise<send_result>());
        if (to_targets) {
          auto copy = m;
          copy.payload = *body;
          promise = hand_to_targets(self, copy, std::move(promise));
        }
        if (for_durables) {
          if (m.persistent) {
            store_for_durables(self, m, *body, promise, !resend);
            return caf::delegated<send_result>{};
          }
          hand_to_durables(self, m, *body);
        }
        answer_or_hold(self, promise);
        return caf::delegated<send_result>{};
      },
      [self](durable_atom, durable_link& link) {
        auto& st = self->state;
        if (link.topic_destination_id != 0)
          st.destination_id = link.topic_destination_id;
        auto& d = st.durables[link.name];
        d.destination_id = link.destination_id;
        d.last_sequence = std::max(d.last_sequence, link.last_sequence);
        d.queue = caf::actor_cast<queue_actor>(link.queue);
        auto parsed = parse_durable_store_name(link.name);
        d.network = parsed && is_network_subscription(*parsed);
        std::string why;
        d.selector = parsed ? subscription_selector(*parsed, why) : nullptr;
        if (!why.empty())
          spdlog::warn("topic {}: {}", st.settings.name, why);
        report_demand(self);
      },
      [self](target_atom, topic_target& t) {
        auto& st = self->state;
        if (t.add)
          st.targets[t.name] = t.actor;
        else
          st.targets.erase(t.name);
      },
      [self](reserve_atom) -> caf::result<uint32_t, uint64_t> {
        return not_for_topics(self->state, "a part of a shared store");
      },
      [self](remove_atom, std::string& name) {
        // Stores already asked for go ahead of the broker's removal: it asks the store after
        // this answer.
        auto removed = self->state.durables.erase(name) > 0;
        report_demand(self);
        return removed;
      },
      [](enqueue_atom, uint64_t, incoming_message&) {},
      // A transaction's sends are published, as any send is, once its commit is done.
      [](txn_put_atom, incoming_list& messages) {
        prepared_sends out;
        out.publish_after_commit = true;
        out.messages = std::move(messages);
        return out;
      },
      // A non-durable subscriber gets each message once: nothing waits for the commit.
      [self](txn_ack_atom, uint64_t sub, key_list& keys) {
        auto& st = self->state;
        prepared_acks out;
        if (auto n = st.core->acknowledge(sub, keys)) {
          st.dequeued += *n;
          out.acknowledged = *n;
        }
        return out;
      },
      [self](txn_done_atom, transaction_settlement& done) {
        for (auto& m : done.messages)
          caf::anon_send(caf::actor_cast<queue_actor>(self), send_atom::value, std::move(m));
      },
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
      // Flow control of queues (queue_flow_control.cpp).
      [](store_full_atom, bool) {},
      [](held_atom) {},
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
        auto id = st.core->add_subscriber(owner, s.consumer_id, s.prefetch, std::move(selector));
        report_demand(self);
        return id;
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
        report_demand(self);
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
                                 !st.held_sends.empty(),
                                 0,
                                 0,
                                 0,
                                 st.core->discarded(),
                                 {}};
      },
      [self](snapshot_atom) -> queue_snapshot {
        return make_topic_snapshot(self->state, self->mailbox().size());
      },
  };
}

} // namespace actormq::actors
