// Finds the actor of a destination (a URI or a bare queue name, protocol/destination.hpp) through
// the broker, caching handles, and keeps the order of requests for one destination while the
// broker is asked. Sessions, bridges and the inbound side of bridges use it. The broker answers
// queues only until topics exist; it refuses other kinds, naming them.
#pragma once

#include "actors/broker.hpp"
#include "actors/errors.hpp"
#include "protocol/destination.hpp"

#include <chrono>
#include <functional>
#include <map>
#include <string>
#include <utility>
#include <vector>

namespace actormq::actors {

class destination_resolver {
public:
  using ready_fn = std::function<void(const queue_actor&)>;
  using fail_fn = std::function<void(const caf::error&)>;

  // Runs `ready` with the queue of `destination` once known, or `fail` if the name is bad or the
  // broker cannot give one. `on_settled` (if set) runs after every broker answer.
  template <class Self>
  void resolve(Self* self, const broker_actor& broker, const std::string& destination,
               ready_fn ready, fail_fn fail) {
    auto parsed = protocol::parse_destination(destination);
    if (!parsed) {
      fail(make_broker_error(broker_errc::bad_destination, parsed.message()));
      return;
    }
    resolve(self, broker, std::move(*parsed), std::move(ready), std::move(fail));
  }

  // The same for a destination parsed already (a consumer's may be a wildcard topic).
  template <class Self>
  void resolve(Self* self, const broker_actor& broker, protocol::destination parsed, ready_fn ready,
               fail_fn fail) {
    auto name = parsed.uri();
    if (auto i = queues_.find(name); i != queues_.end()) {
      ready(i->second);
      return;
    }
    auto& waiting = resolving_[name];
    waiting.emplace_back(std::move(ready), std::move(fail));
    if (waiting.size() > 1)
      return;
    self->request(broker, std::chrono::seconds(30), lookup_atom::value, std::move(parsed))
        .then(
            [this, self, name](queue_actor& q) {
              queues_.emplace(name, q);
              if (monitor_queues)
                self->monitor(q);
              auto waiting = take(name);
              for (auto& w : waiting)
                w.first(q);
              settled();
            },
            [this, name](caf::error& err) {
              auto waiting = take(name);
              for (auto& w : waiting)
                w.second(err);
              settled();
            });
  }

  // Forgets the handle of a queue that went down (a removed destination): the next use asks
  // the broker again. Owners that set monitor_queues call it from their down handler.
  void forget(const caf::actor_addr& queue) {
    for (auto i = queues_.begin(); i != queues_.end(); ++i)
      if (i->second.address() == queue) {
        queues_.erase(i);
        return;
      }
  }

  // Monitor cached queues (the owner's down handler must call forget()).
  bool monitor_queues = false;

  // True while no request waits for the broker.
  bool idle() const noexcept { return resolving_.empty(); }

  std::function<void()> on_settled;

private:
  std::vector<std::pair<ready_fn, fail_fn>> take(const std::string& name) {
    auto waiting = std::move(resolving_[name]);
    resolving_.erase(name);
    return waiting;
  }

  void settled() {
    if (on_settled)
      on_settled();
  }

  std::map<std::string, queue_actor> queues_;
  std::map<std::string, std::vector<std::pair<ready_fn, fail_fn>>> resolving_;
};

} // namespace actormq::actors
