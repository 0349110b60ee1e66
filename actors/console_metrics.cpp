// /metrics: the node's figures in Prometheus's text format (version 0.0.4), from the broker's
// statistics and the inspector's snapshot.
#include "actors/console_impl.hpp"
#include "actors/snapshot.hpp"

#include <cctype>
#include <cmath>
#include <cstdio>
#include <map>
#include <string_view>
#include <vector>

namespace actormq::actors {

namespace {

// A Prometheus label value: backslash, double quote and newline escaped.
std::string label(std::string_view s) {
  std::string out;
  for (char c : s) {
    if (c == '\\')
      out += "\\\\";
    else if (c == '"')
      out += "\\\"";
    else if (c == '\n')
      out += "\\n";
    else
      out += c;
  }
  return out;
}

// A sample's value: an integral one with every digit, another with 9 significant digits.
std::string number_text(double v) {
  if (!std::isfinite(v))
    return "NaN";
  char buf[32];
  if (std::floor(v) == v && std::fabs(v) < 9007199254740992.0)
    std::snprintf(buf, sizeof buf, "%.0f", v);
  else
    std::snprintf(buf, sizeof buf, "%.9g", v);
  return buf;
}

// Prometheus text format, one metric family at a time.
class metrics_writer {
public:
  void family(std::string_view name, std::string_view type, std::string_view help) {
    out_ += "# HELP ";
    out_.append(name);
    out_ += ' ';
    out_.append(help);
    out_ += "\n# TYPE ";
    out_.append(name);
    out_ += ' ';
    out_.append(type);
    out_ += '\n';
  }
  void sample(std::string_view name, std::string_view labels, double value) {
    out_.append(name);
    if (!labels.empty()) {
      out_ += '{';
      out_.append(labels);
      out_ += '}';
    }
    out_ += ' ';
    out_ += number_text(value);
    out_ += '\n';
  }
  void single(std::string_view name, std::string_view type, std::string_view help, double v) {
    family(name, type, help);
    sample(name, {}, v);
  }
  std::string& out() { return out_; }

private:
  std::string out_;
};

// A count as a sample's value (counts are capped as the snapshot's JSON caps them).
double count(uint64_t n) {
  return static_cast<double>(snapshot_count(n));
}

// Metric name from a snapshot key: "in-flight" -> "in_flight".
std::string metric_part(std::string_view key) {
  std::string out;
  for (char c : key)
    out += std::isalnum(static_cast<unsigned char>(c)) ? c : '_';
  return out;
}

} // namespace

void console::impl::metrics(httplib::Response& res) {
  std::string why;
  auto list = stats(why);
  auto t = tree(why);
  if (!list || !t)
    return set_error(res, 503, why);
  metrics_writer m;
  const node_snapshot no_node;
  const auto& n = t->node && t->node->answer ? *t->node->answer : no_node;
  m.single("actormq_up", "gauge", "1 while the console can reach the node's actors.", 1);
  m.single("actormq_master", "gauge", "1 when this node holds the store's lock (master).",
           n.role == "master" ? 1 : 0);
  m.single("actormq_uptime_seconds", "gauge", "Seconds since the node process started.",
           static_cast<double>(snapshot_count(n.uptime_ms)) / 1000.0);
  struct dest_metric {
    const char* name;
    const char* type;
    const char* help;
    uint64_t destination_stats::*field;
  };
  const dest_metric dest[] = {
      {"actormq_destination_pending", "gauge", "Messages waiting for a consumer.",
       &destination_stats::pending},
      {"actormq_destination_in_flight", "gauge",
       "Messages dispatched to consumers and not yet acknowledged.", &destination_stats::in_flight},
      {"actormq_destination_consumers", "gauge", "Consumers of the destination.",
       &destination_stats::consumers},
      {"actormq_destination_memory_bytes", "gauge",
       "Bytes of message bodies the destination holds in memory.",
       &destination_stats::memory_bytes},
      {"actormq_destination_enqueued_total", "counter",
       "Messages the destination accepted since the store was created.",
       &destination_stats::enqueued},
      {"actormq_destination_dequeued_total", "counter",
       "Messages acknowledged (or purged) since the store was created.",
       &destination_stats::dequeued},
      {"actormq_destination_duplicates_dropped_total", "counter",
       "Resent messages recognised as duplicates and not stored twice (since the node "
       "started).",
       &destination_stats::duplicates_dropped},
      {"actormq_destination_expired_total", "counter",
       "Messages whose time to live ran out (since the node started).",
       &destination_stats::expired},
      {"actormq_destination_dead_lettered_total", "counter",
       "Messages moved to a dead-letter queue, expired or over their redelivery limit (since "
       "the node started).",
       &destination_stats::dead_lettered},
      {"actormq_destination_dropped_total", "counter",
       "Non-persistent dead letters dropped, expired or over their redelivery limit (since the "
       "node started).",
       &destination_stats::dropped},
  };
  for (auto& d : dest) {
    m.family(d.name, d.type, d.help);
    for (auto& s : *list)
      m.sample(d.name, "destination=\"" + label(s.name) + "\"", static_cast<double>(s.*(d.field)));
  }
  m.family("actormq_destination_flow_controlled", "gauge",
           "1 while producers of the destination are held back (its memory limit, or a full "
           "store).");
  for (auto& s : *list)
    m.sample("actormq_destination_flow_controlled", "destination=\"" + label(s.name) + "\"",
             s.flow_controlled ? 1 : 0);
  m.family("actormq_topic_discarded_total", "counter",
           "Messages a topic dropped for slow subscribers (limits.slow_topic_subscriber "
           "drop_oldest; since the topic started).");
  for (auto& s : *list)
    if (s.name.rfind("topic://", 0) == 0)
      m.sample("actormq_topic_discarded_total", "destination=\"" + label(s.name) + "\"",
               static_cast<double>(s.discarded));
  m.single("actormq_destinations", "gauge", "Destinations of the node.",
           static_cast<double>(list->size()));

  const store_snapshot no_store;
  const auto& s = t->store && t->store->answer ? *t->store->answer : no_store;
  m.single("actormq_store_map_size_bytes", "gauge", "Size of the LMDB map (store.max_size_mb).",
           count(s.map_size));
  m.single("actormq_store_used_bytes", "gauge", "Bytes of the map in use.", count(s.used_bytes));
  m.single("actormq_store_commits_total", "counter", "Store transactions committed.",
           count(s.commits));
  m.single("actormq_store_operations_total", "counter",
           "Operations (puts, deletes, ...) committed.", count(s.operations));
  m.single("actormq_store_failed_commits_total", "counter", "Store commits that failed.",
           count(s.failed_commits));
  m.single("actormq_store_last_batch_size", "gauge", "Operations in the last commit.",
           count(s.last_batch));
  m.single("actormq_store_max_batch_size", "gauge", "Most operations in one commit so far.",
           count(s.max_batch));
  m.single("actormq_store_mean_batch_size", "gauge", "Mean operations per commit.", s.mean_batch);
  m.single("actormq_store_last_commit_milliseconds", "gauge",
           "Duration of the last commit (with its sync).", s.last_commit_ms);
  m.single("actormq_store_readers", "gauge", "LMDB reader slots taken (high-water mark).",
           count(s.readers));
  m.single("actormq_store_open_readers", "gauge", "Read transactions open on the store now.",
           count(s.open_readers));
  m.single("actormq_store_oldest_reader_lag_transactions", "gauge",
           "Commits made since the snapshot of the oldest open reader (0 if none); pages "
           "freed since then cannot be reused.",
           count(s.oldest_reader_lag.value_or(0)));
  m.single("actormq_store_waiting_operations", "gauge", "Operations waiting for the next commit.",
           count(s.waiting_operations));
  m.single("actormq_store_held_sends", "gauge",
           "Sends waiting for room in a full store (store.max_size_mb).", count(s.held_sends));
  m.single("actormq_store_held_sends_timed_out_total", "counter",
           "Sends that failed after waiting limits.send_fail_if_no_space_after_timeout_ms for "
           "room in the store.",
           count(s.held_sends_timed_out));

  const acceptor_snapshot no_acceptor;
  const auto& a = t->acceptor && t->acceptor->answer ? *t->acceptor->answer : no_acceptor;
  m.single("actormq_sessions", "gauge", "Open client connections (sessions).", count(a.sessions));
  m.single("actormq_connections_accepted_total", "counter", "Client connections accepted.",
           count(a.accepted));
  m.single("actormq_connections_refused_total", "counter",
           "Client connections refused (limits.max_connections).", count(a.refused));

  // Every listener's connections, labelled by the listener (client, stomp, ws).
  std::vector<const acceptor_snapshot*> listeners{&a};
  for (auto& [id, entry] : t->acceptors)
    if (entry.answer)
      listeners.push_back(&*entry.answer);
  struct listener_metric {
    const char* name;
    const char* type;
    const char* help;
    uint64_t acceptor_snapshot::*field;
  };
  const listener_metric per_listener[] = {
      {"actormq_listener_sessions", "gauge", "Open connections of the listener.",
       &acceptor_snapshot::sessions},
      {"actormq_listener_connections_accepted_total", "counter",
       "Connections the listener accepted.", &acceptor_snapshot::accepted},
      {"actormq_listener_connections_refused_total", "counter",
       "Connections the listener refused (limits.max_connections).", &acceptor_snapshot::refused},
  };
  for (auto& lm : per_listener) {
    m.family(lm.name, lm.type, lm.help);
    for (auto* l : listeners)
      m.sample(lm.name,
               "listener=\"" + label(l->listener.empty() ? "client" : l->listener) +
                   "\",protocol=\"" + label(l->protocol) + "\"",
               count(l->*lm.field));
  }

  // Bridges: every number a bridge's snapshot holds, labelled by the bridge.
  if (!t->bridges.empty()) {
    std::map<std::string, std::vector<std::pair<std::string, double>>> families;
    for (auto& [id, entry] : t->bridges) {
      std::string name = entry.answer ? entry.answer->name : std::string{};
      std::string labels = "bridge=\"" + label(name.empty() ? id : name) + "\"";
      if (entry.answer && !entry.answer->peer.empty())
        labels += ",peer=\"" + label(entry.answer->peer) + "\"";
      for (auto& [k, x] : fields_of(entry)) {
        double value = 0;
        if (auto i = std::get_if<int64_t>(&x))
          value = static_cast<double>(*i);
        else if (auto r = std::get_if<double>(&x))
          value = *r;
        else if (auto bo = std::get_if<bool>(&x))
          value = *bo ? 1 : 0;
        else
          continue;
        families["actormq_bridge_" + metric_part(k)].emplace_back(labels, value);
      }
    }
    for (auto& [fam, samples] : families) {
      m.family(fam, "gauge", "A bridge's snapshot value (see docs/console.md).");
      for (auto& [labels, value] : samples)
        m.sample(fam, labels, value);
    }
  }
  res.status = 200;
  res.set_header("Cache-Control", "no-store");
  res.set_content(std::move(m.out()), "text/plain; version=0.0.4; charset=utf-8");
}

} // namespace actormq::actors
