// The broker's routing rules beyond one named destination: wildcard topics (a topic hands its
// messages to every wildcard topic that matches it), virtual topics (a topic hands them to its
// consumers' queues), the queues a queue wildcard matches, and temporary destinations owned by
// one connection.
#include "actors/broker.hpp"

#include "actors/errors.hpp"

#include <spdlog/spdlog.h>

#include <caf/actor_cast.hpp>
#include <caf/send.hpp>

namespace actormq::actors {

namespace {

using self_ptr = broker_ptr;

constexpr std::string_view topic_scheme = "topic://";
constexpr std::string_view queue_scheme = "queue://";

bool starts_with(const std::string& text, std::string_view prefix) {
  return text.compare(0, prefix.size(), prefix) == 0;
}

bool is_wildcard(const std::string& name) {
  return name.find_first_of("*>") != std::string::npos;
}

// A plain topic name (not a wildcard, not temporary).
bool is_plain_topic(const std::string& name) {
  return starts_with(name, topic_scheme) && !is_wildcard(name);
}

bool is_virtual_topic(const broker_state& st, const std::string& topic) {
  return st.virtual_topics && is_plain_topic(topic) && protocol::matches(*st.virtual_topics, topic);
}

// The virtual topic whose consumers' queue this is ("queue://Consumer.a.VirtualTopic.Orders" ->
// "topic://VirtualTopic.Orders"), if the name has the consumer prefix.
std::optional<std::string> virtual_topic_of_queue(const broker_state& st,
                                                  const std::string& queue) {
  if (!st.virtual_topics || !starts_with(queue, queue_scheme))
    return std::nullopt;
  // The prefix's elements ("Consumer", "*"), matched element by element.
  auto prefix = protocol::parse_subscription_pattern(
      std::string(queue_scheme) + st.settings.virtual_topic_consumer_prefix + "x");
  if (!prefix)
    return std::nullopt;
  auto& elements = prefix->elements;
  auto name = queue.substr(queue_scheme.size());
  size_t at = 0;
  for (size_t i = 0; i + 1 < elements.size(); ++i) {
    auto dot = name.find('.', at);
    if (dot == std::string::npos)
      return std::nullopt;
    auto element = name.substr(at, dot - at);
    if (elements[i] != "*" && elements[i] != element)
      return std::nullopt;
    at = dot + 1;
  }
  auto topic = std::string(topic_scheme) + name.substr(at);
  if (!is_virtual_topic(st, topic))
    return std::nullopt;
  return topic;
}

void tell_topic(self_ptr self, const std::string& topic, topic_target target) {
  auto& st = self->state;
  if (auto t = st.queues.find(topic); t != st.queues.end())
    self->send(t->second, target_atom::value, std::move(target));
}

} // namespace

bool is_temporary(const std::string& name) {
  return starts_with(name, "temp-queue://") || starts_with(name, "temp-topic://");
}

std::vector<topic_target> targets_of_topic(self_ptr self, const std::string& name) {
  auto& st = self->state;
  std::vector<topic_target> out;
  if (!is_plain_topic(name))
    return out;
  for (auto& [pattern_name, pattern] : st.topic_patterns)
    if (protocol::matches(pattern, name))
      if (auto t = st.queues.find(pattern_name); t != st.queues.end())
        out.push_back({pattern_name, caf::actor_cast<caf::actor>(t->second), true});
  if (is_virtual_topic(st, name))
    for (auto& [queue_name, queue] : st.queues)
      if (virtual_topic_of_queue(st, queue_name) == name)
        out.push_back({queue_name, caf::actor_cast<caf::actor>(queue), true});
  return out;
}

void topic_started(self_ptr self, const std::string& name, const queue_actor& topic) {
  auto& st = self->state;
  if (!starts_with(name, topic_scheme) || !is_wildcard(name))
    return;
  auto pattern = protocol::parse_subscription_pattern(name);
  if (!pattern)
    return;
  // The topics that exist now hand it their messages from now on; later ones from their start.
  for (auto& [other, actor] : st.queues)
    if (is_plain_topic(other) && protocol::matches(*pattern, other))
      self->send(actor, target_atom::value,
                 topic_target{name, caf::actor_cast<caf::actor>(topic), true});
  st.topic_patterns.emplace(name, std::move(*pattern));
  spdlog::info("broker follows the wildcard {}", name);
}

void queue_started(self_ptr self, const std::string& name, const queue_actor& queue) {
  if (auto topic = virtual_topic_of_queue(self->state, name))
    tell_topic(self, *topic, topic_target{name, caf::actor_cast<caf::actor>(queue), true});
}

void destination_removed(self_ptr self, const std::string& name) {
  if (auto topic = virtual_topic_of_queue(self->state, name))
    tell_topic(self, *topic, topic_target{name, caf::actor{}, false});
}

std::vector<std::string> queues_matching(self_ptr self, const protocol::destination& d) {
  std::vector<std::string> out;
  auto pattern = protocol::parse_subscription_pattern(d.uri());
  if (!pattern)
    return out;
  for (auto& [name, queue] : self->state.queues)
    if (starts_with(name, queue_scheme) && protocol::matches(*pattern, name))
      out.push_back(name);
  return out;
}

caf::result<queue_actor> open_temporary(self_ptr self, const protocol::destination& d,
                                        const caf::actor& owner) {
  auto& st = self->state;
  auto name = d.uri();
  if (!is_temporary(name))
    return make_broker_error(broker_errc::bad_destination, name + " is not temporary");
  if (auto i = st.temporaries.find(name); i != st.temporaries.end()) {
    if (i->second.owner != owner.address())
      return make_broker_error(broker_errc::bad_destination,
                               "temporary destination " + name + " belongs to another connection");
    return st.queues.at(name);
  }
  if (auto i = st.creating_temps.find(name); i != st.creating_temps.end()) {
    if (i->second.owner != owner.address())
      return make_broker_error(broker_errc::bad_destination,
                               "temporary destination " + name + " belongs to another connection");
    auto promise = self->make_response_promise<queue_actor>();
    i->second.waiting.push_back(promise);
    return promise;
  }
  if (st.queues.size() + st.creating.size() + st.creating_temps.size() >=
      st.settings.max_destinations)
    return make_broker_error(broker_errc::limit_exceeded,
                             "cannot create " + name + ": the node has its maximum of " +
                                 std::to_string(st.settings.max_destinations) +
                                 " destinations (limits.max_destinations)");
  // Monitored first: an owner already gone is noticed (remove_temporaries_of) before the
  // destination exists, and it is removed as soon as it does.
  self->monitor(owner);
  if (d.kind == protocol::destination_kind::temp_topic) {
    st.temporaries[name] = broker_state::temporary{owner.address(), 0};
    return start_topic(self, name, 0);
  }
  auto promise = self->make_response_promise<queue_actor>();
  auto& creating = st.creating_temps[name];
  creating.owner = owner.address();
  creating.waiting.push_back(promise);
  op_list ops;
  ops.emplace_back(storage::create_destination_op{name});
  self->request(st.store, caf::infinite, write_atom::value, std::move(ops))
      .then(
          [self, name](op_result_list& results) {
            auto& st = self->state;
            auto creating = std::move(st.creating_temps[name]);
            st.creating_temps.erase(name);
            auto& r = results.front();
            if (r.error) {
              auto err = from_store_error(r.error, "create " + name);
              for (auto& p : creating.waiting)
                p.deliver(err);
              return;
            }
            if (creating.owner_gone) {
              remove_record(self, name, r.destination_id, [](uint64_t, caf::error) {});
              auto err = make_broker_error(broker_errc::bad_destination,
                                           "temporary destination " + name +
                                               ": the connection that made it has closed");
              for (auto& p : creating.waiting)
                p.deliver(err);
              return;
            }
            storage::destination_record record;
            record.id = r.destination_id;
            record.name = name;
            spdlog::debug("broker creates {}", name);
            // Like a durable subscription's queue: no demand for bridges, nothing to replay.
            auto q = start_queue(self, record, true);
            st.temporaries[name] = broker_state::temporary{creating.owner, record.id};
            for (auto& p : creating.waiting)
              p.deliver(q);
          },
          [self, name](caf::error& err) {
            auto creating = std::move(self->state.creating_temps[name]);
            self->state.creating_temps.erase(name);
            for (auto& p : creating.waiting)
              p.deliver(err);
          });
  return promise;
}

void remove_temporaries_of(self_ptr self, const caf::actor_addr& owner) {
  auto& st = self->state;
  for (auto& [name, creating] : st.creating_temps)
    if (creating.owner == owner)
      creating.owner_gone = true;
  for (auto i = st.temporaries.begin(); i != st.temporaries.end();) {
    if (i->second.owner != owner) {
      ++i;
      continue;
    }
    auto name = i->first;
    auto id = i->second.destination_id;
    i = st.temporaries.erase(i);
    auto q = st.queues.find(name);
    if (q == st.queues.end())
      continue;
    // Unlinked first: a destination's exit would otherwise stop the broker (and the node).
    self->unlink_from(q->second);
    self->send_exit(q->second, caf::exit_reason::user_shutdown);
    st.queues.erase(q);
    spdlog::debug("broker removes {}: its connection has closed", name);
    if (id != 0)
      remove_record(self, name, id, [name](uint64_t, caf::error err) {
        if (err)
          spdlog::warn("broker cannot remove {} from the store: {}", name, error_text(err));
      });
  }
}

void remove_stale_temporaries(self_ptr self,
                              const std::vector<storage::destination_record>& recovered) {
  for (auto& r : recovered)
    if (is_temporary(r.name)) {
      spdlog::info("broker removes {}: its connection ended with the node that ran it", r.name);
      remove_record(self, r.name, r.id, [](uint64_t, caf::error) {});
    }
}

} // namespace actormq::actors
