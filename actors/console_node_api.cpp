// The console's JSON API about the node, from the inspector's snapshot: /api/overview,
// /api/connections, /api/bridges, /api/actors (the snapshot itself) and /health.
#include "actors/console_impl.hpp"
#include "actors/console_json.hpp"
#include "actors/console_snapshot.hpp"

#include <caf/config_value.hpp>

namespace actormq::actors {

using namespace console_detail;

void console::impl::overview(httplib::Response& res) {
  std::string why;
  auto t = tree(why);
  if (!t)
    return set_error(res, 503, why);
  json w = json::object();
  const caf::settings empty;
  auto node = get_dict(*t, "node");
  auto store = get_dict(*t, "store");
  auto broker_s = get_dict(*t, "broker");
  auto acceptor = get_dict(*t, "acceptor");
  const auto& n = node ? *node : empty;
  const auto& s = store ? *store : empty;
  w["node"] = get_str(n, "name").empty() ? node_name : get_str(n, "name");
  w["role"] = get_str(n, "role");
  w["uptime_ms"] = get_int(n, "uptime-ms");
  w["client_port"] = get_int(n, "client-port");
  w["cluster_port"] = get_int(n, "cluster-port");
  w["console_port"] = static_cast<int64_t>(port);
  w["data_dir"] = get_str(n, "data-dir");
  json store_answer = json::object();
  store_answer["store_id"] = get_str(s, "store-id");
  auto map_size = get_int(s, "map-size");
  auto used = get_int(s, "used-bytes");
  store_answer["map_size_bytes"] = map_size;
  store_answer["used_bytes"] = used;
  store_answer["used_percent"] =
      json_real(map_size > 0 ? 100.0 * static_cast<double>(used) / map_size : 0.0);
  store_answer["commits"] = get_int(s, "commits");
  store_answer["operations"] = get_int(s, "operations");
  store_answer["last_batch"] = get_int(s, "last-batch");
  store_answer["max_batch"] = get_int(s, "max-batch");
  store_answer["mean_batch"] = json_real(get_real(s, "mean-batch"));
  store_answer["last_commit_ms"] = json_real(get_real(s, "last-commit-ms"));
  store_answer["readers"] = get_int(s, "readers");
  store_answer["open_readers"] = get_int(s, "open-readers");
  store_answer["last_txn"] = get_int(s, "last-txn");
  store_answer["oldest_reader_pid"] = get_int(s, "oldest-reader-pid");
  store_answer["oldest_reader_txn"] = get_int(s, "oldest-reader-txn");
  store_answer["oldest_reader_lag"] = get_int(s, "oldest-reader-lag");
  store_answer["failed_commits"] = get_int(s, "failed-commits");
  store_answer["answered"] = get_str(s, "kind") == "store";
  w["store"] = std::move(store_answer);
  w["destinations"] = broker_s ? get_int(*broker_s, "destinations") : 0;
  w["connections"] = acceptor ? get_int(*acceptor, "sessions") : 0;
  auto bridges = get_dict(*t, "bridges");
  w["bridges"] = static_cast<int64_t>(bridges ? bridges->size() : 0);
  set_json(res, 200, console_text(w));
}

void console::impl::connections(httplib::Response& res) {
  std::string why;
  auto t = tree(why);
  if (!t)
    return set_error(res, 503, why);
  json list = json::array();
  if (auto sessions = get_dict(*t, "sessions")) {
    for (auto& [id, v] : *sessions) {
      auto s = caf::get_if<caf::settings>(&v.get_data());
      if (!s)
        continue;
      json c = json::object();
      c["actor_id"] = id;
      c["answered"] = get_str(*s, "kind") == "session";
      c["session_id"] = get_int(*s, "id");
      c["peer"] = get_str(*s, "peer");
      c["client_id"] = get_str(*s, "client-id");
      c["consumers"] = get_int(*s, "consumers");
      c["messages_in"] = get_int(*s, "messages-in");
      c["deliveries_out"] = get_int(*s, "deliveries-out");
      c["acks_in"] = get_int(*s, "acks-in");
      c["unanswered_sends"] = get_int(*s, "unanswered-sends");
      c["reading_halted"] = caf::get_or(*s, "reading-halted", false);
      if (get_str(*s, "kind") != "session")
        c["error"] = get_str(*s, "error");
      list.push_back(std::move(c));
    }
  }
  json w = json::object();
  w["connections"] = std::move(list);
  if (auto a = get_dict(*t, "acceptor")) {
    w["accepted"] = get_int(*a, "accepted");
    w["refused"] = get_int(*a, "refused");
  }
  set_json(res, 200, console_text(w));
}

void console::impl::bridges(httplib::Response& res) {
  std::string why;
  auto t = tree(why);
  if (!t)
    return set_error(res, 503, why);
  json running = json::array();
  if (auto b = get_dict(*t, "bridges")) {
    for (auto& [id, v] : *b) {
      json bridge = json::object();
      bridge["actor_id"] = id;
      bridge["state"] = value_json(v);
      running.push_back(std::move(bridge));
    }
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
  set_json(res, 200, console_text(settings_json(*t)));
}

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
  std::string reason;
  const char* parts[] = {"node", "store", "broker", "acceptor"};
  for (auto part : parts) {
    auto d = get_dict(*t, part);
    if (!d) {
      reason = std::string("the ") + part + " is missing";
      break;
    }
    if (get_str(*d, "kind") == "unanswered") {
      reason = std::string("the ") + part + " does not answer: " + get_str(*d, "error");
      break;
    }
  }
  auto node = get_dict(*t, "node");
  std::string role = node ? get_str(*node, "role") : "";
  if (reason.empty() && role != "master")
    reason = "the node is not master (role " + role + ")";
  if (reason.empty() && node && get_int(*node, "client-port") == 0)
    reason = "the client port is not open";
  if (reason.empty()) {
    if (auto store = get_dict(*t, "store"); store && get_int(*store, "failed-commits") > 0)
      w["warning"] =
          "the store has failed commits: " + std::to_string(get_int(*store, "failed-commits"));
  }
  w["status"] = reason.empty() ? "ready" : "not ready";
  w["role"] = role;
  if (node)
    w["uptime_ms"] = get_int(*node, "uptime-ms");
  if (!reason.empty())
    w["reason"] = reason;
  set_json(res, reason.empty() ? 200 : 503, console_text(w));
}

} // namespace actormq::actors
