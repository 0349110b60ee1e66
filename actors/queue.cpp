#include "actors/queue.hpp"
#include "actors/queue_internal.hpp"

#include "actors/errors.hpp"
#include "actors/snapshot.hpp"
#include "protocol/origin_stamp.hpp"

#include <caf/send.hpp>
#include <spdlog/spdlog.h>

#include <chrono>

namespace actormq::actors {

namespace queue_detail {

namespace {

int64_t now_ms() {
  using namespace std::chrono;
  return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

} // namespace

// Deletes of acknowledged or purged messages are done: those that failed are pending again
// (their messages would come back after a restart, so the queue must not forget them).
void settle_deletes(self_ptr self, const std::vector<uint64_t>& keys,
                    const std::vector<uint64_t>& failed, const caf::error& err, const char* what) {
  auto& st = self->state;
  auto returned = st.core->settle_deletes(keys, failed);
  if (returned == 0)
    return;
  st.dequeued -= std::min(st.dequeued, returned);
  spdlog::warn("queue {}: {} {} messages could not be deleted ({}); they are pending again",
               st.settings.name, returned, what, error_text(err));
  dispatch(self);
}

// The first error of the deletes `keys` whose results start at `results[first]`, and the keys
// whose delete did not commit (a message already gone counts as deleted).
std::pair<caf::error, std::vector<uint64_t>>
failed_deletes(const op_result_list& results, size_t first, const std::vector<uint64_t>& keys) {
  std::pair<caf::error, std::vector<uint64_t>> out;
  for (size_t i = 0; i < keys.size(); ++i) {
    if (first + i >= results.size()) {
      out.second.push_back(keys[i]);
      continue;
    }
    auto& r = results[first + i];
    if (!r.error || r.error == storage::store_errc::not_found)
      continue;
    if (!out.first)
      out.first = from_store_error(r.error, "delete");
    out.second.push_back(keys[i]);
  }
  return out;
}

// Sends `ops` to the store with the waiting deletes of auto acknowledgements behind them, so
// that they share its commit. `done` sees the results of `ops` alone; `failed` a lost request.
// With `sends`, the store tells the queue when they wait for room (store_full_atom).
template <class Done, class Failed>
void write(self_ptr self, op_list ops, Done done, Failed failed, bool sends = false) {
  auto& st = self->state;
  auto own = ops.size();
  std::vector<uint64_t> deletes;
  deletes.swap(st.waiting_deletes);
  if (own > 0)
    st.deletes_shared += deletes.size();
  for (auto key : deletes)
    ops.emplace_back(storage::delete_op{st.settings.destination_id, key});
  auto request = sends ? self->request(st.store, caf::infinite, write_atom::value, std::move(ops),
                                       caf::actor_cast<store_full_listener>(self))
                       : self->request(st.store, caf::infinite, write_atom::value, std::move(ops));
  request.then(
      [self, own, deletes, done](op_result_list& results) mutable {
        if (!deletes.empty()) {
          auto [err, failed_keys] = failed_deletes(results, own, deletes);
          settle_deletes(self, deletes, failed_keys, err, "acknowledged");
        }
        results.resize(std::min(results.size(), own));
        done(results);
      },
      [self, deletes, failed](caf::error& err) mutable {
        if (!deletes.empty())
          settle_deletes(self, deletes, deletes, err, "acknowledged");
        failed(err);
      });
}

// Deletes keys from the store; `done` runs after the commit with the first error, if any, and
// the keys whose delete did not commit.
template <class Done>
void delete_keys(self_ptr self, const std::vector<uint64_t>& keys, Done done) {
  op_list ops;
  ops.reserve(keys.size());
  for (auto key : keys)
    ops.emplace_back(storage::delete_op{self->state.settings.destination_id, key});
  write(
      self, std::move(ops),
      [done, keys](op_result_list& results) mutable {
        auto [err, failed] = failed_deletes(results, 0, keys);
        done(err, failed);
      },
      [done, keys](caf::error& err) mutable { done(err, keys); });
}

// The waiting deletes go to the store in a write of their own.
void flush_waiting_deletes(self_ptr self) {
  if (self->state.waiting_deletes.empty())
    return;
  write(
      self, {}, [](op_result_list&) {}, [](caf::error&) {});
}

// Forwarded messages may go back to other nodes once no local consumer was here for the delay.
bool replay_allowed(self_ptr self) {
  auto& st = self->state;
  return st.settings.replay_when_no_consumers && st.core->local_consumers() == 0 &&
         std::chrono::steady_clock::now() - st.no_local_since >= st.settings.replay_delay;
}

// Tells the broker the local consumer count when it changed (bridges forward on it), and
// schedules a replay check when the last local consumer left.
void consumers_changed(self_ptr self) {
  auto& st = self->state;
  auto local = st.core->local_consumers();
  if (local == st.reported_local_consumers)
    return;
  if (local == 0) {
    st.no_local_since = std::chrono::steady_clock::now();
    if (st.settings.replay_when_no_consumers && !st.replay_scheduled) {
      st.replay_scheduled = true;
      self->delayed_send(self, st.settings.replay_delay, replay_atom::value);
    }
  }
  st.reported_local_consumers = local;
  if (st.settings.demand_listener)
    caf::anon_send(st.settings.demand_listener, demand_atom::value, st.settings.name,
                   static_cast<uint32_t>(local));
}

// Sends the deliveries at the front of the outbox whose record has committed. A delivery whose
// consumer went away meanwhile is dropped: the queue took the message back when it did.
void flush_outbox(self_ptr self) {
  auto& st = self->state;
  while (!st.outbox.empty() && st.outbox.front().waits_for <= st.record_writes_done) {
    auto& out = st.outbox.front();
    if (st.core->in_flight_to(out.subscription, out.message.key))
      caf::anon_send(out.session, dispatch_atom::value, std::move(out.message));
    st.outbox.pop_front();
  }
}

// Records in the store the deliveries `ops` names, then lets the outbox go on.
void record_deliveries(self_ptr self, op_list ops) {
  auto& st = self->state;
  auto id = ++st.record_writes;
  st.records += ops.size();
  write(
      self, std::move(ops),
      [self, id](op_result_list& results) {
        auto& st = self->state;
        for (auto& r : results)
          if (r.error && r.error != storage::store_errc::not_found) {
            // Delivered all the same: a message is not held back for its mark.
            ++st.record_failures;
            spdlog::warn("queue {} could not record a delivery: {}", st.settings.name,
                         r.error.message());
            break;
          }
        st.record_writes_done = std::max(st.record_writes_done, id);
        flush_outbox(self);
      },
      [self, id](caf::error& err) {
        auto& st = self->state;
        ++st.record_failures;
        spdlog::warn("queue {} could not record deliveries: {}", st.settings.name, error_text(err));
        st.record_writes_done = std::max(st.record_writes_done, id);
        flush_outbox(self);
      });
}

void dispatch(self_ptr self) {
  auto& st = self->state;
  op_list records;
  std::vector<uint64_t> expired;
  auto now = now_ms();
  bool replay = replay_allowed(self);
  while (auto d = st.core->next_dispatch(now, expired, replay)) {
    auto session = st.sessions.find(d->owner);
    if (session == st.sessions.end()) {
      // The owner is gone; its down message will return the delivery.
      st.core->undo_dispatch(*d);
      break;
    }
    delivery out{d->consumer_id,
                 d->message.sequence,
                 d->message.redelivered,
                 d->message.delivery_count,
                 {},
                 d->message.persistent,
                 d->message.priority,
                 d->message.expiration_ms};
    if (d->message.body) {
      out.payload = *d->message.body;
    } else {
      auto body = st.db->read_payload(st.settings.destination_id, d->message.sequence);
      if (!body) {
        // A message whose body is gone cannot be delivered; drop it from the queue.
        spdlog::error("queue {} cannot read message {}: {}", st.settings.name, d->message.sequence,
                      body.message());
        (void)st.core->acknowledge(d->subscription, {d->message.sequence});
        continue;
      }
      out.payload = std::move(*body);
    }
    ++st.dispatched;
    if (out.redelivered)
      ++st.redelivered;
    uint64_t waits_for = 0;
    // A bridge marks what it takes in the store itself; a local consumer's delivery of a
    // persistent message is recorded first, unless its put recorded it already.
    auto& m = d->message;
    if (st.settings.persist_redelivered && m.persistent && !d->network &&
        m.recorded_deliveries < m.delivery_count) {
      records.emplace_back(
          storage::record_delivery_op{st.settings.destination_id, m.sequence, m.delivery_count});
      st.core->set_recorded(d->subscription, m.sequence, m.delivery_count);
      waits_for = st.record_writes + 1;
    }
    st.outbox.push_back({session->second, d->subscription, waits_for, std::move(out)});
  }
  if (!records.empty())
    record_deliveries(self, std::move(records));
  flush_outbox(self);
  // Expired messages, and those returned over their redelivery limit.
  handle_dead_letters(self);
  release_held_sends(self);
}

void accept(self_ptr self, uint64_t sequence, const incoming_message& m,
            std::shared_ptr<const std::string> body, uint32_t recorded_deliveries) {
  auto& st = self->state;
  queued_message q;
  q.sequence = sequence;
  q.redelivered = m.prior_deliveries > 0;
  q.delivery_count = m.prior_deliveries;
  q.recorded_deliveries = recorded_deliveries;
  q.size = static_cast<uint32_t>(body->size());
  q.expiration_ms = m.expiration_ms;
  q.priority = m.priority;
  q.persistent = m.persistent;
  q.forwarded = m.forwarded;
  q.body = std::move(body);
  q.group = m.group_id;
  q.group_sequence = m.group_sequence;
  st.core->enqueue(std::move(q));
  ++st.enqueued;
  dispatch(self);
}

// Acknowledges deliveries of a subscription in the core (their deletes are the caller's), or
// the error of an unknown subscription.
caf::expected<ack_outcome> acknowledge(self_ptr self, uint64_t sub, const key_list& keys) {
  auto& st = self->state;
  auto out = st.core->acknowledge(sub, keys);
  if (!out)
    return make_broker_error(broker_errc::unknown_consumer,
                             "no consumer " + std::to_string(sub) + " on " + st.settings.name);
  st.dequeued += out->acknowledged;
  release_held_sends(self);
  return std::move(*out);
}

} // namespace queue_detail

using namespace queue_detail;

queue_actor::behavior_type queue_behavior(self_ptr self, queue_settings settings,
                                          std::shared_ptr<storage::backend> db, store_actor store,
                                          storage::destination_record record) {
  auto& st = self->state;
  st.settings = std::move(settings);
  st.db = std::move(db);
  st.store = std::move(store);
  // Selectors read the envelopes of messages whose bodies are not in memory from the store.
  st.core = std::make_unique<queue_core>(
      st.settings.memory_limit_bytes,
      [db = st.db, id = st.settings.destination_id](uint64_t sequence) {
        auto payload = db->read_payload(id, sequence);
        return payload ? std::optional<std::string>(std::move(*payload)) : std::nullopt;
      });
  recover_queue(self, record);
  start_dead_letters(self);
  self->set_down_handler([self](caf::down_msg& msg) {
    auto& st = self->state;
    auto id = msg.source.id();
    uint64_t returned = 0;
    for (auto sub : st.core->subscriptions_of(id))
      returned += st.core->remove_consumer(sub).value_or(0);
    consumers_changed(self);
    st.sessions.erase(id);
    if (returned > 0)
      spdlog::info("queue {} redelivers {} messages of a closed session", st.settings.name,
                   returned);
    dispatch(self);
  });
  // An unexpected message is logged and dropped, never answered.
  self->set_default_handler(drop_unexpected);
  return {
      [self](send_atom, incoming_message& m) -> caf::result<send_result> {
        if (!m.persistent)
          return send_non_persistent(self, m);
        auto& st = self->state;
        auto sequence = ++st.next_sequence;
        // A forwarded message keeps the identity its first node gave it.
        if (!m.forwarded)
          protocol::origin_stamp(m.payload, st.db->info().store_id, sequence);
        auto body = std::make_shared<const std::string>(std::move(m.payload));
        storage::put_op put;
        put.destination_id = st.settings.destination_id;
        put.entry.sequence = sequence;
        put.entry.size = static_cast<uint32_t>(body->size());
        put.entry.priority = m.priority;
        put.entry.expiration_ms = m.expiration_ms;
        if (m.forwarded)
          put.entry.flags |= storage::flag_forwarded;
        if (!m.group_id.empty())
          put.entry.flags |= storage::flag_grouped;
        put.entry.delivery_count = m.prior_deliveries;
        // A message that will go straight to a waiting local consumer has its delivery recorded
        // with its put, which saves the commit a separate record would take (not when a
        // selector may leave it to nobody).
        if (st.settings.persist_redelivered && st.core->selector_consumers() == 0 &&
            st.core->local_credit() > st.core->pending() + st.puts_in_flight) {
          ++put.entry.delivery_count;
          ++st.premarked;
        }
        auto recorded = put.entry.delivery_count;
        put.payload = *body;
        put.producer_id = m.producer_id;
        put.producer_sequence = m.producer_sequence;
        op_list ops;
        ops.emplace_back(std::move(put));
        auto promise = self->make_response_promise<send_result>();
        m.payload.clear();
        ++st.puts_in_flight;
        write(
            self, std::move(ops),
            [self, promise, sequence, m, body, recorded](op_result_list& results) mutable {
              --self->state.puts_in_flight;
              auto& r = results.front();
              if (r.error) {
                promise.deliver(from_store_error(r.error, "store " + self->state.settings.name));
                return;
              }
              if (r.duplicate) {
                ++self->state.duplicates;
                promise.deliver(send_result{true});
                return;
              }
              accept(self, sequence, m, std::move(body), recorded);
              promise.deliver(send_result{false});
            },
            [self, promise](caf::error& err) mutable {
              --self->state.puts_in_flight;
              promise.deliver(err);
            },
            true);
        return promise;
      },
      [self](enqueue_atom, uint64_t sequence, incoming_message& m) {
        auto& st = self->state;
        st.next_sequence = std::max(st.next_sequence, sequence);
        // Persistent: already stored by the topic (queue_core keeps the body while memory
        // allows, else it is read from the store when dispatched).
        auto body = std::make_shared<const std::string>(std::move(m.payload));
        m.payload.clear();
        accept(self, sequence, m, std::move(body));
      },
      [](durable_atom, durable_link&) {},
      [](remove_atom, std::string&) { return false; },
      [](target_atom, topic_target&) {},
      [self](reserve_atom) -> caf::result<uint32_t, uint64_t> {
        auto& st = self->state;
        return {st.settings.destination_id, ++st.next_sequence};
      },
      [self](txn_put_atom, incoming_list& messages) { return prepare_sends(self, messages); },
      [self](txn_ack_atom, uint64_t sub, key_list& keys) { return prepare_acks(self, sub, keys); },
      [self](txn_done_atom, transaction_settlement& done) { settle_transaction(self, done); },
      [self](store_full_atom, bool held) { store_full_changed(self, held); },
      [self](held_atom) { expire_held_sends(self); },
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
        auto id = st.core->add_consumer(owner, s.consumer_id, s.prefetch, s.priority, s.network,
                                        std::move(selector), s.exclusive);
        consumers_changed(self);
        // The answer goes first: a message from this queue to the session that comes later
        // arrives later, so a subscriber never sees a delivery before its subscription id.
        self->send(self, dispatch_atom::value);
        return id;
      },
      [self](dispatch_atom) { dispatch(self); },
      [self](credit_atom, uint64_t sub, uint32_t credit) {
        if (self->state.core->add_credit(sub, credit))
          dispatch(self);
      },
      [self](ack_atom, uint64_t sub, key_list& keys) -> caf::result<uint64_t> {
        auto out = acknowledge(self, sub, keys);
        if (!out)
          return std::move(out.error());
        caf::error unknown;
        if (!out->unknown_keys.empty())
          unknown = make_broker_error(broker_errc::unknown_delivery,
                                      std::to_string(out->unknown_keys.size()) +
                                          " acknowledged deliveries are unknown to this node");
        if (out->persistent_keys.empty()) {
          if (unknown)
            return unknown;
          return out->acknowledged;
        }
        auto promise = self->make_response_promise<uint64_t>();
        auto count = out->acknowledged;
        auto keys_to_delete = out->persistent_keys;
        delete_keys(self, keys_to_delete,
                    [self, promise, count, unknown, keys_to_delete](
                        const caf::error& err, const std::vector<uint64_t>& failed) mutable {
                      settle_deletes(self, keys_to_delete, failed, err, "acknowledged");
                      if (err)
                        promise.deliver(err);
                      else if (unknown)
                        promise.deliver(unknown);
                      else
                        promise.deliver(count);
                    });
        return promise;
      },
      [self](auto_ack_atom, uint64_t sub, key_list& keys) { auto_acknowledge(self, sub, keys); },
      [self](flush_atom) { flush_when_due(self); },
      [self](stop_atom) {
        auto& st = self->state;
        // Sent, not requested: the write is in the store's mailbox before the broker's end lets
        // the node stop the store, so its final commit holds it.
        if (!st.waiting_deletes.empty()) {
          op_list ops;
          for (auto key : st.waiting_deletes)
            ops.emplace_back(storage::delete_op{st.settings.destination_id, key});
          st.waiting_deletes.clear();
          caf::anon_send(st.store, write_atom::value, std::move(ops));
        }
        self->quit();
        return true;
      },
      [self](nack_atom, uint64_t sub, key_list& keys) -> caf::result<uint64_t> {
        auto returned = self->state.core->return_deliveries(sub, keys);
        if (!returned)
          return make_broker_error(broker_errc::unknown_consumer, "no such consumer");
        dispatch(self);
        return *returned;
      },
      [self](unsub_atom, uint64_t sub) -> caf::result<uint64_t> {
        auto returned = self->state.core->remove_consumer(sub);
        consumers_changed(self);
        if (!returned)
          return make_broker_error(broker_errc::unknown_consumer, "no such consumer");
        dispatch(self);
        return *returned;
      },
      [self](browse_atom, uint32_t max) -> delivery_list {
        auto& st = self->state;
        delivery_list out;
        for (auto& m : st.core->browse(max)) {
          delivery d{0,  m.sequence,   m.redelivered, m.delivery_count,
                     {}, m.persistent, m.priority,    m.expiration_ms};
          if (m.body) {
            d.payload = *m.body;
          } else {
            auto body = st.db->read_payload(st.settings.destination_id, m.sequence);
            if (!body)
              continue;
            d.payload = std::move(*body);
          }
          out.push_back(std::move(d));
        }
        return out;
      },
      [self](purge_atom) -> caf::result<uint64_t> {
        auto& st = self->state;
        auto [keys, total] = st.core->purge();
        st.dequeued += total;
        release_held_sends(self);
        spdlog::info("queue {} purges {} messages", st.settings.name, total);
        if (keys.empty())
          return total;
        auto promise = self->make_response_promise<uint64_t>();
        delete_keys(self, keys,
                    [self, promise, total, keys](const caf::error& err,
                                                 const std::vector<uint64_t>& failed) mutable {
                      settle_deletes(self, keys, failed, err, "purged");
                      if (err)
                        promise.deliver(err);
                      else
                        promise.deliver(total);
                    });
        return promise;
      },
      [self](handover_atom, uint64_t sub, key_list& keys) {
        auto n = self->state.core->hand_over(sub, keys);
        self->state.handed_over += n;
        self->state.dequeued += n;
        release_held_sends(self);
      },
      [self](relocate_atom, relocation& r) { store_relocation(self, r); },
      [self](relocated_atom, uint64_t key, bool ok) { relocation_done(self, key, ok); },
      [self](redeliver_atom) { redeliver_due(self); },
      [self](sweep_atom) { sweep_expired(self); },
      [self](retry_atom, uint32_t max) { return retry_dead_letters(self, max); },
      [self](replay_atom) {
        self->state.replay_scheduled = false;
        dispatch(self);
      },
      [self](stats_atom) -> destination_stats {
        auto& st = self->state;
        destination_stats out{st.settings.name,
                              st.core->pending() + st.core->in_flight(),
                              st.core->consumers(),
                              st.enqueued,
                              st.dequeued,
                              st.core->in_flight(),
                              st.duplicates,
                              st.core->memory_bytes(),
                              !st.held_sends.empty() || st.store_full,
                              st.expired,
                              st.dead_lettered,
                              st.dropped,
                              0,
                              flow_control_reason(st)};
        return out;
      },
      [self](snapshot_atom) -> queue_snapshot {
        // The mailbox as this actor sees it: messages waiting behind this one.
        return make_queue_snapshot(self->state, self->mailbox().size());
      },
  };
}

} // namespace actormq::actors
