// Every configuration default, in one place, each with its unit. config/node.proto names
// the same values in its comments; config::defaults() fills a NodeConfig from these.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace actormq::config {

// Listeners (client protocol, cluster front door, HTTP console).
constexpr std::string_view default_host = "127.0.0.1";
constexpr uint32_t default_client_port = 61616;                 // TCP port
constexpr std::string_view default_client_protocol = "actormq"; // the client listener's
constexpr uint32_t default_cluster_port = 62616;                // TCP port
constexpr uint32_t default_console_port = 8161;                 // TCP port
constexpr uint32_t default_stomp_port = 61613; // TCP port of the stomp listener (ActiveMQ's)
constexpr uint32_t default_ws_port = 61614; // TCP port of the STOMP over WebSocket one (ActiveMQ's)
constexpr uint32_t min_port = 1;
constexpr uint32_t max_port = 65535;

// Where the tools look for a node by default: its client URI and its cluster HOST:PORT.
inline std::string default_client_url() {
  return "tcp://" + std::string(default_host) + ":" + std::to_string(default_client_port);
}
inline std::string default_cluster_address() {
  return std::string(default_host) + ":" + std::to_string(default_cluster_port);
}

// Store (LMDB).
constexpr uint64_t default_store_max_size_mb = 1024; // MiB, mapped at open
constexpr uint64_t min_store_max_size_mb = 1;        // MiB
constexpr bool default_store_sync = true;
constexpr uint32_t default_store_max_batch = 1024;                 // operations per commit
constexpr uint32_t min_store_max_batch = 1;                        // operations per commit
constexpr uint32_t default_store_reader_check_interval_ms = 10000; // milliseconds
constexpr bool default_store_persist_redelivered = true; // ActiveMQ's persistJMSRedelivered
constexpr uint32_t default_store_auto_ack_delay_ms = 5;  // milliseconds; 0 = no wait
constexpr uint32_t max_store_auto_ack_delay_ms = 60000;  // milliseconds
constexpr bool default_store_journal = true;
constexpr uint32_t default_store_journal_size_mb = 32;         // MiB
constexpr uint32_t min_store_journal_size_mb = 1;              // MiB
constexpr uint32_t max_store_journal_size_mb = 4096;           // MiB
constexpr uint32_t default_store_checkpoint_interval_ms = 500; // milliseconds
constexpr uint32_t min_store_checkpoint_interval_ms = 1;       // milliseconds
constexpr uint32_t max_store_checkpoint_interval_ms = 60000;   // milliseconds

// Limits.
constexpr uint32_t default_max_frame_bytes = 4194304;                      // bytes (4 MiB)
constexpr uint32_t min_max_frame_bytes = 64;                               // bytes
constexpr uint32_t max_max_frame_bytes = 268435456;                        // bytes (256 MiB)
constexpr uint32_t default_max_connections = 1000;                         // connections
constexpr uint32_t default_max_consumers_per_connection = 1000;            // consumers
constexpr uint32_t default_max_destinations = 10000;                       // destinations
constexpr uint64_t default_destination_memory_bytes = 64ull * 1024 * 1024; // bytes (64 MiB)
// Flow control (ActiveMQ's systemUsage): a send over a memory or store limit waits for room
// (false) or fails at once (true, sendFailIfNoSpace); with a timeout it fails after waiting
// that long (sendFailIfNoSpaceAfterTimeout; 0 = wait as long as it takes).
constexpr bool default_send_fail_if_no_space = false;
constexpr uint64_t default_send_fail_if_no_space_after_timeout_ms = 0;       // ms
constexpr uint64_t max_send_fail_if_no_space_after_timeout_ms = 86400000ull; // ms (a day)
// Messages one topic subscriber may have waiting for credit before publishers are held.
constexpr uint32_t default_topic_subscriber_pending_messages = 10000; // messages
constexpr uint32_t min_topic_subscriber_pending_messages = 1;         // messages
// What a subscriber over that limit means: "block" (hold publishers) or "drop_oldest".
constexpr std::string_view default_slow_topic_subscriber = "block";
// Durable subscriptions with no consumer are removed after this long (0: never), checked this
// often.
constexpr std::string_view default_virtual_topic_name = "VirtualTopic.>";
constexpr std::string_view default_virtual_topic_consumer_prefix = "Consumer.*.";
constexpr uint64_t default_offline_durable_subscriber_timeout_ms = 0;            // milliseconds
constexpr uint32_t default_offline_durable_subscriber_task_schedule_ms = 300000; // milliseconds
constexpr uint32_t min_offline_durable_subscriber_task_schedule_ms = 100;        // milliseconds
constexpr uint32_t max_offline_durable_subscriber_task_schedule_ms = 86400000;   // milliseconds
constexpr uint32_t default_prefetch = 1000;                                      // messages
constexpr uint32_t min_default_prefetch = 1; // messages; prefetch 0 (pull) is not supported
constexpr uint32_t default_browse_max_messages = 1000;       // messages
constexpr uint32_t default_max_transaction_messages = 10000; // held sends per connection
constexpr uint64_t default_max_transaction_bytes = 64ull
                                                   << 20;      // bytes of held sends per connection
constexpr uint32_t default_console_max_connections = 256;      // connections
constexpr uint32_t min_console_max_connections = 1;            // connections
constexpr uint32_t max_console_max_connections = 4096;         // connections
constexpr uint32_t default_console_request_timeout_ms = 10000; // milliseconds
constexpr uint32_t min_console_request_timeout_ms = 100;       // milliseconds
constexpr uint32_t max_console_request_timeout_ms = 600000;    // milliseconds
constexpr uint32_t default_console_history_interval_ms = 5000; // milliseconds between samples
constexpr uint32_t min_console_history_interval_ms = 100;      // milliseconds
constexpr uint32_t max_console_history_interval_ms = 600000;   // milliseconds

// Heartbeats.
constexpr uint32_t default_heartbeat_interval_ms = 10000; // milliseconds; 0 = none sent
constexpr uint32_t default_inactivity_timeout_ms = 30000; // milliseconds; 0 = never close
constexpr uint32_t default_connect_timeout_ms = 5000;     // milliseconds; 0 = never close

// CAF runtime.
constexpr std::string_view default_scheduler_policy = "sharing";   // "sharing" or "stealing"
constexpr uint32_t default_scheduler_max_threads = 2;              // threads
constexpr uint32_t min_scheduler_max_threads = 1;                  // threads
constexpr uint32_t max_scheduler_max_threads = 64;                 // threads
constexpr uint32_t default_middleman_heartbeat_ms = 500;           // milliseconds; 0 = off
constexpr uint32_t default_middleman_connection_timeout_ms = 2000; // milliseconds

// Logging.
constexpr std::string_view default_log_level = "info"; // trace, debug, info, warn, error
// logging.file has no default value: unset means standard error.

// Network connectors (ActiveMQ's option names and defaults). A connector's name defaults to
// "connector<N>" (N counts from 0 in file order); load() fills these into every connector.
constexpr std::string_view network_connector_uri_scheme = "static:";
constexpr std::string_view default_connector_name_prefix = "connector";
constexpr uint32_t default_network_ttl = 1; // broker hops
constexpr bool default_duplex = false;
constexpr bool default_decrease_network_consumer_priority = true;
constexpr uint32_t default_connector_prefetch_size = 1000; // messages
constexpr bool default_replay_when_no_consumers = true;
constexpr uint32_t default_replay_delay_ms = 5000; // milliseconds
constexpr bool default_dynamic_only = false;
constexpr bool default_conduit_subscriptions = true;
constexpr uint32_t default_max_reconnect_delay_ms = 1000; // milliseconds

// Redelivery policy, dead-letter strategy and expiry of a queue (ActiveMQ's names and defaults;
// protocol/redelivery_policy.hpp has the same values).
constexpr int32_t default_maximum_redeliveries = 6;           // redeliveries; -1 = no limit
constexpr int64_t default_initial_redelivery_delay_ms = 1000; // milliseconds
constexpr int64_t default_redelivery_delay_ms = 1000;         // milliseconds
constexpr bool default_use_exponential_back_off = false;
constexpr double default_back_off_multiplier = 5;
constexpr int64_t default_maximum_redelivery_delay_ms = -1;         // milliseconds; -1 = no maximum
constexpr std::string_view default_dead_letter_strategy = "shared"; // or "individual"
constexpr std::string_view default_dead_letter_queue = "ActiveMQ.DLQ";
constexpr std::string_view default_dead_letter_queue_prefix = "DLQ.";
constexpr bool default_process_expired = true;
constexpr bool default_process_non_persistent = false;
constexpr uint32_t default_expire_messages_period_ms = 30000; // milliseconds; 0 = no sweep
// Replication (the `replication` block; ActiveMQ's replicated LevelDB defaults where it has them).
constexpr std::string_view default_zk_path = "/actormq/replicated";
constexpr uint32_t default_replicas = 3;
constexpr uint32_t min_replicas = 1;
constexpr uint32_t max_replicas = 15;
constexpr uint32_t default_zk_session_timeout_ms = 2000; // ActiveMQ's zkSessionTimeout "2s"
constexpr uint32_t min_zk_session_timeout_ms = 1000;
constexpr uint32_t max_zk_session_timeout_ms = 60000;

// Node lifecycle.
constexpr uint32_t default_stop_timeout_ms = 5000; // milliseconds
// AMQ_SCHEDULED_* properties are honoured (ActiveMQ's schedulerSupport, which is off there by
// default; on here so that a scheduled message is never delivered early by accident).
constexpr bool default_scheduler_support = true;

} // namespace actormq::config
