#include "actors/bridge.hpp"
#include "actors/durable_name.hpp"
#include "actors/errors.hpp"

#include "actors/front_door.hpp"
#include "actors/snapshot.hpp"

#include <caf/io/middleman.hpp>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include <netdb.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

namespace actormq::actors {

namespace {

using self_ptr = bridge_actor::stateful_pointer<bridge_state>;

std::string address(const bridge_settings& s) {
  return s.host + ":" + std::to_string(s.port);
}

bool allowed(self_ptr self, const std::string& destination) {
  auto& s = self->state.settings;
  return std::none_of(s.excluded.begin(), s.excluded.end(),
                      [&](auto& p) { return protocol::matches(p, destination); });
}

bool statically_included(self_ptr self, const std::string& destination) {
  auto& s = self->state.settings;
  return !s.dynamic_only && std::any_of(s.statically_included.begin(), s.statically_included.end(),
                                        [&](auto& p) { return protocol::matches(p, destination); });
}

// Logs a failure once per distinct reason; repeats go to debug (a standby peer refuses for a
// long time, quietly).
void report(self_ptr self, const std::string& what) {
  auto& st = self->state;
  if (what != st.last_error)
    spdlog::warn("bridge {} cannot use {}: {}", st.settings.name, address(st.settings), what);
  else
    spdlog::debug("bridge {} cannot use {}: {}", st.settings.name, address(st.settings), what);
  st.last_error = what;
  st.status = "retrying: " + what;
}

void retry(self_ptr self) {
  auto& st = self->state;
  st.backoff = std::min(st.settings.max_reconnect_delay,
                        std::max(std::chrono::milliseconds(10), st.backoff * 2));
  self->delayed_send(self, st.backoff, connect_atom::value);
}

uint32_t destination_id(self_ptr self, const std::string& name) {
  auto records = self->state.db->destinations();
  if (records)
    for (auto& r : *records)
      if (r.name == name)
        return r.id;
  return 0;
}

void send_forward(self_ptr self, uint64_t link_sequence, const std::string& destination,
                  std::string payload, const delivery* d, uint32_t prior_deliveries = 0) {
  auto& st = self->state;
  forwarded_message fm;
  fm.link_sequence = link_sequence;
  fm.destination = destination;
  fm.payload = std::move(payload);
  fm.prior_deliveries = prior_deliveries;
  if (d) {
    fm.persistent = d->persistent;
    fm.priority = d->priority;
    fm.expiration_ms = d->expiration_ms;
    // The queue counted this dispatch to the bridge too; the peer learns of the ones before.
    if (d->redelivered && d->delivery_count > 1)
      fm.prior_deliveries = d->delivery_count - 1;
  }
  self->send(st.inbound, forward_atom::value, std::move(fm));
  ++st.forwarded;
}

// Store writes whose result only matters when it failed.
void write(self_ptr self, op_list ops) {
  self->request(self->state.store, caf::infinite, write_atom::value, std::move(ops))
      .then(
          [self](op_result_list& results) {
            for (auto& r : results)
              if (r.error && r.error != storage::store_errc::not_found)
                spdlog::error("bridge {}: a store write failed: {}", self->state.settings.name,
                              r.error.message());
          },
          [self](caf::error& err) {
            spdlog::error("bridge {}: a store write failed: {}", self->state.settings.name,
                          error_text(err));
          });
}

// Marks a delivery as in transfer (persistent), tells the queue the bridge took it over, and
// forwards it.
void take_delivery(self_ptr self, delivery& d) {
  auto& st = self->state;
  auto c = st.consumer_destinations.find(d.consumer_id);
  if (c == st.consumer_destinations.end())
    return;
  auto destination = c->second;
  auto& entry = st.subscriptions[destination];
  auto subscription = entry.subscription;
  auto queue = entry.queue;
  auto link_sequence = ++st.next_link_sequence;
  if (!d.persistent) {
    self->send(queue, handover_atom::value, subscription, key_list{d.key});
    st.in_transfer[link_sequence] = {destination, entry.destination_id, d.key, false};
    if (st.connected)
      send_forward(self, link_sequence, destination, std::move(d.payload), &d);
    return;
  }
  op_list ops;
  ops.emplace_back(
      storage::mark_transfer_op{st.link_id, link_sequence, entry.destination_id, d.key});
  self->request(st.store, caf::infinite, write_atom::value, std::move(ops))
      .then([self, d = std::move(d), destination, subscription, queue,
             link_sequence](op_result_list& results) mutable {
        auto& st = self->state;
        auto i = st.subscriptions.find(destination);
        bool still_ours =
            i != st.subscriptions.end() && i->second.subscription == subscription && st.connected;
        if (results.front().error) {
          spdlog::error("bridge {} cannot mark message {} of {}: {}", st.settings.name, d.key,
                        destination, results.front().error.message());
          return; // the queue redelivers it when the subscription ends
        }
        if (!still_ours) {
          // The queue took it back when the link went down: it is not ours to send.
          op_list undo;
          undo.emplace_back(storage::clear_transfer_op{st.link_id, link_sequence, false});
          write(self, std::move(undo));
          return;
        }
        self->send(queue, handover_atom::value, subscription, key_list{d.key});
        st.in_transfer[link_sequence] = {destination, i->second.destination_id, d.key, true};
        send_forward(self, link_sequence, destination, std::move(d.payload), &d);
      });
}

bool is_topic(const std::string& destination) {
  return destination.rfind("topic://", 0) == 0;
}

// Consumes `q` for the peer: a queue, or the network subscription (`record`, its store name) of
// a topic.
void consume(self_ptr self, const std::string& destination, const std::string& record,
             uint64_t consumer_id, const queue_actor& q) {
  auto& st = self->state;
  if (auto i = st.subscriptions.find(destination); i != st.subscriptions.end())
    i->second.destination_id = destination_id(self, record);
  subscription sub;
  sub.consumer_id = consumer_id;
  sub.prefetch = st.settings.prefetch;
  sub.priority = st.settings.decrease_network_consumer_priority ? -1 : 0;
  sub.network = true;
  self->request(q, std::chrono::seconds(10), subscribe_atom::value, consumer_actor{self}, sub)
      .then(
          [self, destination, consumer_id, q](uint64_t id) {
            auto& st = self->state;
            auto i = st.subscriptions.find(destination);
            if (i == st.subscriptions.end() || i->second.consumer_id != consumer_id) {
              // Unsubscribed meanwhile.
              self->request(q, std::chrono::seconds(10), unsub_atom::value, id)
                  .then([](uint64_t) {}, [](caf::error&) {});
              return;
            }
            i->second.queue = q;
            i->second.subscription = id;
            spdlog::debug("bridge {} consumes {} for node {}", st.settings.name, destination,
                          st.peer_name);
          },
          [self, destination](caf::error& err) {
            spdlog::error("bridge {} cannot consume {}: {}", self->state.settings.name, destination,
                          error_text(err));
            self->state.subscriptions.erase(destination);
          });
}

void subscribe(self_ptr self, const std::string& destination) {
  auto& st = self->state;
  if (st.subscriptions.count(destination))
    return;
  if (st.removing.count(destination))
    return; // subscribed again once the old network subscription is gone (removed())
  auto consumer_id = st.next_consumer_id++;
  auto& entry = st.subscriptions[destination];
  entry.consumer_id = consumer_id;
  st.consumer_destinations[consumer_id] = destination;
  auto fail = [self, destination](const caf::error& err) {
    spdlog::error("bridge {} cannot find {}: {}", self->state.settings.name, destination,
                  error_text(err));
    self->state.subscriptions.erase(destination);
  };
  if (is_topic(destination)) {
    // A topic is consumed through the link's network subscription on it: a durable
    // subscription in the store, so that what is published while the link is down, or while
    // the standby takes over this store, still reaches the peer, exactly once.
    auto parsed = protocol::parse_destination(destination);
    if (!parsed) {
      fail(make_broker_error(broker_errc::bad_destination, parsed.message()));
      return;
    }
    auto name = network_subscription_name(st.link_id, destination);
    auto record = durable_store_name({network_client_id, name, destination});
    self->request(st.broker, std::chrono::seconds(30), durable_atom::value, *parsed,
                  std::string(network_client_id), name, std::string())
        .then([self, destination, record,
               consumer_id](queue_actor& q) { consume(self, destination, record, consumer_id, q); },
              fail);
    return;
  }
  st.resolver.resolve(
      self, st.broker, destination,
      [self, destination, consumer_id](const queue_actor& q) {
        consume(self, destination, destination, consumer_id, q);
      },
      fail);
}

// The network subscription on `topic` is gone (or could not be removed): the peer's demand for
// it, if it came back meanwhile, makes a new one.
void removed(self_ptr self, const std::string& topic) {
  auto& st = self->state;
  st.removing.erase(topic);
  if (st.connected && st.demand.count(topic))
    subscribe(self, topic);
}

// Removes the network subscription of this link on `topic` with what it holds, as a
// non-durable subscriber's messages go with it.
void remove_network_subscription(self_ptr self, const std::string& topic) {
  auto& st = self->state;
  st.removing.insert(topic);
  self->request(st.broker, std::chrono::seconds(30), unsub_atom::value,
                std::string(network_client_id), network_subscription_name(st.link_id, topic))
      .then(
          [self, topic](uint64_t dropped) {
            spdlog::info("bridge {} removes its subscription on {} for node {} ({} messages "
                         "dropped): the peer has no subscriber left",
                         self->state.settings.name, topic, self->state.peer_name, dropped);
            removed(self, topic);
          },
          [self, topic](caf::error& err) {
            spdlog::debug("bridge {} cannot remove its subscription on {}: {}",
                          self->state.settings.name, topic, error_text(err));
            removed(self, topic);
          });
}

// Ends the local subscription: what the queue dispatched to the bridge and the bridge has not
// taken over goes back to the queue for other consumers. With `drop`, a topic's network
// subscription goes too (the peer's demand ended); without, it stays and keeps what is
// published for the peer (the link went down).
void unsubscribe(self_ptr self, const std::string& destination, bool drop) {
  auto& st = self->state;
  auto i = st.subscriptions.find(destination);
  if (i == st.subscriptions.end())
    return;
  auto queue = i->second.queue;
  auto subscription = i->second.subscription;
  st.consumer_destinations.erase(i->second.consumer_id);
  st.subscriptions.erase(i);
  if (!drop || !is_topic(destination)) {
    if (subscription != 0)
      self->request(queue, std::chrono::seconds(10), unsub_atom::value, subscription)
          .then([](uint64_t) {}, [](caf::error&) {});
    return;
  }
  // The subscription may be removed only once the bridge no longer consumes it.
  st.removing.insert(destination);
  if (subscription == 0) {
    remove_network_subscription(self, destination);
    return;
  }
  self->request(queue, std::chrono::seconds(10), unsub_atom::value, subscription)
      .then([self, destination](uint64_t) { remove_network_subscription(self, destination); },
            [self, destination](caf::error&) { remove_network_subscription(self, destination); });
}

void apply_demand(self_ptr self, const demand_update& u) {
  auto& st = self->state;
  auto name = protocol::canonical_destination(u.destination);
  if (!name || !allowed(self, *name))
    return;
  if (u.consumers == 0)
    st.demand.erase(*name);
  else
    st.demand[*name] = u.consumers;
  if (u.consumers > 0 || statically_included(self, *name))
    subscribe(self, *name);
  else
    unsubscribe(self, *name, true);
}

// After a (re)connect: send again every message marked for this link, in link order.
void reconcile(self_ptr self) {
  auto& st = self->state;
  st.in_transfer.clear();
  auto last = st.db->last_link_sequence(st.link_id);
  st.next_link_sequence = last ? *last : 0;
  auto marks = st.db->transfers(st.link_id);
  if (!marks) {
    spdlog::error("bridge {} cannot read its transfer marks: {}", st.settings.name,
                  marks.message());
    return;
  }
  std::vector<uint32_t> unknown;
  auto records = st.db->destinations();
  for (auto& m : *marks) {
    std::string destination;
    if (records)
      for (auto& r : *records)
        if (r.id == m.destination_id)
          destination = r.name;
    // A network subscription's message goes to its topic.
    if (auto d = parse_durable_store_name(destination); d && is_network_subscription(*d))
      destination = d->topic;
    auto body = st.db->read_payload(m.destination_id, m.sequence);
    if (!body || destination.empty()) {
      // The message is gone: only the mark is left to clear.
      op_list ops;
      ops.emplace_back(storage::clear_transfer_op{st.link_id, m.link_sequence, false});
      write(self, std::move(ops));
      continue;
    }
    st.in_transfer[m.link_sequence] = {destination, m.destination_id, m.sequence, true};
    auto entry = st.db->read_entry(m.destination_id, m.sequence);
    send_forward(self, m.link_sequence, destination, std::move(*body), nullptr,
                 entry ? entry->delivery_count : 0);
    ++st.resent;
  }
  if (!marks->empty())
    spdlog::info("bridge {} sends {} messages in transfer to node {} again", st.settings.name,
                 marks->size(), st.peer_name);
}

void linked(self_ptr self, const front_door_actor& peer, inbound_actor inbound,
            const std::string& peer_name, const std::string& peer_store, demand_list& demand) {
  auto& st = self->state;
  st.peer = peer.address();
  st.inbound = std::move(inbound);
  st.peer_name = peer_name;
  st.link_id = peer_store;
  st.connected = true;
  st.backoff = std::chrono::milliseconds(0);
  st.last_error.clear();
  st.status = "connected";
  ++st.connects;
  self->monitor(peer);
  self->monitor(st.inbound);
  spdlog::info("bridge {} connected to node {} (store {}) at {}", st.settings.name, peer_name,
               peer_store, address(st.settings));
  reconcile(self);
  if (!st.settings.dynamic_only) {
    // A name is subscribed (its queue created if need be); a wildcard takes the destinations
    // that exist now, and the broker tells of those created later (created_atom).
    for (auto& pattern : st.settings.statically_included)
      if (!protocol::has_wildcard(pattern) && allowed(self, pattern.text))
        subscribe(self, pattern.text);
    if (auto records = st.db->destinations())
      for (auto& r : *records)
        if (statically_included(self, r.name) && allowed(self, r.name))
          subscribe(self, r.name);
  }
  for (auto& u : demand)
    apply_demand(self, u);
  // Network subscriptions kept while the link was down that the peer no longer wants.
  if (auto records = st.db->destinations())
    for (auto& r : *records)
      if (auto d = parse_durable_store_name(r.name); d && is_network_subscription(*d, st.link_id) &&
                                                     !st.demand.count(d->topic) &&
                                                     !st.removing.count(d->topic))
        remove_network_subscription(self, d->topic);
}

// A cluster port (CAF's BASP) greets first: the server sends its handshake at once. A client
// port waits for the client instead, and would keep remote_actor waiting on the middleman. So
// the bridge opens a plain connection and waits briefly for the greeting before connecting.
std::string probe(const std::string& host, uint16_t port, std::chrono::milliseconds wait) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  if (getaddrinfo(host.c_str(), std::to_string(port).c_str(), &hints, &found) != 0 || !found)
    return "cannot resolve " + host;
  std::string problem = "connection refused";
  for (auto* a = found; a; a = a->ai_next) {
    int fd = socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC, a->ai_protocol);
    if (fd < 0)
      continue;
    if (::connect(fd, a->ai_addr, a->ai_addrlen) != 0) {
      problem = std::string("connect: ") + std::strerror(errno);
      close(fd);
      continue;
    }
    pollfd p{fd, POLLIN, 0};
    int ready = poll(&p, 1, static_cast<int>(wait.count()));
    close(fd);
    freeaddrinfo(found);
    if (ready > 0)
      return {};
    return "nothing greeted within " + std::to_string(wait.count()) +
           " ms: not a cluster port (a client port?)";
  }
  freeaddrinfo(found);
  return problem;
}

void connect(self_ptr self) {
  auto& st = self->state;
  if (st.connected)
    return;
  ++st.attempts;
  if (auto problem = probe(st.settings.host, st.settings.port, std::chrono::milliseconds(1000));
      !problem.empty()) {
    report(self, problem);
    retry(self);
    return;
  }
  auto peer =
      self->system().middleman().remote_actor<front_door_actor>(st.settings.host, st.settings.port);
  if (!peer) {
    report(self, self->system().render(peer.error()) +
                     " (is it a node's cluster port, and is that node serving?)");
    retry(self);
    return;
  }
  auto fd = *peer;
  self->request(fd, std::chrono::seconds(1), hello_atom::value, cluster_protocol_version)
      .then(
          [self, fd](std::string& name, uint32_t, std::string& store_id) {
            auto& st = self->state;
            self->request(fd, std::chrono::seconds(10), link_atom::value, st.settings.store_id,
                          st.settings.node_name, bridge_actor{self})
                .then(
                    [self, fd, name](inbound_actor& inbound, std::string& peer_store,
                                     demand_list& demand) {
                      linked(self, fd, std::move(inbound), name, peer_store, demand);
                    },
                    [self](caf::error& err) {
                      report(self, "link refused: " + error_text(err));
                      retry(self);
                    });
            (void)store_id;
          },
          [self](caf::error& err) {
            report(self, "handshake failed: " + error_text(err));
            retry(self);
          });
}

void lost(self_ptr self, const std::string& why) {
  auto& st = self->state;
  if (!st.connected)
    return;
  spdlog::warn("bridge {} lost node {}: {}", st.settings.name, st.peer_name, why);
  st.connected = false;
  st.status = "reconnecting";
  st.peer = nullptr;
  st.inbound = nullptr;
  std::vector<std::string> destinations;
  for (auto& [name, entry] : st.subscriptions)
    destinations.push_back(name);
  // Network subscriptions on topics stay: they keep what is published for the peer.
  for (auto& name : destinations)
    unsubscribe(self, name, false);
  st.demand.clear();
  // Marked messages stay marked: they go to the peer (or its successor) on the next link.
  st.in_transfer.clear();
  st.backoff = std::chrono::milliseconds(0);
  self->send(self, connect_atom::value);
}

} // namespace

bridge_actor::behavior_type bridge_behavior(self_ptr self, bridge_settings settings,
                                            std::shared_ptr<storage::backend> db, store_actor store,
                                            broker_actor broker) {
  auto& st = self->state;
  st.settings = std::move(settings);
  st.db = std::move(db);
  st.store = std::move(store);
  st.broker = std::move(broker);
  self->set_down_handler([self](caf::down_msg& msg) {
    auto& st = self->state;
    if (msg.source == st.peer || msg.source == st.inbound.address())
      lost(self, self->system().render(msg.reason));
  });
  self->send(self, connect_atom::value);
  if (!st.settings.statically_included.empty())
    self->send(st.broker, listen_atom::value, creation_listener_actor{self});
  // An unexpected message is logged and dropped, never answered.
  self->set_default_handler(drop_unexpected);
  return {
      [self](connect_atom) { connect(self); },
      [self](created_atom, std::string& name) {
        if (self->state.connected && statically_included(self, name) && allowed(self, name))
          subscribe(self, name);
      },
      [self](demand_atom, demand_update& u) {
        if (self->state.connected)
          apply_demand(self, u);
      },
      [self](dispatch_atom, delivery& d) {
        auto& st = self->state;
        auto c = st.consumer_destinations.find(d.consumer_id);
        if (c == st.consumer_destinations.end())
          return; // unsubscribed: the queue takes it back
        // The queue answers a subscription before it dispatches on it, so the subscription
        // is known here.
        take_delivery(self, d);
      },
      [self](fwd_ack_atom, key_list& sequences) {
        auto& st = self->state;
        op_list ops;
        std::map<std::string, uint32_t> credit;
        for (auto seq : sequences) {
          auto i = st.in_transfer.find(seq);
          if (i == st.in_transfer.end())
            continue;
          if (i->second.marked)
            ops.emplace_back(storage::clear_transfer_op{st.link_id, seq, true});
          ++credit[i->second.destination];
          st.in_transfer.erase(i);
          ++st.acknowledged;
        }
        if (!ops.empty())
          write(self, std::move(ops));
        for (auto& [destination, n] : credit) {
          auto i = st.subscriptions.find(destination);
          if (i != st.subscriptions.end() && i->second.subscription != 0)
            self->send(i->second.queue, credit_atom::value, i->second.subscription, n);
        }
      },
      [self](snapshot_atom) -> bridge_snapshot {
        auto& st = self->state;
        bridge_snapshot out;
        out.mailbox = self->mailbox().size(); // waiting messages, as this actor sees them
        out.name = st.settings.name;
        out.peer_address = address(st.settings);
        out.peer = st.peer_name;
        out.state = st.status;
        out.last_error = st.last_error;
        out.connects = st.connects;
        out.attempts = st.attempts;
        out.forwarded = st.forwarded;
        out.acknowledged = st.acknowledged;
        out.resent = st.resent;
        out.in_transfer = st.in_transfer.size();
        out.destinations = st.subscriptions.size();
        return out;
      },
  };
}

} // namespace actormq::actors
