#include "actors/front_door.hpp"

#include "actors/errors.hpp"
#include "actors/inbound.hpp"
#include "actors/snapshot.hpp"

#include <spdlog/spdlog.h>

#include <chrono>

namespace actormq::actors {

front_door_actor::behavior_type
front_door_behavior(front_door_actor::stateful_pointer<front_door_state> self,
                    std::string node_name, std::string store_id, inspector_actor inspector,
                    broker_actor broker) {
  self->state.node_name = std::move(node_name);
  self->state.store_id = std::move(store_id);
  self->state.inspector = std::move(inspector);
  self->state.broker = std::move(broker);
  // An unexpected message is logged and dropped, never answered.
  self->set_default_handler(drop_unexpected);
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
      [self](link_atom, std::string& peer_store, std::string& peer_name,
             bridge_actor& bridge) -> caf::result<inbound_actor, std::string, demand_list> {
        auto& st = self->state;
        if (peer_store == st.store_id)
          return make_broker_error(broker_errc::internal,
                                   "node " + st.node_name + " shares the store of node " +
                                       peer_name + ": a bridge between them would loop");
        ++st.links;
        auto inbound = self->spawn<caf::linked>(inbound_behavior, link_sender_actor{bridge},
                                                peer_name, peer_store, st.broker);
        spdlog::info("front door links node {} (store {})", peer_name, peer_store);
        auto promise = self->make_response_promise<inbound_actor, std::string, demand_list>();
        self->request(st.broker, std::chrono::seconds(10), watch_atom::value,
                      demand_watcher_actor{inbound})
            .then(
                [self, promise, inbound](demand_list& demand) mutable {
                  promise.deliver(inbound, self->state.store_id, std::move(demand));
                },
                [promise](caf::error& err) mutable { promise.deliver(err); });
        return promise;
      },
      [self](snapshot_atom) -> caf::result<inspector_snapshot> {
        auto promise = self->make_response_promise<inspector_snapshot>();
        self->request(self->state.inspector, std::chrono::seconds(5), snapshot_atom::value)
            .then([promise](inspector_snapshot& s) mutable { promise.deliver(std::move(s)); },
                  [promise](caf::error& err) mutable { promise.deliver(err); });
        return promise;
      },
  };
}

} // namespace actormq::actors
