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
  json_writer w;
  w.begin_object();
  const caf::settings empty;
  auto node = get_dict(*t, "node");
  auto store = get_dict(*t, "store");
  auto broker_s = get_dict(*t, "broker");
  auto acceptor = get_dict(*t, "acceptor");
  const auto& n = node ? *node : empty;
  const auto& s = store ? *store : empty;
  w.field("node", get_str(n, "name").empty() ? node_name : get_str(n, "name"));
  w.field("role", get_str(n, "role"));
  w.field("uptime_ms", get_int(n, "uptime-ms"));
  w.field("client_port", get_int(n, "client-port"));
  w.field("cluster_port", get_int(n, "cluster-port"));
  w.field("console_port", static_cast<int64_t>(port));
  w.field("data_dir", get_str(n, "data-dir"));
  w.key("store").begin_object();
  w.field("store_id", get_str(s, "store-id"));
  auto map_size = get_int(s, "map-size");
  auto used = get_int(s, "used-bytes");
  w.field("map_size_bytes", map_size);
  w.field("used_bytes", used);
  w.field("used_percent", map_size > 0 ? 100.0 * static_cast<double>(used) / map_size : 0.0);
  w.field("commits", get_int(s, "commits"));
  w.field("operations", get_int(s, "operations"));
  w.field("last_batch", get_int(s, "last-batch"));
  w.field("max_batch", get_int(s, "max-batch"));
  w.field("mean_batch", get_real(s, "mean-batch"));
  w.field("last_commit_ms", get_real(s, "last-commit-ms"));
  w.field("readers", get_int(s, "readers"));
  w.field("open_readers", get_int(s, "open-readers"));
  w.field("last_txn", get_int(s, "last-txn"));
  w.field("oldest_reader_pid", get_int(s, "oldest-reader-pid"));
  w.field("oldest_reader_txn", get_int(s, "oldest-reader-txn"));
  w.field("oldest_reader_lag", get_int(s, "oldest-reader-lag"));
  w.field("failed_commits", get_int(s, "failed-commits"));
  w.field("answered", get_str(s, "kind") == "store");
  w.end_object();
  w.field("destinations", broker_s ? get_int(*broker_s, "destinations") : 0);
  w.field("connections", acceptor ? get_int(*acceptor, "sessions") : 0);
  auto bridges = get_dict(*t, "bridges");
  w.field("bridges", static_cast<int64_t>(bridges ? bridges->size() : 0));
  w.end_object();
  set_json(res, 200, std::move(w.out()));
}

void console::impl::connections(httplib::Response& res) {
  std::string why;
  auto t = tree(why);
  if (!t)
    return set_error(res, 503, why);
  json_writer w;
  w.begin_object().key("connections").begin_array();
  if (auto sessions = get_dict(*t, "sessions")) {
    for (auto& [id, v] : *sessions) {
      auto s = caf::get_if<caf::settings>(&v.get_data());
      if (!s)
        continue;
      w.begin_object();
      w.field("actor_id", id);
      w.field("answered", get_str(*s, "kind") == "session");
      w.field("session_id", get_int(*s, "id"));
      w.field("peer", get_str(*s, "peer"));
      w.field("client_id", get_str(*s, "client-id"));
      w.field("consumers", get_int(*s, "consumers"));
      w.field("messages_in", get_int(*s, "messages-in"));
      w.field("deliveries_out", get_int(*s, "deliveries-out"));
      w.field("acks_in", get_int(*s, "acks-in"));
      w.field("unanswered_sends", get_int(*s, "unanswered-sends"));
      w.field("reading_halted", caf::get_or(*s, "reading-halted", false));
      if (get_str(*s, "kind") != "session")
        w.field("error", get_str(*s, "error"));
      w.end_object();
    }
  }
  w.end_array();
  if (auto a = get_dict(*t, "acceptor")) {
    w.field("accepted", get_int(*a, "accepted"));
    w.field("refused", get_int(*a, "refused"));
  }
  w.end_object();
  set_json(res, 200, std::move(w.out()));
}

void console::impl::bridges(httplib::Response& res) {
  std::string why;
  auto t = tree(why);
  if (!t)
    return set_error(res, 503, why);
  json_writer w;
  w.begin_object().key("bridges").begin_array();
  if (auto b = get_dict(*t, "bridges")) {
    for (auto& [id, v] : *b) {
      w.begin_object().field("actor_id", id).key("state");
      write_value(w, v);
      w.end_object();
    }
  }
  w.end_array().key("configured").begin_array();
  for (auto& [name, uri] : connectors)
    w.begin_object().field("name", name).field("uri", uri).end_object();
  w.end_array().end_object();
  set_json(res, 200, std::move(w.out()));
}

void console::impl::actors(httplib::Response& res) {
  std::string why;
  auto t = tree(why);
  if (!t)
    return set_error(res, 503, why);
  json_writer w;
  write_settings(w, *t);
  set_json(res, 200, std::move(w.out()));
}

void console::impl::health(httplib::Response& res) {
  std::string why;
  auto t = tree(why);
  json_writer w;
  w.begin_object().field("node", node_name);
  if (!t) {
    w.field("status", "unavailable").field("reason", why).end_object();
    return set_json(res, 503, std::move(w.out()));
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
      w.field("warning",
              "the store has failed commits: " + std::to_string(get_int(*store, "failed-commits")));
  }
  w.field("status", reason.empty() ? "ready" : "not ready");
  w.field("role", role);
  if (node)
    w.field("uptime_ms", get_int(*node, "uptime-ms"));
  if (!reason.empty())
    w.field("reason", reason);
  w.end_object();
  set_json(res, reason.empty() ? 200 : 503, std::move(w.out()));
}

} // namespace actormq::actors
