// Validation of a complete configuration: ranges, required keys, values this node cannot honour.
// Every error names the key (and the entry of a repeated block) and what is allowed.
#include "config/config_failure.hpp"
#include "config/defaults.hpp"
#include "config/loader.hpp"
#include "protocol/destination.hpp"
#include "protocol/destination_pattern.hpp"
#include "protocol/session_codec.hpp"

#include <algorithm>
#include <cmath>
#include <initializer_list>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace actormq::config {

namespace {

using detail::fail;
using detail::in_quotes;

template <class Int> std::string range_error(const std::string& key, Int value, Int lo, Int hi) {
  return key + ": " + std::to_string(value) + " is out of range (" + std::to_string(lo) + ".." +
         std::to_string(hi) + ")";
}

result<void> check_range(const std::string& key, uint64_t value, uint64_t lo, uint64_t hi) {
  if (value < lo || value > hi)
    return fail(config_errc::out_of_range, range_error(key, value, lo, hi));
  return {};
}

result<void> check_at_least(const std::string& key, uint64_t value, uint64_t lo) {
  if (value < lo)
    return fail(config_errc::out_of_range, key + ": " + std::to_string(value) +
                                               " is out of range (at least " + std::to_string(lo) +
                                               ")");
  return {};
}

result<void> check_one_of(const std::string& key, const std::string& value,
                          std::initializer_list<std::string_view> allowed) {
  std::string list;
  for (auto a : allowed) {
    if (value == a)
      return {};
    if (!list.empty())
      list += ", ";
    list.append(a);
  }
  return fail(config_errc::out_of_range,
              key + ": " + in_quotes(value) + " is not one of (" + list + ")");
}

result<void> check_replication(const NodeConfig& c) {
  if (!c.has_replication())
    return {};
  const Replication& r = c.replication();
  if (r.zk_address().empty())
    return fail(config_errc::missing, "replication.zk_address: required key is not set");
  // ZooKeeper's paths: absolute, no empty element, no trailing '/'.
  const std::string& path = r.zk_path();
  if (path.size() < 2 || path.front() != '/' || path.back() == '/' ||
      path.find("//") != std::string::npos || path.find('\0') != std::string::npos)
    return fail(config_errc::out_of_range,
                "replication.zk_path: " + in_quotes(path) +
                    " must be an absolute ZooKeeper path like \"/actormq/replicated\"");
  if (auto ok = check_range("replication.replicas", r.replicas(), min_replicas, max_replicas); !ok)
    return ok;
  if (auto ok = check_range("replication.zk_session_timeout_ms", r.zk_session_timeout_ms(),
                            min_zk_session_timeout_ms, max_zk_session_timeout_ms);
      !ok)
    return ok;
  if (c.standby())
    return fail(config_errc::out_of_range,
                "replication and standby: a replica has a data folder of its own (standby: "
                "false); ZooKeeper elects the master");
  return {};
}

// Only the client listener speaks a session protocol (the cluster port is CAF's, the console's
// HTTP).
result<void> check_listener(const std::string& key, const Listener& l, bool takes_protocol) {
  if (takes_protocol) {
    auto& known = protocol::session_protocols();
    if (std::find(known.begin(), known.end(), l.protocol()) == known.end()) {
      std::string names;
      for (auto& n : known)
        names += (names.empty() ? "\"" : ", \"") + n + "\"";
      return fail(config_errc::out_of_range,
                  key + ".protocol: \"" + l.protocol() +
                      "\" is not a protocol of this node (known: " + names + ")");
    }
  } else if (l.has_protocol()) {
    return fail(config_errc::out_of_range,
                key + ".protocol: only the client listener takes a protocol");
  }
  if (l.host().empty())
    return fail(config_errc::out_of_range,
                key + ".host: \"\" is empty (expected a host name or address)");
  return check_range(key + ".port", l.port(), min_port, max_port);
}

result<void> check_policy(const DestinationPolicy& p, const std::string& at) {
  if (!p.has_queue() || p.queue().empty())
    return fail(config_errc::missing,
                at + "queue: required key is not set (a queue name or pattern, \">\" for all)");
  auto pattern = protocol::parse_destination_pattern(p.queue());
  if (!pattern || pattern->text.rfind("queue://", 0) != 0)
    return fail(config_errc::out_of_range,
                at + "queue: " + in_quotes(p.queue()) + " is not a queue name or pattern" +
                    (pattern ? std::string() : ": " + pattern.message()));
  auto refuse = [&](const char* key, const std::string& value, const char* rule) {
    return fail(config_errc::out_of_range, at + key + ": " + value + " " + rule);
  };
  if (p.maximum_redeliveries() < -1)
    return refuse("maximum_redeliveries", std::to_string(p.maximum_redeliveries()),
                  "is out of range (-1 = no limit, or 0 and more)");
  if (p.initial_redelivery_delay_ms() < 0)
    return refuse("initial_redelivery_delay_ms", std::to_string(p.initial_redelivery_delay_ms()),
                  "is negative (a delay is 0 ms or more)");
  if (p.redelivery_delay_ms() < 0)
    return refuse("redelivery_delay_ms", std::to_string(p.redelivery_delay_ms()),
                  "is negative (a delay is 0 ms or more)");
  if (!(p.back_off_multiplier() >= 1) || !std::isfinite(p.back_off_multiplier()))
    return refuse("back_off_multiplier", std::to_string(p.back_off_multiplier()),
                  "is out of range (1 or more)");
  if (p.has_memory_limit_bytes() && p.memory_limit_bytes() < 1)
    return refuse("memory_limit_bytes", std::to_string(p.memory_limit_bytes()),
                  "is out of range (at least 1; leave it out for limits.destination_memory_bytes)");
  if (p.maximum_redelivery_delay_ms() < -1)
    return refuse("maximum_redelivery_delay_ms", std::to_string(p.maximum_redelivery_delay_ms()),
                  "is out of range (-1 = no maximum, or 0 ms and more)");
  if (auto ok = check_one_of(at + "dead_letter_strategy", p.dead_letter_strategy(),
                             {"shared", "individual"});
      !ok)
    return ok;
  if (auto q = protocol::parse_destination("queue://" + p.dead_letter_queue()); !q)
    return fail(config_errc::out_of_range,
                at + "dead_letter_queue: " + in_quotes(p.dead_letter_queue()) +
                    " is not a queue name: " + q.message());
  if (auto q = protocol::parse_destination("queue://" + p.queue_prefix() + "x"); !q)
    return fail(config_errc::out_of_range, at + "queue_prefix: " + in_quotes(p.queue_prefix()) +
                                               " cannot start a queue name: " + q.message());
  return {};
}

} // namespace

result<void> validate(const NodeConfig& c) {
  if (!c.has_name() || c.name().empty())
    return fail(config_errc::missing, "name: required key is not set (the node's name)");
  if (!c.has_data_dir() || c.data_dir().empty())
    return fail(config_errc::missing,
                "data_dir: required key is not set (the folder for master.lock and store/)");

  if (auto ok = check_listener("client", c.client(), true); !ok)
    return ok;
  if (auto ok = check_listener("cluster", c.cluster(), false); !ok)
    return ok;
  if (auto ok = check_listener("console", c.console(), false); !ok)
    return ok;
  if (c.has_stomp())
    if (auto ok = check_listener("stomp", c.stomp(), false); !ok)
      return ok;
  if (c.has_ws())
    if (auto ok = check_listener("ws", c.ws(), false); !ok)
      return ok;
  std::vector<std::pair<const char*, uint32_t>> ports = {
      {"client.port", c.client().port()},
      {"cluster.port", c.cluster().port()},
      {"console.port", c.console().port()},
  };
  if (c.has_stomp())
    ports.emplace_back("stomp.port", c.stomp().port());
  if (c.has_ws())
    ports.emplace_back("ws.port", c.ws().port());
  for (size_t i = 0; i < ports.size(); ++i)
    for (size_t j = i + 1; j < ports.size(); ++j)
      if (ports[i].second == ports[j].second)
        return fail(config_errc::out_of_range,
                    std::string(ports[j].first) + ": " + std::to_string(ports[j].second) +
                        " is already " + ports[i].first +
                        " (the client, cluster, console, stomp and ws ports must differ)");
  std::set<std::string> usernames;
  for (int i = 0; i < c.users_size(); ++i) {
    auto& u = c.users(i);
    auto key = "users[" + std::to_string(i) + "]";
    if (u.username().empty())
      return fail(config_errc::missing, key + ".username: required key is not set (not empty)");
    if (!usernames.insert(u.username()).second)
      return fail(config_errc::out_of_range,
                  key + ".username: " + in_quotes(u.username()) + " is listed twice");
    if (!u.has_password())
      return fail(config_errc::missing, key + ".password: required key is not set");
  }

  if (auto ok = check_at_least("store.max_size_mb", c.store().max_size_mb(), min_store_max_size_mb);
      !ok)
    return ok;
  if (auto ok = check_at_least("store.max_batch", c.store().max_batch(), min_store_max_batch); !ok)
    return ok;
  if (auto ok = check_range("store.auto_ack_delay_ms", c.store().auto_ack_delay_ms(), 0,
                            max_store_auto_ack_delay_ms);
      !ok)
    return ok;
  if (auto ok = check_range("store.journal_size_mb", c.store().journal_size_mb(),
                            min_store_journal_size_mb, max_store_journal_size_mb);
      !ok)
    return ok;
  if (auto ok = check_range("store.checkpoint_interval_ms", c.store().checkpoint_interval_ms(),
                            min_store_checkpoint_interval_ms, max_store_checkpoint_interval_ms);
      !ok)
    return ok;
  if (auto ok = check_range("limits.max_frame_bytes", c.limits().max_frame_bytes(),
                            min_max_frame_bytes, max_max_frame_bytes);
      !ok)
    return ok;
  if (c.limits().default_prefetch() < min_default_prefetch)
    return fail(config_errc::out_of_range,
                "limits.default_prefetch: " + std::to_string(c.limits().default_prefetch()) +
                    " is out of range (at least " + std::to_string(min_default_prefetch) +
                    "; prefetch 0, where a consumer pulls each message, is not supported)");
  if (c.limits().topic_subscriber_pending_messages() < min_topic_subscriber_pending_messages)
    return fail(config_errc::out_of_range,
                "limits.topic_subscriber_pending_messages: " +
                    std::to_string(c.limits().topic_subscriber_pending_messages()) +
                    " is out of range (at least " +
                    std::to_string(min_topic_subscriber_pending_messages) + ")");
  if (c.limits().max_transaction_messages() < 1 || c.limits().max_transaction_bytes() < 1)
    return fail(config_errc::out_of_range,
                "limits.max_transaction_messages and limits.max_transaction_bytes: " +
                    std::to_string(c.limits().max_transaction_messages()) + " and " +
                    std::to_string(c.limits().max_transaction_bytes()) +
                    " are out of range (each at least 1)");
  if (auto ok = check_range("limits.send_fail_if_no_space_after_timeout_ms",
                            c.limits().send_fail_if_no_space_after_timeout_ms(), 0,
                            max_send_fail_if_no_space_after_timeout_ms);
      !ok)
    return ok;
  if (auto ok = check_range("limits.offline_durable_subscriber_task_schedule_ms",
                            c.limits().offline_durable_subscriber_task_schedule_ms(),
                            min_offline_durable_subscriber_task_schedule_ms,
                            max_offline_durable_subscriber_task_schedule_ms);
      !ok)
    return ok;
  if (auto ok = check_range("limits.console_max_connections", c.limits().console_max_connections(),
                            min_console_max_connections, max_console_max_connections);
      !ok)
    return ok;
  if (auto ok =
          check_range("limits.console_request_timeout_ms", c.limits().console_request_timeout_ms(),
                      min_console_request_timeout_ms, max_console_request_timeout_ms);
      !ok)
    return ok;
  if (auto ok = check_range("limits.console_history_interval_ms",
                            c.limits().console_history_interval_ms(),
                            min_console_history_interval_ms, max_console_history_interval_ms);
      !ok)
    return ok;
  if (auto ok = check_one_of("limits.slow_topic_subscriber", c.limits().slow_topic_subscriber(),
                             {"block", "drop_oldest"});
      !ok)
    return ok;
  if (auto ok = check_one_of("runtime.scheduler_policy", c.runtime().scheduler_policy(),
                             {"sharing", "stealing"});
      !ok)
    return ok;
  if (auto ok = check_range("runtime.scheduler_max_threads", c.runtime().scheduler_max_threads(),
                            min_scheduler_max_threads, max_scheduler_max_threads);
      !ok)
    return ok;
  if (auto ok = check_one_of("logging.level", c.logging().level(),
                             {"trace", "debug", "info", "warn", "error"});
      !ok)
    return ok;

  if (auto& vt = c.virtual_topics(); !vt.name().empty()) {
    if (auto p = protocol::parse_subscription_pattern("topic://" + vt.name()); !p)
      return fail(config_errc::out_of_range, "virtual_topics.name: " + p.message());
    auto& prefix = vt.consumer_prefix();
    auto p = protocol::parse_subscription_pattern("queue://" + prefix + "x");
    if (prefix.empty() || prefix.back() != '.' || !p || p->elements.back() != "x" ||
        std::count(p->elements.begin(), p->elements.end(), ">") > 0)
      return fail(config_errc::out_of_range,
                  "virtual_topics.consumer_prefix: " + in_quotes(prefix) +
                      " must be name elements each followed by '.' ('*' for any one), like "
                      "\"Consumer.*.\"" +
                      (p ? std::string() : ": " + p.message()));
  }

  if (auto ok = check_replication(c); !ok)
    return ok;

  for (int i = 0; i < c.network_connectors_size(); ++i) {
    const NetworkConnector& nc = c.network_connectors(i);
    const std::string key = "network_connectors[" + std::to_string(i) + "].uri";
    if (!nc.has_uri() || nc.uri().empty())
      return fail(config_errc::missing, key + ": required key is not set");
    if (nc.uri().rfind(network_connector_uri_scheme, 0) != 0)
      return fail(config_errc::out_of_range,
                  key + ": " + in_quotes(nc.uri()) + " must start with " +
                      in_quotes(network_connector_uri_scheme) + " (static:(tcp://host:port,...))");
    auto check_patterns = [&](const char* field, const auto& patterns) -> result<void> {
      for (int j = 0; j < patterns.size(); ++j)
        if (auto p = protocol::parse_destination_pattern(patterns.Get(j)); !p)
          return fail(config_errc::out_of_range, "network_connectors[" + std::to_string(i) + "]." +
                                                     field + "[" + std::to_string(j) +
                                                     "]: " + p.message());
      return {};
    };
    const std::string at = "network_connectors[" + std::to_string(i) + "].";
    // ActiveMQ's names are accepted; values this node cannot honour are refused, not ignored.
    if (nc.duplex())
      return fail(config_errc::out_of_range,
                  at + "duplex: true is not supported (give the peer a connector of its own)");
    if (nc.has_network_ttl() && nc.network_ttl() != default_network_ttl)
      return fail(config_errc::out_of_range,
                  at + "network_ttl: " + std::to_string(nc.network_ttl()) +
                      " is not supported (a message crosses one bridge: 1)");
    if (nc.has_conduit_subscriptions() &&
        nc.conduit_subscriptions() != default_conduit_subscriptions)
      return fail(config_errc::out_of_range,
                  at + "conduit_subscriptions: false is not supported (a bridge consumes each "
                       "destination once)");
    // The replay options act on the node's queues, which do not know which connector a
    // forwarded message came through.
    const NetworkConnector& first = c.network_connectors(0);
    if (nc.replay_when_no_consumers() != first.replay_when_no_consumers() ||
        nc.replay_delay_ms() != first.replay_delay_ms())
      return fail(config_errc::out_of_range,
                  at + "replay_when_no_consumers and replay_delay_ms must be the same on every "
                       "connector (they apply to the node's queues)");
    if (auto ok = check_patterns("excluded_destinations", nc.excluded_destinations()); !ok)
      return ok;
    if (auto ok = check_patterns("statically_included_destinations",
                                 nc.statically_included_destinations());
        !ok)
      return ok;
  }
  for (int i = 0; i < c.destination_policies_size(); ++i)
    if (auto ok = check_policy(c.destination_policies(i),
                               "destination_policies[" + std::to_string(i) + "].");
        !ok)
      return ok;
  return {};
}

} // namespace actormq::config
