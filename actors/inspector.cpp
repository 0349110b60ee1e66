#include "actors/inspector.hpp"
#include "actors/errors.hpp"

#include "actors/snapshot.hpp"

#include <caf/typed_response_promise.hpp>

#include <memory>

namespace actormq::actors {

namespace {

using self_ptr = inspector_actor::stateful_pointer<inspector_state>;

// Collects answers into one snapshot and delivers it when the last one is in.
struct gathering {
  caf::typed_response_promise<inspector_snapshot> promise;
  inspector_snapshot tree;
  size_t outstanding = 1; // the gathering itself, released at the end of the handler

  void done() {
    if (--outstanding == 0)
      promise.deliver(std::move(tree));
  }
};

// Asks `target` for its snapshot of type Snapshot; `place` picks where the entry goes.
template <class Snapshot, class Handle, class Place>
void ask(self_ptr self, const std::shared_ptr<gathering>& g, const Handle& target, Place place) {
  if (!target)
    return;
  ++g->outstanding;
  snapshot_entry<Snapshot> entry;
  entry.actor_id = target.id(); // for the debug tool and the console
  self->request(target, self->state.targets.timeout, snapshot_atom::value)
      .then(
          [g, entry, place](Snapshot& s) mutable {
            entry.answer = std::move(s);
            place(g->tree) = std::move(entry);
            g->done();
          },
          [self, g, entry, place](caf::error& err) mutable {
            entry.error = self->system().render(err);
            place(g->tree) = std::move(entry);
            g->done();
          });
}

template <class Snapshot, class Handle>
void ask_member(self_ptr self, const std::shared_ptr<gathering>& g, const Handle& target,
                std::optional<snapshot_entry<Snapshot>> inspector_snapshot::*part) {
  ask<Snapshot>(self, g, target,
                [part](inspector_snapshot& t) -> std::optional<snapshot_entry<Snapshot>>& {
                  return t.*part;
                });
}

template <class Snapshot, class Handle>
void ask_grouped(self_ptr self, const std::shared_ptr<gathering>& g, const Handle& target,
                 std::map<std::string, snapshot_entry<Snapshot>> inspector_snapshot::*group) {
  ask<Snapshot>(self, g, target,
                [group, key = std::to_string(target.id())](inspector_snapshot& t)
                    -> snapshot_entry<Snapshot>& { return (t.*group)[key]; });
}

} // namespace

inspector_actor::behavior_type inspector_behavior(self_ptr self, inspected_actors targets) {
  self->state.targets = std::move(targets);
  // An unexpected message is logged and dropped, never answered.
  self->set_default_handler(drop_unexpected);
  return {
      [self](snapshot_atom) -> caf::typed_response_promise<inspector_snapshot> {
        auto& t = self->state.targets;
        auto g = std::make_shared<gathering>();
        g->promise = self->make_response_promise<inspector_snapshot>();
        ask_member<node_snapshot>(self, g, t.node, &inspector_snapshot::node);
        ask_member<lock_holder_snapshot>(self, g, t.lock_holder, &inspector_snapshot::lock_holder);
        ask_member<store_snapshot>(self, g, t.store, &inspector_snapshot::store);
        ask_member<broker_snapshot>(self, g, t.broker, &inspector_snapshot::broker);
        ask_member<acceptor_snapshot>(self, g, t.acceptor, &inspector_snapshot::acceptor);
        for (auto& b : t.bridges)
          ask_grouped<bridge_snapshot>(self, g, b, &inspector_snapshot::bridges);
        if (t.broker) {
          ++g->outstanding;
          self->request(t.broker, t.timeout, list_atom::value)
              .then(
                  [self, g](std::vector<queue_actor>& queues) {
                    for (auto& q : queues)
                      ask_grouped<queue_snapshot>(self, g, q, &inspector_snapshot::queues);
                    g->done();
                  },
                  [g](caf::error&) { g->done(); });
        }
        for (auto& a : t.stomp_acceptors)
          ask_grouped<acceptor_snapshot>(self, g, a, &inspector_snapshot::acceptors);
        std::vector<acceptor_actor> acceptors = t.stomp_acceptors;
        if (t.acceptor)
          acceptors.push_back(t.acceptor);
        for (auto& a : acceptors) {
          if (!a)
            continue;
          ++g->outstanding;
          self->request(a, t.timeout, list_atom::value)
              .then(
                  [self, g](std::vector<session_actor>& sessions) {
                    for (auto& s : sessions)
                      ask_grouped<session_snapshot>(self, g, s, &inspector_snapshot::sessions);
                    g->done();
                  },
                  [g](caf::error&) { g->done(); });
        }
        auto promise = g->promise;
        g->done();
        return promise;
      },
  };
}

} // namespace actormq::actors
