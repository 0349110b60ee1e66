#include "actors/inspector.hpp"
#include "actors/errors.hpp"

#include "actors/snapshot.hpp"

#include <caf/typed_response_promise.hpp>

#include <memory>

namespace actormq::actors {

namespace {

using self_ptr = inspector_actor::stateful_pointer<inspector_state>;

// Collects answers into one settings tree and delivers it when the last one is in.
struct gathering {
  caf::typed_response_promise<caf::settings> promise;
  caf::settings tree;
  size_t outstanding = 1; // the gathering itself, released at the end of the handler

  void done() {
    if (--outstanding == 0)
      promise.deliver(std::move(tree));
  }
};

template <class Handle>
void ask(self_ptr self, const std::shared_ptr<gathering>& g, const Handle& target,
         std::string key) {
  if (!target)
    return;
  ++g->outstanding;
  auto id = static_cast<int64_t>(target.id()); // for the debug tool and the console
  self->request(target, self->state.targets.timeout, snapshot_atom::value)
      .then(
          [g, key, id](caf::settings& s) {
            caf::put(s, "actor-id", id);
            caf::put(g->tree, key, std::move(s));
            g->done();
          },
          [self, g, key, id](caf::error& err) {
            caf::settings stuck;
            caf::put(stuck, "kind", "unanswered");
            caf::put(stuck, "actor-id", id);
            caf::put(stuck, "error", self->system().render(err));
            caf::put(g->tree, key, std::move(stuck));
            g->done();
          });
}

} // namespace

inspector_actor::behavior_type inspector_behavior(self_ptr self, inspected_actors targets) {
  self->state.targets = std::move(targets);
  // An unexpected message is logged and dropped, never answered.
  self->set_default_handler(drop_unexpected);
  return {
      [self](snapshot_atom) -> caf::typed_response_promise<caf::settings> {
        auto& t = self->state.targets;
        auto g = std::make_shared<gathering>();
        g->promise = self->make_response_promise<caf::settings>();
        ask(self, g, t.node, "node");
        ask(self, g, t.lock_holder, "lock_holder");
        ask(self, g, t.store, "store");
        ask(self, g, t.broker, "broker");
        ask(self, g, t.acceptor, "acceptor");
        for (auto& b : t.bridges)
          ask(self, g, b, "bridges." + std::to_string(b.id()));
        if (t.broker) {
          ++g->outstanding;
          self->request(t.broker, t.timeout, list_atom::value)
              .then(
                  [self, g](std::vector<queue_actor>& queues) {
                    for (auto& q : queues)
                      ask(self, g, q, "queues." + std::to_string(q.id()));
                    g->done();
                  },
                  [g](caf::error&) { g->done(); });
        }
        if (t.acceptor) {
          ++g->outstanding;
          self->request(t.acceptor, t.timeout, list_atom::value)
              .then(
                  [self, g](std::vector<caf::actor>& sessions) {
                    for (auto& s : sessions)
                      ask(self, g, s, "sessions." + std::to_string(s.id()));
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
