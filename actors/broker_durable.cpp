// The broker's durable subscriptions and client ids. A durable subscription is a destination in
// the store (durable_name.hpp) with a queue actor of its own, fed by its topic; the topic gets a
// store record too (its producer audit). Both records are created in one batch, and found again
// at start, so a subscription outlives a restart or a takeover on the shared store.
#include "actors/broker.hpp"

#include "actors/durable_name.hpp"
#include "actors/errors.hpp"

#include <spdlog/spdlog.h>

#include <caf/actor_cast.hpp>
#include <caf/send.hpp>

namespace actormq::actors {

namespace {

using self_ptr = broker_ptr;

// Tells the topic of a subscription's queue (starting the topic if need be).
void link_to_topic(self_ptr self, const std::string& topic, const std::string& store_name,
                   uint32_t id, uint64_t last_sequence, const queue_actor& queue) {
  auto& st = self->state;
  uint32_t topic_id = 0;
  if (auto i = st.topic_ids.find(topic); i != st.topic_ids.end())
    topic_id = i->second;
  auto t = st.queues.find(topic);
  queue_actor topic_actor = t != st.queues.end() ? t->second : start_topic(self, topic, topic_id);
  durable_link link{store_name, id, last_sequence, topic_id, caf::actor_cast<caf::actor>(queue)};
  self->send(topic_actor, durable_atom::value, std::move(link));
}

std::string describe(const std::string& client_id, const std::string& subscription_name) {
  return "durable subscription '" + subscription_name + "' of client id '" + client_id + "'";
}

} // namespace

std::set<uint32_t> recover_durables(self_ptr self,
                                    const std::vector<storage::destination_record>& recovered) {
  auto& st = self->state;
  std::set<uint32_t> started;
  for (auto& r : recovered)
    if (r.name.rfind("topic://", 0) == 0) {
      st.topic_ids[r.name] = r.id;
      start_topic(self, r.name, r.id);
      started.insert(r.id);
    }
  for (auto& r : recovered) {
    auto d = parse_durable_store_name(r.name);
    if (!d)
      continue;
    auto q = start_queue(self, r, true);
    auto last = st.db->last_sequence(r.id);
    link_to_topic(self, d->topic, r.name, r.id, last ? *last : 0, q);
    st.durables[{d->client_id, d->subscription_name}] =
        durable_entry{r.name, d->topic, q, std::nullopt};
    started.insert(r.id);
    spdlog::info("broker recovers the {} on {}", describe(d->client_id, d->subscription_name),
                 d->topic);
  }
  return started;
}

namespace {

using durable_promise = caf::typed_response_promise<queue_actor>;

// Creates a durable subscription's store records (its own, and its topic's if new) and its
// queue, then answers `promise` and every open that asked for it meanwhile.
void create_durable(self_ptr self, const std::string& topic_name, const std::string& client_id,
                    const std::string& subscription_name, const std::string& store_name,
                    durable_promise promise) {
  auto& st = self->state;
  if (auto i = st.creating_durables.find(store_name); i != st.creating_durables.end()) {
    i->second.push_back(promise);
    return;
  }
  if (st.queues.size() + st.creating.size() + 2 > st.settings.max_destinations) {
    promise.deliver(make_broker_error(
        broker_errc::limit_exceeded, "cannot create the " + describe(client_id, subscription_name) +
                                         ": the node has its maximum of " +
                                         std::to_string(st.settings.max_destinations) +
                                         " destinations (limits.max_destinations)"));
    return;
  }
  st.creating_durables[store_name].push_back(promise);
  op_list ops;
  bool new_topic_record = st.topic_ids.count(topic_name) == 0;
  if (new_topic_record)
    ops.emplace_back(storage::create_destination_op{topic_name});
  ops.emplace_back(storage::create_destination_op{store_name});
  auto fail_all = [self, store_name](const caf::error& err) {
    auto waiting = std::move(self->state.creating_durables[store_name]);
    self->state.creating_durables.erase(store_name);
    for (auto& p : waiting)
      p.deliver(err);
  };
  self->request(st.store, caf::infinite, write_atom::value, std::move(ops))
      .then(
          [self, store_name, topic_name, client_id, subscription_name, new_topic_record,
           fail_all](op_result_list& results) {
            auto& st = self->state;
            for (auto& r : results)
              if (r.error) {
                fail_all(from_store_error(r.error, "create " + store_name));
                return;
              }
            if (new_topic_record)
              st.topic_ids[topic_name] = results.front().destination_id;
            storage::destination_record record;
            record.id = results.back().destination_id;
            record.name = store_name;
            auto q = start_queue(self, record, true);
            // The topic knows the subscription before the session can subscribe to it: what
            // is published from now on is kept for it.
            link_to_topic(self, topic_name, store_name, record.id, 0, q);
            st.durables[{client_id, subscription_name}] =
                durable_entry{store_name, topic_name, q, std::nullopt};
            spdlog::info("broker creates the {} on {}", describe(client_id, subscription_name),
                         topic_name);
            auto waiting = std::move(st.creating_durables[store_name]);
            st.creating_durables.erase(store_name);
            for (auto& p : waiting)
              p.deliver(q);
          },
          [fail_all](caf::error& err) { fail_all(err); });
}

void drop_durable(self_ptr self, const durable_entry& entry,
                  std::function<void(uint64_t, caf::error)> done);

// JMS: a durable subscription opened again with another selector is a new subscription; the old
// one goes with its messages, unless a consumer of it is open. Then `create` makes the new one.
void replace_durable(self_ptr self, const std::pair<std::string, std::string>& key,
                     const durable_entry& entry, durable_promise promise,
                     std::function<void()> create) {
  self->request(entry.queue, std::chrono::seconds(10), stats_atom::value)
      .then(
          [self, key, entry, promise, create](destination_stats& stats) mutable {
            if (stats.consumers > 0) {
              promise.deliver(make_broker_error(
                  broker_errc::invalid_field,
                  "the " + describe(key.first, key.second) +
                      " has an open consumer with another selector: close it first"));
              return;
            }
            if (self->state.durables.erase(key) == 0) {
              create(); // removed meanwhile
              return;
            }
            spdlog::info("broker replaces the {}: it is opened with another selector",
                         describe(key.first, key.second));
            drop_durable(self, entry, [create](uint64_t, caf::error) { create(); });
          },
          [promise](caf::error& err) mutable { promise.deliver(err); });
}

} // namespace

caf::result<queue_actor> open_durable(self_ptr self, const protocol::destination& topic,
                                      const std::string& client_id,
                                      const std::string& subscription_name,
                                      const std::string& selector) {
  auto& st = self->state;
  auto topic_name = topic.uri();
  if (topic.kind != protocol::destination_kind::topic)
    return make_broker_error(broker_errc::bad_destination,
                             "a durable subscription is made on a topic, not on " + topic_name);
  if (client_id.empty())
    return make_broker_error(broker_errc::invalid_field,
                             "a durable subscription needs a client id (clientId): this "
                             "connection has none");
  if (subscription_name.empty())
    return make_broker_error(broker_errc::invalid_field,
                             "a durable subscription needs a subscription name "
                             "(subscriptionName)");
  auto store_name = durable_store_name({client_id, subscription_name, topic_name, selector});
  if (store_name.size() > max_durable_store_name_bytes)
    return make_broker_error(broker_errc::invalid_field,
                             "the " + describe(client_id, subscription_name) +
                                 " is kept under a name of its client id, name, selector and "
                                 "topic, " +
                                 std::to_string(store_name.size()) + " bytes here, at most " +
                                 std::to_string(max_durable_store_name_bytes) +
                                 ": use a shorter selector or name");
  auto existing = st.durables.find({client_id, subscription_name});
  if (existing != st.durables.end()) {
    if (existing->second.topic != topic_name)
      return make_broker_error(broker_errc::bad_destination,
                               "the " + describe(client_id, subscription_name) + " is on " +
                                   existing->second.topic + ", not " + topic_name +
                                   ": unsubscribe it first");
    if (existing->second.store_name == store_name)
      return existing->second.queue;
  }
  auto promise = self->make_response_promise<queue_actor>();
  auto create = [self, topic_name, client_id, subscription_name, store_name, promise] {
    create_durable(self, topic_name, client_id, subscription_name, store_name, promise);
  };
  if (existing != st.durables.end())
    replace_durable(self, existing->first, existing->second, promise, create);
  else
    create();
  return promise;
}

namespace {

// Removes a durable subscription that has no consumer: its topic first stops storing for it
// (the stores it asked for reach the store before the removal does), then its queue and its
// record with every message go.
void drop_durable(self_ptr self, const durable_entry& entry,
                  std::function<void(uint64_t, caf::error)> done) {
  auto& st = self->state;
  auto finish = [self, entry, done] {
    auto& st = self->state;
    uint32_t id = 0;
    if (auto records = st.db->destinations())
      for (auto& r : *records)
        if (r.name == entry.store_name)
          id = r.id;
    st.queues.erase(entry.store_name);
    self->unlink_from(entry.queue);
    self->send_exit(entry.queue, caf::exit_reason::user_shutdown);
    spdlog::info("broker removes {}", entry.store_name);
    if (id == 0)
      done(0, caf::error{});
    else
      remove_record(self, entry.store_name, id, done);
  };
  auto t = st.queues.find(entry.topic);
  if (t == st.queues.end()) {
    finish();
    return;
  }
  self->request(t->second, std::chrono::seconds(10), remove_atom::value, entry.store_name)
      .then([finish](bool) { finish(); }, [finish](caf::error&) { finish(); });
}

} // namespace

caf::result<uint64_t> remove_durable(self_ptr self, const std::string& client_id,
                                     const std::string& subscription_name) {
  auto& st = self->state;
  if (client_id.empty())
    return make_broker_error(broker_errc::invalid_field,
                             "unsubscribe needs a client id (clientId): this connection has none");
  auto i = st.durables.find({client_id, subscription_name});
  if (i == st.durables.end())
    return make_broker_error(broker_errc::invalid_field,
                             "there is no " + describe(client_id, subscription_name));
  auto entry = i->second;
  auto promise = self->make_response_promise<uint64_t>();
  auto key = i->first;
  // A subscription with an open consumer is not removed (JMS): close the consumer first.
  self->request(entry.queue, std::chrono::seconds(10), stats_atom::value)
      .then(
          [self, promise, entry, key](destination_stats& stats) mutable {
            if (stats.consumers > 0) {
              promise.deliver(make_broker_error(broker_errc::invalid_field,
                                                "the " + describe(key.first, key.second) +
                                                    " has an open consumer: close it first"));
              return;
            }
            if (self->state.durables.erase(key) == 0) {
              promise.deliver(uint64_t{0}); // removed meanwhile
              return;
            }
            drop_durable(self, entry, deliver_to(promise));
          },
          [promise](caf::error& err) mutable { promise.deliver(err); });
  return promise;
}

void expire_offline_durables(self_ptr self) {
  auto& st = self->state;
  self->delayed_send(self, st.settings.offline_check, tick_atom::value);
  for (auto& [key, entry] : st.durables) {
    self->request(entry.queue, std::chrono::seconds(10), stats_atom::value)
        .then(
            [self, key = key](destination_stats& stats) {
              auto& st = self->state;
              auto i = st.durables.find(key);
              if (i == st.durables.end())
                return;
              auto now = std::chrono::steady_clock::now();
              auto& since = i->second.offline_since;
              if (stats.consumers > 0) {
                since.reset();
                return;
              }
              if (!since)
                since = now;
              if (now - *since < st.settings.offline_durable_timeout)
                return;
              auto entry = i->second;
              st.durables.erase(i);
              spdlog::info("broker removes the {}: no consumer for {} ms "
                           "(limits.offline_durable_subscriber_timeout_ms)",
                           describe(key.first, key.second),
                           st.settings.offline_durable_timeout.count());
              drop_durable(self, entry, [](uint64_t, caf::error) {});
            },
            [](caf::error&) {});
  }
}

caf::result<bool> hold_client_id(self_ptr self, const std::string& client_id,
                                 const std::string& peer, const caf::actor& session) {
  auto& st = self->state;
  if (client_id == network_client_id)
    return make_broker_error(broker_errc::invalid_field,
                             "client id '" + client_id +
                                 "' is reserved for the network subscriptions of bridges "
                                 "(durable://" +
                                 client_id + ":...): choose another");
  auto i = st.clients.find(client_id);
  if (i != st.clients.end() && i->second.session != session.address())
    return make_broker_error(broker_errc::invalid_field,
                             "client id '" + client_id +
                                 "' is already in use by a connection from " + i->second.peer +
                                 " (a client id is used by one connection at a "
                                 "time)");
  st.clients[client_id] = client_holder{session.address(), peer};
  self->monitor(session);
  return true;
}

void release_client_id(self_ptr self, const caf::actor_addr& session) {
  auto& clients = self->state.clients;
  for (auto i = clients.begin(); i != clients.end(); ++i)
    if (i->second.session == session) {
      clients.erase(i);
      return;
    }
}

} // namespace actormq::actors
