// The configuration with every default filled in (config/defaults.hpp has the values).
#include "config/defaults.hpp"
#include "config/loader.hpp"

#include <string>

namespace actormq::config {

NodeConfig defaults() {
  NodeConfig c;
  c.mutable_client()->set_host(std::string(default_host));
  c.mutable_client()->set_port(default_client_port);
  c.mutable_client()->set_protocol(std::string(default_client_protocol));
  c.mutable_cluster()->set_host(std::string(default_host));
  c.mutable_cluster()->set_port(default_cluster_port);
  c.mutable_console()->set_host(std::string(default_host));
  c.mutable_console()->set_port(default_console_port);

  StoreConfig& store = *c.mutable_store();
  store.set_max_size_mb(default_store_max_size_mb);
  store.set_sync(default_store_sync);
  store.set_max_batch(default_store_max_batch);
  store.set_reader_check_interval_ms(default_store_reader_check_interval_ms);
  store.set_persist_redelivered(default_store_persist_redelivered);
  store.set_auto_ack_delay_ms(default_store_auto_ack_delay_ms);
  store.set_journal(default_store_journal);
  store.set_journal_size_mb(default_store_journal_size_mb);
  store.set_checkpoint_interval_ms(default_store_checkpoint_interval_ms);

  Limits& limits = *c.mutable_limits();
  limits.set_max_frame_bytes(default_max_frame_bytes);
  limits.set_max_connections(default_max_connections);
  limits.set_max_consumers_per_connection(default_max_consumers_per_connection);
  limits.set_max_destinations(default_max_destinations);
  limits.set_destination_memory_bytes(default_destination_memory_bytes);
  limits.set_default_prefetch(default_prefetch);
  limits.set_browse_max_messages(default_browse_max_messages);
  limits.set_console_max_connections(default_console_max_connections);
  limits.set_console_request_timeout_ms(default_console_request_timeout_ms);
  limits.set_console_history_interval_ms(default_console_history_interval_ms);
  limits.set_topic_subscriber_pending_messages(default_topic_subscriber_pending_messages);
  limits.set_slow_topic_subscriber(std::string(default_slow_topic_subscriber));
  limits.set_offline_durable_subscriber_timeout_ms(default_offline_durable_subscriber_timeout_ms);
  limits.set_offline_durable_subscriber_task_schedule_ms(
      default_offline_durable_subscriber_task_schedule_ms);
  limits.set_max_transaction_messages(default_max_transaction_messages);
  limits.set_max_transaction_bytes(default_max_transaction_bytes);
  limits.set_send_fail_if_no_space(default_send_fail_if_no_space);
  limits.set_send_fail_if_no_space_after_timeout_ms(default_send_fail_if_no_space_after_timeout_ms);

  Heartbeats& hb = *c.mutable_heartbeats();
  hb.set_interval_ms(default_heartbeat_interval_ms);
  hb.set_inactivity_timeout_ms(default_inactivity_timeout_ms);
  hb.set_connect_timeout_ms(default_connect_timeout_ms);

  Runtime& rt = *c.mutable_runtime();
  rt.set_scheduler_policy(std::string(default_scheduler_policy));
  rt.set_scheduler_max_threads(default_scheduler_max_threads);
  rt.set_middleman_heartbeat_ms(default_middleman_heartbeat_ms);
  rt.set_middleman_connection_timeout_ms(default_middleman_connection_timeout_ms);

  c.mutable_logging()->set_level(std::string(default_log_level));
  // logging.file stays unset: standard error.

  c.mutable_virtual_topics()->set_name(std::string(default_virtual_topic_name));
  c.mutable_virtual_topics()->set_consumer_prefix(
      std::string(default_virtual_topic_consumer_prefix));

  c.set_stop_timeout_ms(default_stop_timeout_ms);
  c.set_scheduler_support(default_scheduler_support);
  return c;
}

} // namespace actormq::config
