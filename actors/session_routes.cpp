// A session's destinations beyond one named queue or topic: consumers on several destinations
// (composite destinations and queue wildcards, each destination a part with a subscription of
// its own), sends to composite destinations (through a fan-out actor) and the temporary
// destinations the connection owns.
#include "actors/session_core.hpp"

#include "actors/errors.hpp"
#include "actors/fanout.hpp"

#include <spdlog/spdlog.h>

#include <caf/actor_cast.hpp>

#include <memory>

namespace actormq::actors {

namespace {

using self_ptr = session_ptr;
using consumer_entry = session_state::consumer_entry;

// Several answers joined into one: `done` runs once every one came, with the first error or the
// sum of the counts.
struct joined_counts {
  size_t waiting = 0;
  uint64_t total = 0;
  caf::error error;
  std::function<void(const caf::error&, uint64_t)> done;

  void one(const caf::error& err, uint64_t count) {
    if (err && !error)
      error = err;
    total += count;
    if (--waiting == 0)
      done(error, total);
  }
};

using join_ptr = std::shared_ptr<joined_counts>;

// Ends a subscription nobody waits on.
void drop_subscription(self_ptr self, const queue_actor& q, uint64_t subscription) {
  self->request(q, std::chrono::seconds(30), unsub_atom::value, subscription)
      .then([](uint64_t) {}, [](caf::error&) {});
}

join_ptr make_join(size_t waiting, std::function<void(const caf::error&, uint64_t)> done) {
  auto j = std::make_shared<joined_counts>();
  j->waiting = waiting;
  j->done = std::move(done);
  return j;
}

// Subscribes consumer `id` to one more destination; `done` gets the outcome.
void add_part(self_ptr self, uint64_t id, const std::string& destination,
              std::function<void(const caf::error&)> done) {
  auto c = self->state.consumers.find(id);
  if (c == self->state.consumers.end() || !c->second.part_destinations.insert(destination).second) {
    done(caf::error{});
    return;
  }
  auto parsed = protocol::parse_subscription_pattern(destination);
  if (!parsed) {
    done(make_broker_error(broker_errc::bad_destination, parsed.message()));
    return;
  }
  protocol::destination d{parsed->kind, parsed->text.substr(parsed->text.find("://") + 3)};
  if ((d.kind == protocol::destination_kind::temp_queue ||
       d.kind == protocol::destination_kind::temp_topic) &&
      !owns_temporary(self->state, d)) {
    done(make_broker_error(broker_errc::bad_destination,
                           "only the connection that created " + d.uri() + " may consume from it"));
    return;
  }
  with_destination(
      self, d,
      [self, id, destination, done](const queue_actor& q) {
        auto c = self->state.consumers.find(id);
        if (c == self->state.consumers.end()) {
          done(caf::error{});
          return;
        }
        auto& st = self->state;
        auto part_id = st.next_part_consumer++;
        auto options = c->second.options;
        options.consumer_id = part_id;
        // Known before the subscription answers: the queue dispatches only after it.
        st.part_consumers[part_id] = id;
        self->request(q, std::chrono::seconds(30), subscribe_atom::value, consumer_actor{self},
                      options)
            .then(
                [self, id, part_id, destination, q, done](uint64_t subscription) {
                  auto c = self->state.consumers.find(id);
                  if (c == self->state.consumers.end()) {
                    // Closed meanwhile: the subscription goes too.
                    self->state.part_consumers.erase(part_id);
                    drop_subscription(self, q, subscription);
                    done(caf::error{});
                    return;
                  }
                  c->second.parts[part_id] = consumer_entry::part{destination, q, subscription};
                  done(caf::error{});
                },
                [self, part_id, done](caf::error& err) {
                  self->state.part_consumers.erase(part_id);
                  done(err);
                });
      },
      [done](const caf::error& err) { done(err); });
}

} // namespace

std::string connection_id(const session_state& st) {
  if (!st.client_id.empty())
    return st.client_id;
  return st.ctx->node_name + "-" + st.ctx->listener + "-" + std::to_string(st.session_id);
}

bool owns_temporary(const session_state& st, const protocol::destination& d) {
  auto prefix = "ID:" + connection_id(st) + ":";
  return d.name.size() > prefix.size() && d.name.compare(0, prefix.size(), prefix) == 0 &&
         d.name.find(':', prefix.size()) == std::string::npos;
}

void with_destination(self_ptr self, protocol::destination d, destination_resolver::ready_fn fn,
                      destination_resolver::fail_fn on_error) {
  auto& st = self->state;
  bool temporary = d.kind == protocol::destination_kind::temp_queue ||
                   d.kind == protocol::destination_kind::temp_topic;
  if (!temporary || !owns_temporary(st, d) || st.own_temporaries.count(d.uri())) {
    st.resolver.resolve(self, st.ctx->broker, std::move(d), std::move(fn), std::move(on_error));
    return;
  }
  // The owner's first use makes it; later uses find it like any destination.
  auto name = d.uri();
  self->request(st.ctx->broker, std::chrono::seconds(30), temp_atom::value, d,
                caf::actor_cast<caf::actor>(self))
      .then(
          [self, name, d, fn, on_error](queue_actor&) mutable {
            auto& st = self->state;
            st.own_temporaries.insert(name);
            st.resolver.resolve(self, st.ctx->broker, std::move(d), std::move(fn),
                                std::move(on_error));
          },
          [on_error](caf::error& err) { on_error(err); });
}

void open_multi_consumer(self_ptr self, uint64_t request, uint64_t id,
                         std::vector<protocol::destination_pattern> patterns) {
  auto& st = self->state;
  auto& c = st.consumers[id];
  c.multi = true;
  // One outcome for the open once every part that exists now answered (and one for the
  // pattern lists themselves, so that nothing finishes it early).
  auto finished = [self, request, id](const caf::error& err, uint64_t) {
    auto c = self->state.consumers.find(id);
    if (c == self->state.consumers.end())
      return;
    if (err) {
      for (auto& [pid, part] : c->second.parts) {
        self->state.part_consumers.erase(pid);
        drop_subscription(self, part.queue, part.subscription);
      }
      self->state.consumers.erase(c);
      write_error(self, request, err);
      return;
    }
    c->second.subscription = 1; // open: acks and credit are taken now
    write_receipt(self, request, 1);
  };
  auto join = make_join(patterns.size(), finished);
  for (auto& p : patterns) {
    if (p.kind == protocol::destination_kind::queue && protocol::has_wildcard(p)) {
      c.queue_patterns.push_back(p);
      protocol::destination pattern{p.kind, p.text.substr(p.text.find("://") + 3)};
      self->request(st.ctx->broker, std::chrono::seconds(30), listen_atom::value,
                    creation_listener_actor{self}, pattern)
          .then(
              [self, id, join](std::vector<std::string>& names) {
                join->waiting += names.size();
                for (auto& name : names)
                  add_part(self, id, name, [join](const caf::error& err) { join->one(err, 0); });
                join->one(caf::error{}, 0);
              },
              [join](caf::error& err) { join->one(err, 0); });
      continue;
    }
    add_part(self, id, p.text, [join](const caf::error& err) { join->one(err, 0); });
  }
}

consumer_entry* multi_delivery(self_ptr self, delivery& d) {
  auto& st = self->state;
  auto owner = st.part_consumers.find(d.consumer_id);
  if (owner == st.part_consumers.end())
    return nullptr;
  auto c = st.consumers.find(owner->second);
  if (c == st.consumers.end() || !c->second.parts.count(d.consumer_id))
    return nullptr;
  auto& entry = c->second;
  auto key = entry.next_key++;
  entry.keys[key] = {d.consumer_id, d.key};
  if (!entry.node_acks)
    entry.owed_credit.push_back(d.consumer_id);
  d.consumer_id = owner->second;
  d.key = key;
  return &entry;
}

void multi_ack(self_ptr self, uint64_t request, consumer_entry& c, key_list keys, bool reject) {
  std::map<uint64_t, key_list> by_part;
  for (auto key : keys) {
    auto k = c.keys.find(key);
    if (k == c.keys.end())
      continue;
    if (c.parts.count(k->second.first))
      by_part[k->second.first].push_back(k->second.second);
    c.keys.erase(k);
  }
  if (request == 0 && !reject) {
    for (auto& [pid, queue_keys] : by_part)
      self->send(c.parts[pid].queue, auto_ack_atom::value, c.parts[pid].subscription,
                 std::move(queue_keys));
    return;
  }
  if (by_part.empty()) {
    write_receipt(self, request, 0);
    return;
  }
  auto join = make_join(by_part.size(), [self, request](const caf::error& err, uint64_t total) {
    if (request == 0)
      return;
    if (err)
      write_error(self, request, err);
    else
      write_receipt(self, request, total);
  });
  for (auto& [pid, queue_keys] : by_part) {
    auto& part = c.parts[pid];
    auto on_count = [join](uint64_t count) { join->one(caf::error{}, count); };
    auto on_error = [join](caf::error& err) { join->one(err, 0); };
    if (reject)
      self->request(part.queue, caf::infinite, nack_atom::value, part.subscription,
                    std::move(queue_keys))
          .then(on_count, on_error);
    else
      self->request(part.queue, caf::infinite, ack_atom::value, part.subscription,
                    std::move(queue_keys))
          .then(on_count, on_error);
  }
}

void multi_credit(self_ptr self, consumer_entry& c, uint32_t credit) {
  std::map<uint64_t, uint32_t> by_part;
  while (credit > 0 && !c.owed_credit.empty()) {
    auto pid = c.owed_credit.front();
    c.owed_credit.pop_front();
    if (c.parts.count(pid)) {
      ++by_part[pid];
      --credit;
    }
  }
  for (auto& [pid, n] : by_part)
    self->send(c.parts[pid].queue, credit_atom::value, c.parts[pid].subscription, n);
}

void multi_delivery_written(self_ptr self, consumer_entry& c, uint64_t key) {
  auto k = c.keys.find(key);
  if (k == c.keys.end())
    return;
  auto part = c.parts.find(k->second.first);
  auto queue_key = k->second.second;
  c.keys.erase(k);
  if (part == c.parts.end())
    return;
  self->send(part->second.queue, auto_ack_atom::value, part->second.subscription,
             key_list{queue_key});
  self->send(part->second.queue, credit_atom::value, part->second.subscription, uint32_t{1});
}

void multi_close(self_ptr self, uint64_t request, uint64_t id) {
  auto& st = self->state;
  auto c = st.consumers.find(id);
  auto parts = std::move(c->second.parts);
  st.consumers.erase(c);
  if (parts.empty()) {
    write_receipt(self, request, 0);
    return;
  }
  auto join = make_join(parts.size(), [self, request](const caf::error& err, uint64_t total) {
    if (err)
      write_error(self, request, err);
    else
      write_receipt(self, request, total);
  });
  for (auto& [pid, part] : parts)
    st.part_consumers.erase(pid);
  for (auto& [pid, part] : parts)
    self->request(part.queue, std::chrono::seconds(30), unsub_atom::value, part.subscription)
        .then([join](uint64_t returned) { join->one(caf::error{}, returned); },
              [join](caf::error& err) { join->one(err, 0); });
}

void queue_created(self_ptr self, const std::string& name) {
  for (auto& [id, c] : self->state.consumers) {
    if (!c.multi || c.part_destinations.count(name))
      continue;
    for (auto& p : c.queue_patterns)
      if (protocol::matches(p, name)) {
        add_part(self, id, name, [self, name](const caf::error& err) {
          if (err)
            spdlog::warn("session {}: a wildcard consumer cannot subscribe to {}: {}",
                         self->state.session_id, name, error_text(err));
        });
        break;
      }
  }
}

void destination_gone(self_ptr self, const caf::actor_addr& actor) {
  for (auto& [id, c] : self->state.consumers) {
    if (!c.multi)
      continue;
    for (auto i = c.parts.begin(); i != c.parts.end();) {
      if (i->second.queue.address() == actor) {
        c.part_destinations.erase(i->second.destination);
        self->state.part_consumers.erase(i->first);
        i = c.parts.erase(i);
      } else {
        ++i;
      }
    }
  }
}

void send_to_composite(self_ptr self, std::vector<protocol::destination> parts, incoming_message in,
                       destination_resolver::fail_fn on_error,
                       std::function<void(send_result&)> on_done) {
  // The parts' actors first (each resolved as a send to it alone would be), then one fan-out.
  struct resolving {
    std::vector<queue_actor> actors;
    std::vector<bool> is_topic;
    size_t waiting = 0;
    caf::error error;
  };
  auto r = std::make_shared<resolving>();
  r->actors.resize(parts.size());
  r->waiting = parts.size();
  for (auto& d : parts)
    r->is_topic.push_back(d.kind == protocol::destination_kind::topic ||
                          d.kind == protocol::destination_kind::temp_topic);
  auto in_ptr = std::make_shared<incoming_message>(std::move(in));
  auto one_done = [self, r, in_ptr, on_error, on_done] {
    if (--r->waiting > 0)
      return;
    if (r->error) {
      on_error(r->error);
      return;
    }
    fanout_parts fp;
    fp.store = self->state.ctx->store;
    fp.store_id = self->state.ctx->store_id;
    for (size_t i = 0; i < r->actors.size(); ++i)
      (r->is_topic[i] ? fp.topics : fp.queues).push_back(r->actors[i]);
    auto fanout = self->spawn(fanout_behavior, std::move(fp));
    self->request(fanout, caf::infinite, send_atom::value, std::move(*in_ptr))
        .then([on_done](send_result& result) { on_done(result); },
              [on_error](caf::error& err) { on_error(err); });
  };
  for (size_t i = 0; i < parts.size(); ++i)
    with_destination(
        self, parts[i],
        [r, i, one_done](const queue_actor& q) {
          r->actors[i] = q;
          one_done();
        },
        [r, one_done](const caf::error& err) {
          if (!r->error)
            r->error = err;
          one_done();
        });
}

} // namespace actormq::actors
