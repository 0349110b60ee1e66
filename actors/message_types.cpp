#include "actors/message_types.hpp"

#include "actors/bridge.hpp"
#include "actors/inbound.hpp"
#include "actors/messages.hpp"
#include "actors/scheduler.hpp"
#include "actors/snapshot.hpp"
#include "actors/transaction_messages.hpp"

#include <caf/actor_system_config.hpp>

namespace actormq::actors {

void register_message_types(caf::actor_system_config& cfg) {
  cfg.add_message_type<incoming_message>("actormq.incoming_message");
  cfg.add_message_type<protocol::destination>("actormq.destination");
  cfg.add_message_type<send_result>("actormq.send_result");
  cfg.add_message_type<subscription>("actormq.subscription");
  cfg.add_message_type<delivery>("actormq.delivery");
  cfg.add_message_type<destination_stats>("actormq.destination_stats");
  cfg.add_message_type<destination_stats_list>("actormq.destination_stats_list");
  cfg.add_message_type<delivery_list>("actormq.delivery_list");
  cfg.add_message_type<key_list>("actormq.key_list");
  cfg.add_message_type<demand_update>("actormq.demand_update");
  cfg.add_message_type<demand_list>("actormq.demand_list");
  cfg.add_message_type<forwarded_message>("actormq.forwarded_message");
  cfg.add_message_type<durable_link>("actormq.durable_link");
  cfg.add_message_type<schedule_message>("actormq.schedule_message");
  cfg.add_message_type<scheduled_info>("actormq.scheduled_info");
  cfg.add_message_type<scheduled_list>("actormq.scheduled_list");
  cfg.add_message_type<scheduler_actor>("actormq.scheduler_actor");
  cfg.add_message_type<topic_target>("actormq.topic_target");
  cfg.add_message_type<incoming_list>("actormq.incoming_list");
  cfg.add_message_type<prepared_sends>("actormq.prepared_sends");
  cfg.add_message_type<prepared_acks>("actormq.prepared_acks");
  cfg.add_message_type<transaction_settlement>("actormq.transaction_settlement");
  cfg.add_message_type<relocation>("actormq.relocation");
  // Handles a front door's link exchanges (actors/front_door.hpp).
  cfg.add_message_type<bridge_actor>("actormq.bridge_actor");
  cfg.add_message_type<inbound_actor>("actormq.inbound_actor");
  // The snapshots (actors/snapshot.hpp): actormq-debug receives inspector_snapshot.
  cfg.add_message_type<node_snapshot>("actormq.node_snapshot");
  cfg.add_message_type<lock_holder_snapshot>("actormq.lock_holder_snapshot");
  cfg.add_message_type<store_snapshot>("actormq.store_snapshot");
  cfg.add_message_type<broker_snapshot>("actormq.broker_snapshot");
  cfg.add_message_type<acceptor_snapshot>("actormq.acceptor_snapshot");
  cfg.add_message_type<session_snapshot>("actormq.session_snapshot");
  cfg.add_message_type<queue_snapshot>("actormq.queue_snapshot");
  cfg.add_message_type<bridge_snapshot>("actormq.bridge_snapshot");
  cfg.add_message_type<inbound_snapshot>("actormq.inbound_snapshot");
  cfg.add_message_type<inspector_snapshot>("actormq.inspector_snapshot");
}

} // namespace actormq::actors
