// The console's JSON API about the node, from the inspector's snapshot: /api/overview,
// /api/connections, /api/bridges, /api/actors (the snapshot itself) and /health.
#include "actors/console_impl.hpp"
#include "actors/console_json.hpp"
#include "actors/console_snapshot.hpp"

namespace actormq::actors {

using namespace console_detail;

namespace {

// The answer of a part, or nullptr (absent or not answering).
template <class Snapshot>
const Snapshot* answer_of(const std::optional<snapshot_entry<Snapshot>>& part) {
  return part && part->answer ? &*part->answer : nullptr;
}

} // namespace

void console::impl::overview(httplib::Response& res) {
  std::string why;
  auto t = tree(why);
  if (!t)
    return set_error(res, 503, why);
  json w = json::object();
  const node_snapshot no_node;
  const store_snapshot no_store;
  auto node_answer = answer_of(t->node);
  auto store_answer_of = answer_of(t->store);
  const auto& n = node_answer ? *node_answer : no_node;
  const auto& s = store_answer_of ? *store_answer_of : no_store;
  w["node"] = n.name.empty() ? node_name : n.name;
  w["role"] = n.role;
  w["uptime_ms"] = snapshot_count(n.uptime_ms);
  w["client_port"] = snapshot_count(n.client_port);
  w["cluster_port"] = snapshot_count(n.cluster_port);
  w["console_port"] = static_cast<int64_t>(port);
  w["data_dir"] = n.data_dir;
  json store_answer = json::object();
  store_answer["store_id"] = s.store_id;
  auto map_size = snapshot_count(s.map_size);
  auto used = snapshot_count(s.used_bytes);
  store_answer["map_size_bytes"] = map_size;
  store_answer["used_bytes"] = used;
  store_answer["used_percent"] =
      json_real(map_size > 0 ? 100.0 * static_cast<double>(used) / map_size : 0.0);
  store_answer["commits"] = snapshot_count(s.commits);
  store_answer["operations"] = snapshot_count(s.operations);
  store_answer["last_batch"] = snapshot_count(s.last_batch);
  store_answer["max_batch"] = snapshot_count(s.max_batch);
  store_answer["mean_batch"] = json_real(s.mean_batch);
  store_answer["last_commit_ms"] = json_real(s.last_commit_ms);
  store_answer["readers"] = snapshot_count(s.readers);
  store_answer["open_readers"] = snapshot_count(s.open_readers);
  store_answer["last_txn"] = snapshot_count(s.last_txn);
  store_answer["oldest_reader_pid"] = snapshot_count(s.oldest_reader_pid.value_or(0));
  store_answer["oldest_reader_txn"] = snapshot_count(s.oldest_reader_txn.value_or(0));
  store_answer["oldest_reader_lag"] = snapshot_count(s.oldest_reader_lag.value_or(0));
  store_answer["failed_commits"] = snapshot_count(s.failed_commits);
  store_answer["answered"] = store_answer_of != nullptr;
  w["store"] = std::move(store_answer);
  auto broker_answer = answer_of(t->broker);
  w["destinations"] = broker_answer ? snapshot_count(broker_answer->destinations) : 0;
  // Connections of every listener (client, stomp, ws).
  uint64_t connections = 0;
  if (auto a = answer_of(t->acceptor))
    connections += a->sessions;
  for (auto& [id, entry] : t->acceptors)
    if (entry.answer)
      connections += entry.answer->sessions;
  w["connections"] = snapshot_count(connections);
  w["bridges"] = static_cast<int64_t>(t->bridges.size());
  set_json(res, 200, console_text(w));
}

void console::impl::connections(httplib::Response& res) {
  std::string why;
  auto t = tree(why);
  if (!t)
    return set_error(res, 503, why);
  json list = json::array();
  const session_snapshot unanswered;
  for (auto& [id, entry] : t->sessions) {
    const auto& s = entry.answer ? *entry.answer : unanswered;
    json c = json::object();
    c["actor_id"] = id;
    c["answered"] = entry.answer.has_value();
    c["session_id"] = snapshot_count(s.id);
    c["listener"] = s.listener;
    c["peer"] = s.peer;
    c["client_id"] = s.client_id;
    c["consumers"] = snapshot_count(s.consumers);
    c["messages_in"] = snapshot_count(s.messages_in);
    c["deliveries_out"] = snapshot_count(s.deliveries_out);
    c["acks_in"] = snapshot_count(s.acks_in);
    c["unanswered_sends"] = snapshot_count(s.unanswered_sends);
    c["reading_halted"] = s.reading_halted;
    if (!entry.answer)
      c["error"] = entry.error;
    list.push_back(std::move(c));
  }
  json w = json::object();
  w["connections"] = std::move(list);
  // Every listener's acceptor (the client's, then the STOMP ones); the totals are over all.
  json listeners = json::array();
  uint64_t accepted = 0, refused = 0;
  auto add_listener = [&](const snapshot_entry<acceptor_snapshot>& entry) {
    const acceptor_snapshot none;
    const auto& a = entry.answer ? *entry.answer : none;
    json l = json::object();
    l["actor_id"] = std::to_string(entry.actor_id);
    l["answered"] = entry.answer.has_value();
    l["listener"] = a.listener;
    l["protocol"] = a.protocol;
    l["port"] = snapshot_count(a.port);
    l["sessions"] = snapshot_count(a.sessions);
    l["accepted"] = snapshot_count(a.accepted);
    l["refused"] = snapshot_count(a.refused);
    listeners.push_back(std::move(l));
    accepted += a.accepted;
    refused += a.refused;
  };
  if (t->acceptor)
    add_listener(*t->acceptor);
  for (auto& [id, entry] : t->acceptors)
    add_listener(entry);
  w["listeners"] = std::move(listeners);
  if (t->acceptor) {
    w["accepted"] = snapshot_count(accepted);
    w["refused"] = snapshot_count(refused);
  }
  set_json(res, 200, console_text(w));
}

void console::impl::bridges(httplib::Response& res) {
  std::string why;
  auto t = tree(why);
  if (!t)
    return set_error(res, 503, why);
  json running = json::array();
  for (auto& [id, entry] : t->bridges) {
    json bridge = json::object();
    bridge["actor_id"] = id;
    bridge["state"] = entry_json(fields_of(entry));
    running.push_back(std::move(bridge));
  }
  json configured = json::array();
  for (auto& [name, uri] : connectors) {
    json c = json::object();
    c["name"] = name;
    c["uri"] = uri;
    configured.push_back(std::move(c));
  }
  json w = json::object();
  w["bridges"] = std::move(running);
  w["configured"] = std::move(configured);
  set_json(res, 200, console_text(w));
}

void console::impl::actors(httplib::Response& res) {
  std::string why;
  auto t = tree(why);
  if (!t)
    return set_error(res, 503, why);
  set_json(res, 200, console_text(snapshot_json(*t)));
}

namespace {

// Why a part of the node keeps it from being ready, or "" if it does not.
template <class Snapshot>
std::string part_problem(const std::optional<snapshot_entry<Snapshot>>& part, const char* name) {
  if (!part)
    return std::string("the ") + name + " is missing";
  if (!part->answer)
    return std::string("the ") + name + " does not answer: " + part->error;
  return {};
}

} // namespace

void console::impl::health(httplib::Response& res) {
  std::string why;
  auto t = tree(why);
  json w = json::object();
  w["node"] = node_name;
  if (!t) {
    w["status"] = "unavailable";
    w["reason"] = why;
    return set_json(res, 503, console_text(w));
  }
  std::string reason = part_problem(t->node, "node");
  if (reason.empty())
    reason = part_problem(t->store, "store");
  if (reason.empty())
    reason = part_problem(t->broker, "broker");
  if (reason.empty())
    reason = part_problem(t->acceptor, "acceptor");
  auto node = answer_of(t->node);
  std::string role = node ? node->role : "";
  if (reason.empty() && role != "master")
    reason = "the node is not master (role " + role + ")";
  if (reason.empty() && node && node->client_port == 0)
    reason = "the client port is not open";
  if (reason.empty()) {
    if (auto store = answer_of(t->store); store && store->failed_commits > 0)
      w["warning"] =
          "the store has failed commits: " + std::to_string(snapshot_count(store->failed_commits));
  }
  w["status"] = reason.empty() ? "ready" : "not ready";
  w["role"] = role;
  if (t->node)
    w["uptime_ms"] = snapshot_count(node ? node->uptime_ms : 0);
  if (!reason.empty())
    w["reason"] = reason;
  set_json(res, reason.empty() ? 200 : 503, console_text(w));
}

} // namespace actormq::actors
