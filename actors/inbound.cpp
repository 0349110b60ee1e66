#include "actors/inbound.hpp"
#include "actors/errors.hpp"
#include "actors/incoming.hpp"

#include "actors/snapshot.hpp"

#include <spdlog/spdlog.h>

namespace actormq::actors {

inbound_actor::behavior_type inbound_behavior(inbound_actor::stateful_pointer<inbound_state> self,
                                              link_sender_actor bridge, std::string peer_name,
                                              std::string peer_store_id, broker_actor broker) {
  auto& st = self->state;
  st.bridge = std::move(bridge);
  st.peer_name = std::move(peer_name);
  st.peer_store_id = std::move(peer_store_id);
  st.broker = std::move(broker);
  self->monitor(st.bridge);
  self->set_down_handler([self](caf::down_msg&) {
    spdlog::info("inbound link from node {} ends", self->state.peer_name);
    self->quit();
  });
  // An unexpected message is logged and dropped, never answered.
  self->set_default_handler(drop_unexpected);
  return {
      [self](forward_atom, forwarded_message& fm) {
        auto& st = self->state;
        ++st.received;
        auto seq = fm.link_sequence;
        auto destination = fm.destination;
        auto in = incoming_forwarded(std::move(fm), st.peer_store_id);
        auto fail = [self, seq](const caf::error& err) {
          ++self->state.failed;
          spdlog::error("inbound link from node {} cannot store message {}: {}",
                        self->state.peer_name, seq, error_text(err));
        };
        st.resolver.resolve(
            self, st.broker, destination,
            [self, in = std::move(in), seq, fail](const queue_actor& q) mutable {
              self->request(q, caf::infinite, send_atom::value, std::move(in))
                  .then(
                      [self, seq](send_result& r) {
                        auto& st = self->state;
                        ++(r.duplicate ? st.duplicates : st.stored);
                        self->send(st.bridge, fwd_ack_atom::value, key_list{seq});
                      },
                      [fail](caf::error& err) { fail(err); });
            },
            fail);
      },
      [self](demand_atom, demand_update& u) {
        self->send(self->state.bridge, demand_atom::value, std::move(u));
      },
      [self](snapshot_atom) -> inbound_snapshot {
        auto& st = self->state;
        inbound_snapshot out;
        out.mailbox = self->mailbox().size(); // waiting messages, as this actor sees them
        out.peer = st.peer_name;
        out.peer_store = st.peer_store_id;
        out.received = st.received;
        out.stored = st.stored;
        out.duplicates_dropped = st.duplicates;
        out.failed = st.failed;
        return out;
      },
  };
}

} // namespace actormq::actors
