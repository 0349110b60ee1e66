#include "actors/broker.hpp"

#include "actors/errors.hpp"
#include "actors/snapshot.hpp"

#include <spdlog/spdlog.h>

#include <caf/send.hpp>

#include <chrono>

namespace actormq::actors {

namespace {

using self_ptr = broker_ptr;

caf::error over_destination_limit(const broker_state& st, const std::string& name) {
  return make_broker_error(broker_errc::limit_exceeded,
                           "cannot create " + name + ": the node has its maximum of " +
                               std::to_string(st.settings.max_destinations) +
                               " destinations (limits.max_destinations)");
}

// A relocation goes to its target queue, which is looked up (or created) as a session's
// destination is; the source hears of a failure.
void relocate(self_ptr self, const std::string& target, relocation& r) {
  auto refuse = [source = r.source, key = r.from_sequence](const std::string& why) {
    spdlog::warn("broker cannot move a message to {}", why);
    if (source)
      caf::anon_send(caf::actor_cast<queue_actor>(source), relocated_atom::value, key, false);
  };
  auto destination = protocol::parse_destination(target);
  if (!destination || destination->kind != protocol::destination_kind::queue) {
    refuse(target + ": not a queue");
    return;
  }
  self->request(caf::actor_cast<broker_actor>(self), caf::infinite, lookup_atom::value,
                *destination)
      .then([r](queue_actor& q) mutable { caf::anon_send(q, relocate_atom::value, std::move(r)); },
            [refuse, target](caf::error& err) { refuse(target + ": " + error_text(err)); });
}

} // namespace

std::function<void(uint64_t, caf::error)> deliver_to(caf::typed_response_promise<uint64_t> p) {
  return [p](uint64_t count, caf::error err) mutable {
    if (err)
      p.deliver(std::move(err));
    else
      p.deliver(count);
  };
}

queue_actor start_queue(self_ptr self, const storage::destination_record& record, bool durable) {
  auto& st = self->state;
  // A durable subscription's queue is not consumer demand for bridges, and holds no forwarded
  // messages to replay.
  queue_settings qs{record.name,
                    record.id,
                    st.settings.destination_memory_bytes,
                    durable ? false : st.settings.replay_when_no_consumers,
                    st.settings.replay_delay,
                    durable ? demand_counter_actor{} : demand_counter_actor{self},
                    st.settings.persist_redelivered,
                    st.settings.auto_ack_delay,
                    {},
                    relocation_router_actor{self}};
  if (auto* policy = protocol::policy_for(st.settings.policies, record.name)) {
    qs.policy = *policy;
    if (policy->memory_limit_bytes) {
      qs.memory_limit_bytes = *policy->memory_limit_bytes;
      auto& text = policy->pattern.text;
      auto name = text.substr(text.find("://") == std::string::npos ? 0 : text.find("://") + 3);
      qs.memory_limit_source = "destination_policies { queue: \"" + name + "\" }";
    }
  }
  qs.send_fail_if_no_space = st.settings.send_fail_if_no_space;
  qs.send_fail_after = st.settings.send_fail_after;
  qs.store_max_size_mb = st.settings.store_max_size_mb;
  auto q = self->spawn<caf::linked>(queue_behavior, qs, st.db, st.store, record);
  st.queues.emplace(record.name, q);
  if (!durable)
    queue_started(self, record.name, q);
  return q;
}

topic_actor start_topic(self_ptr self, const std::string& name, uint32_t destination_id) {
  auto& st = self->state;
  topic_settings ts;
  ts.name = name;
  ts.store_id = st.db->info().store_id;
  ts.subscriber_pending_limit = st.settings.topic_subscriber_pending_messages;
  ts.slow_subscriber = st.settings.slow_topic_subscriber;
  ts.memory_limit_bytes = st.settings.destination_memory_bytes;
  ts.store = st.store;
  ts.destination_id = destination_id;
  ts.demand_listener = demand_counter_actor{self};
  auto parsed = protocol::parse_subscription_pattern(name);
  ts.pattern = parsed && protocol::has_wildcard(*parsed);
  ts.targets = targets_of_topic(self, name);
  auto t = self->spawn<caf::linked>(topic_behavior, ts);
  st.queues.emplace(name, t);
  topic_started(self, name, t);
  spdlog::info("broker creates {}", name);
  return t;
}

void remove_record(self_ptr self, const std::string& name, uint32_t id,
                   std::function<void(uint64_t, caf::error)> done) {
  op_list ops;
  ops.emplace_back(storage::remove_destination_op{id});
  self->request(self->state.store, caf::infinite, write_atom::value, std::move(ops))
      .then(
          [done, name](op_result_list& results) {
            if (results.front().error)
              done(0, from_store_error(results.front().error, "remove " + name));
            else
              done(results.front().count, caf::error{});
          },
          [done](caf::error& err) { done(0, err); });
}

broker_actor::behavior_type broker_behavior(self_ptr self, broker_settings settings,
                                            std::shared_ptr<storage::backend> db, store_actor store,
                                            std::vector<storage::destination_record> recovered) {
  auto& st = self->state;
  st.settings = settings;
  st.db = std::move(db);
  st.store = std::move(store);
  if (!st.settings.virtual_topic_name.empty())
    if (auto p = protocol::parse_subscription_pattern("topic://" + st.settings.virtual_topic_name))
      st.virtual_topics = std::move(*p);
  auto started = recover_durables(self, recovered);
  remove_stale_temporaries(self, recovered);
  for (auto& record : recovered)
    if (!started.count(record.id) && !is_temporary(record.name))
      start_queue(self, record);
  self->set_down_handler([self](caf::down_msg& msg) {
    auto forget = [&msg](auto& listeners) {
      for (auto i = listeners.begin(); i != listeners.end(); ++i)
        if (i->address() == msg.source) {
          listeners.erase(i);
          return;
        }
    };
    forget(self->state.demand_listeners);
    forget(self->state.creation_listeners);
    release_client_id(self, msg.source);
    remove_temporaries_of(self, msg.source);
  });
  // An unexpected message is logged and dropped, never answered.
  self->set_default_handler(drop_unexpected);
  if (st.settings.offline_durable_timeout.count() > 0)
    self->delayed_send(self, st.settings.offline_check, tick_atom::value);
  return {
      [self](lookup_atom, protocol::destination& d) -> caf::result<queue_actor> {
        auto& st = self->state;
        auto name = d.uri();
        if (auto i = st.queues.find(name); i != st.queues.end())
          return i->second;
        // Only its owner creates a temporary destination (temp_atom).
        if (is_temporary(name))
          return make_broker_error(broker_errc::bad_destination,
                                   "temporary destination " + name +
                                       " does not exist: the connection that made it has "
                                       "closed (or never made it)");
        // A topic is not stored: it exists from its first use until the node stops. Bridges
        // learn of it through its consumer demand, not its creation.
        if (d.kind == protocol::destination_kind::topic) {
          if (st.queues.size() + st.creating.size() >= st.settings.max_destinations)
            return over_destination_limit(st, name);
          return start_topic(self, name, 0);
        }
        if (auto i = st.creating.find(name); i != st.creating.end()) {
          auto promise = self->make_response_promise<queue_actor>();
          i->second.push_back(promise);
          return promise;
        }
        // Checked before a response promise exists: making one marks the request as answered,
        // so an error returned after it would never reach the requester (CAF 0.17 sends nothing
        // for a promise that is dropped). Destinations being created count too.
        if (st.queues.size() + st.creating.size() >= st.settings.max_destinations)
          return over_destination_limit(st, name);
        auto promise = self->make_response_promise<queue_actor>();
        st.creating[name].push_back(promise);
        op_list ops;
        ops.emplace_back(storage::create_destination_op{name});
        self->request(st.store, caf::infinite, write_atom::value, std::move(ops))
            .then(
                [self, name](op_result_list& results) {
                  auto& st = self->state;
                  auto waiting = std::move(st.creating[name]);
                  st.creating.erase(name);
                  auto& r = results.front();
                  if (r.error) {
                    auto err = from_store_error(r.error, "create " + name);
                    for (auto& p : waiting)
                      p.deliver(err);
                    return;
                  }
                  storage::destination_record record;
                  record.id = r.destination_id;
                  record.name = name;
                  spdlog::info("broker creates {}", name);
                  auto q = start_queue(self, record);
                  for (auto& p : waiting)
                    p.deliver(q);
                  for (auto& l : st.creation_listeners)
                    caf::anon_send(l, created_atom::value, name);
                },
                [self, name](caf::error& err) {
                  auto waiting = std::move(self->state.creating[name]);
                  self->state.creating.erase(name);
                  for (auto& p : waiting)
                    p.deliver(err);
                });
        return promise;
      },
      [self](stats_atom) -> caf::result<destination_stats_list> {
        auto& st = self->state;
        if (st.queues.empty())
          return destination_stats_list{};
        auto promise = self->make_response_promise<destination_stats_list>();
        auto gathered = std::make_shared<destination_stats_list>();
        auto remaining = std::make_shared<size_t>(st.queues.size());
        for (auto& [name, q] : st.queues) {
          auto finish = [promise, gathered, remaining]() mutable {
            if (--*remaining == 0)
              promise.deliver(std::move(*gathered));
          };
          self->request(q, std::chrono::seconds(2), stats_atom::value)
              .then(
                  [gathered, finish](destination_stats& s) mutable {
                    gathered->push_back(std::move(s));
                    finish();
                  },
                  [gathered, finish, name = name](caf::error&) mutable {
                    destination_stats s;
                    s.name = name + " (not answering)";
                    gathered->push_back(std::move(s));
                    finish();
                  });
        }
        return promise;
      },
      [self](relocate_atom, std::string& target, relocation& r) { relocate(self, target, r); },
      [self](demand_atom, std::string& name, uint32_t consumers) {
        auto& st = self->state;
        if (consumers == 0)
          st.demand.erase(name);
        else
          st.demand[name] = consumers;
        for (auto& l : st.demand_listeners)
          caf::anon_send(l, demand_atom::value, demand_update{name, consumers});
      },
      [self](listen_atom, creation_listener_actor& listener) {
        auto& st = self->state;
        if (st.creation_listeners.insert(listener).second)
          self->monitor(listener);
      },
      [self](watch_atom, demand_watcher_actor& listener) {
        auto& st = self->state;
        if (st.demand_listeners.insert(listener).second)
          self->monitor(listener);
        demand_list out;
        for (auto& [name, n] : st.demand)
          out.push_back({name, n});
        return out;
      },
      [self](remove_atom, std::string& name) -> caf::result<uint64_t> {
        auto& st = self->state;
        auto i = st.queues.find(name);
        if (i == st.queues.end())
          return make_broker_error(broker_errc::bad_destination, "no destination " + name);
        uint32_t id = 0;
        if (auto records = st.db->destinations())
          for (auto& r : *records)
            if (r.name == name)
              id = r.id;
        auto q = i->second;
        st.queues.erase(i);
        if (st.demand.erase(name) > 0)
          for (auto& l : st.demand_listeners)
            caf::anon_send(l, demand_atom::value, demand_update{name, 0});
        // Unlinked first: a queue's exit would otherwise stop the broker (and the node).
        self->unlink_from(q);
        self->send_exit(q, caf::exit_reason::user_shutdown);
        destination_removed(self, name);
        spdlog::info("broker removes {}", name);
        if (id == 0)
          return uint64_t{0};
        auto promise = self->make_response_promise<uint64_t>();
        remove_record(self, name, id, deliver_to(promise));
        return promise;
      },
      [self](durable_atom, protocol::destination& topic, std::string& client_id,
             std::string& subscription_name, std::string& selector) {
        return open_durable(self, topic, client_id, subscription_name, selector);
      },
      [self](unsub_atom, std::string& client_id, std::string& subscription_name) {
        return remove_durable(self, client_id, subscription_name);
      },
      [self](client_atom, std::string& client_id, std::string& peer, caf::actor& session) {
        return hold_client_id(self, client_id, peer, session);
      },
      [self](tick_atom) { expire_offline_durables(self); },
      [self](listen_atom, creation_listener_actor& listener, protocol::destination& pattern) {
        auto& st = self->state;
        if (st.creation_listeners.insert(listener).second)
          self->monitor(listener);
        return queues_matching(self, pattern);
      },
      [self](temp_atom, protocol::destination& d, caf::actor& owner) {
        return open_temporary(self, d, owner);
      },
      [self](stop_atom) {
        auto& queues = self->state.queues;
        if (queues.empty()) {
          self->quit();
          return;
        }
        auto remaining = std::make_shared<size_t>(queues.size());
        auto one_done = [self, remaining] {
          if (--*remaining == 0)
            self->quit();
        };
        for (auto& [name, q] : queues)
          self->request(q, caf::infinite, stop_atom::value)
              .then([one_done](bool) { one_done(); }, [one_done](caf::error&) { one_done(); });
      },
      [self](list_atom) {
        std::vector<queue_actor> out;
        for (auto& [name, q] : self->state.queues)
          out.push_back(q);
        return out;
      },
      [self](snapshot_atom) -> broker_snapshot {
        broker_snapshot out;
        out.mailbox = self->mailbox().size(); // waiting messages, as this actor sees them
        out.destinations = self->state.queues.size();
        out.durable_subscriptions = self->state.durables.size();
        out.client_ids = self->state.clients.size();
        if (auto bodies = self->state.db->bodies()) {
          out.stored_bodies = bodies->size();
          for (auto& b : *bodies)
            out.body_references += b.references;
        }
        return out;
      },
  };
}

} // namespace actormq::actors
