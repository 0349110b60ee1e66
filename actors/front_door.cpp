#include "actors/front_door.hpp"

#include "actors/errors.hpp"
#include "actors/snapshot.hpp"

#include <spdlog/spdlog.h>

#include <chrono>

namespace actormq::actors {

front_door_actor::behavior_type
front_door_behavior(front_door_actor::stateful_pointer<front_door_state> self,
                    std::string node_name, std::string store_id, inspector_actor inspector) {
  self->state.node_name = std::move(node_name);
  self->state.store_id = std::move(store_id);
  self->state.inspector = std::move(inspector);
  return {
      [self](hello_atom, uint32_t version) -> caf::result<std::string, uint32_t, std::string> {
        auto& st = self->state;
        if (version != cluster_protocol_version) {
          ++st.refused;
          spdlog::warn("front door refuses a peer of cluster protocol version {} (this node: {})",
                       version, cluster_protocol_version);
          return make_broker_error(broker_errc::internal,
                                   "cluster protocol version " + std::to_string(version) +
                                       " is not supported by node " + st.node_name + " (version " +
                                       std::to_string(cluster_protocol_version) + ")");
        }
        ++st.handshakes;
        return {st.node_name, cluster_protocol_version, st.store_id};
      },
      [self](snapshot_atom) -> caf::result<caf::settings> {
        auto promise = self->make_response_promise<caf::settings>();
        self->request(self->state.inspector, std::chrono::seconds(5), snapshot_atom::value)
            .then([promise](caf::settings& s) mutable { promise.deliver(std::move(s)); },
                  [promise](caf::error& err) mutable { promise.deliver(err); });
        return promise;
      },
  };
}

} // namespace actormq::actors
