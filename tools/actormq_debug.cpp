// actormq-debug: attaches to a node's front door (its cluster port) as a remote CAF node and
// prints the node's actors with their state, from the snapshot every actor answers.
//
//   actormq-debug --node HOST:PORT actors            the tree of every actor
//   actormq-debug --node HOST:PORT show NAME         one actor in detail
//   actormq-debug --node HOST:PORT watch [--interval MS] [--count N]
//
// Exit codes: 0 done, 1 usage, 3 the node is not reachable, 4 the node answered with an error
// (or no snapshot), 5 show found no actor of that name.
#include "actors/atoms.hpp"
#include "actors/front_door.hpp"
#include "actors/message_types.hpp"
#include "actors/snapshot.hpp"
#include "config/defaults.hpp"

#include <CLI/CLI.hpp>
#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/config_value.hpp>
#include <caf/io/middleman.hpp>
#include <caf/scoped_actor.hpp>

#include <algorithm>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <iostream>
#include <map>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <type_traits>
#include <variant>
#include <vector>

using namespace actormq;
using namespace std::chrono_literals;

namespace {

enum exit_codes : int {
  exit_ok = 0,
  exit_usage = 1,
  exit_unreachable = 3,
  exit_no_snapshot = 4,
  exit_not_found = 5,
};

volatile std::sig_atomic_t interrupted = 0;

void on_signal(int) {
  interrupted = 1;
}

// ---- reading the snapshot ---------------------------------------------------------------------

int64_t num(uint64_t n) {
  return actors::snapshot_count(n);
}

std::string bytes(double n) {
  const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  int i = 0;
  while (n >= 1024 && i < 4) {
    n /= 1024;
    ++i;
  }
  char buf[32];
  std::snprintf(buf, sizeof buf, i == 0 ? "%.0f %s" : "%.1f %s", n, units[i]);
  return buf;
}

std::string fixed(double v, int digits) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.*f", digits, v);
  return buf;
}

std::string duration(uint64_t ms) {
  int64_t s = num(ms) / 1000;
  std::ostringstream out;
  if (s >= 86400)
    out << s / 86400 << "d ";
  if (s >= 3600)
    out << (s % 86400) / 3600 << "h ";
  if (s >= 60)
    out << (s % 3600) / 60 << "m ";
  out << s % 60 << "s";
  return out.str();
}

// One line of state per kind of actor.
std::string summary(const actors::node_snapshot& s) {
  std::ostringstream o;
  o << "role " << s.role << ", lock " << (s.role == "master" ? "held by this node" : "not held")
    << ", up " << duration(s.uptime_ms) << ", client port " << num(s.client_port)
    << ", cluster port " << num(s.cluster_port);
  return o.str();
}

std::string summary(const actors::lock_holder_snapshot& s) {
  std::ostringstream o;
  o << "lock " << s.lock_file << " held by node " << s.holder << " (pid " << num(s.pid) << ") for "
    << duration(s.held_ms) << ", after waiting " << num(s.waited_ms) << " ms";
  return o.str();
}

std::string summary(const actors::store_snapshot& s) {
  auto map = static_cast<double>(num(s.map_size));
  auto used = static_cast<double>(num(s.used_bytes));
  std::ostringstream o;
  o << "map " << bytes(used) << " used of " << bytes(map) << " ("
    << fixed(map > 0 ? 100 * used / map : 0, 1) << " %), commits " << num(s.commits)
    << ", operations " << num(s.operations) << ", batch last " << num(s.last_batch) << " / max "
    << num(s.max_batch) << " / mean " << fixed(s.mean_batch, 1) << ", last commit "
    << fixed(s.last_commit_ms, 2) << " ms, readers " << num(s.readers) << ", waiting operations "
    << num(s.waiting_operations) << ", failed commits " << num(s.failed_commits);
  o << ", open readers " << num(s.open_readers);
  if (s.oldest_reader_pid)
    o << ", oldest reader pid " << num(*s.oldest_reader_pid) << " at transaction "
      << num(s.oldest_reader_txn.value_or(0)) << " (" << num(s.oldest_reader_lag.value_or(0))
      << " commits behind)";
  else
    o << ", oldest reader none";
  return o.str();
}

std::string summary(const actors::broker_snapshot& s) {
  return "destinations " + std::to_string(num(s.destinations));
}

std::string summary(const actors::acceptor_snapshot& s) {
  std::ostringstream o;
  o << "port " << num(s.port) << ", sessions " << num(s.sessions) << ", accepted "
    << num(s.accepted) << ", refused " << num(s.refused) << ", protocol " << s.protocol;
  return o.str();
}

std::string summary(const actors::queue_snapshot& s) {
  std::ostringstream o;
  if (s.destination_kind == "topic") {
    o << "subscribers " << num(s.consumers) << ", pending " << num(s.pending) << ", in-flight "
      << num(s.in_flight) << ", enqueued " << num(s.enqueued) << ", dispatched "
      << num(s.dispatched) << ", dropped without subscribers " << num(s.dropped_without_subscribers)
      << ", memory " << bytes(static_cast<double>(num(s.memory_bytes)));
    if (s.held_sends > 0)
      o << ", held sends " << num(s.held_sends) << " (flow control)";
    if (s.discarded > 0)
      o << ", discarded for slow subscribers " << num(s.discarded);
    return o.str();
  }
  o << "pending " << num(s.pending) << ", in-flight " << num(s.in_flight) << ", consumers "
    << num(s.consumers) << ", enqueued " << num(s.enqueued) << ", dequeued " << num(s.dequeued)
    << ", duplicates dropped " << num(s.duplicates_dropped) << ", memory "
    << bytes(static_cast<double>(num(s.memory_bytes)));
  if (s.held_sends > 0)
    o << ", held sends " << num(s.held_sends) << " (flow control)";
  return o.str();
}

std::string summary(const actors::session_snapshot& s) {
  std::ostringstream o;
  o << "client " << s.peer << ", id " << num(s.id) << ", listener " << s.listener << ", client-id "
    << (s.client_id.empty() ? "-" : s.client_id) << ", consumers " << num(s.consumers)
    << ", producers " << num(s.producers) << ", messages in " << num(s.messages_in)
    << ", deliveries out " << num(s.deliveries_out) << ", acks in " << num(s.acks_in);
  if (s.reading_halted)
    o << ", reading halted (flow control)";
  return o.str();
}

std::string summary(const actors::bridge_snapshot& s) {
  std::ostringstream o;
  o << "peer " << (s.peer.empty() ? "-" : s.peer) << " at " << s.peer_address << ", state "
    << s.state << ", forwarded " << num(s.forwarded) << ", acknowledged " << num(s.acknowledged)
    << ", in transfer " << num(s.in_transfer) << ", resent " << num(s.resent) << ", destinations "
    << num(s.destinations) << ", connects " << num(s.connects);
  if (!s.last_error.empty())
    o << ", last error: " << s.last_error;
  return o.str();
}

// The head of an entry's title: its kind and name, as the kind is best known.
std::string head(const actors::queue_snapshot& s, const std::string& key) {
  return s.name.empty() ? key : s.name;
}
std::string head(const actors::session_snapshot& s, const std::string&) {
  return "session " + std::to_string(num(s.id));
}
std::string head(const actors::node_snapshot& s, const std::string&) {
  return "node " + s.name;
}
std::string head(const actors::lock_holder_snapshot&, const std::string&) {
  return "lock holder";
}
std::string head(const actors::bridge_snapshot& s, const std::string&) {
  return s.name.empty() ? std::string("bridge") : "bridge " + s.name;
}
// The client listener's acceptor is "acceptor"; a STOMP listener's names its listener.
std::string head(const actors::acceptor_snapshot& s, const std::string&) {
  return s.listener.empty() || s.listener == "client" ? std::string("acceptor")
                                                      : "acceptor " + s.listener;
}
template <class Snapshot> std::string head(const Snapshot&, const std::string&) {
  return Snapshot::kind;
}

// One actor of the snapshot, as the tool shows and finds it.
struct shown_entry {
  std::string path;  // "store", "queues.15"
  std::string key;   // the last part of the path ("15": an actor id)
  std::string kind;  // "unanswered" without an answer
  std::string name;  // "" if the actor has none
  std::string alias; // "session N" for a session
  std::string actor_id;
  std::string title;
  std::string summary;
  actors::snapshot_fields fields;
};

template <class Snapshot>
shown_entry show(const actors::snapshot_entry<Snapshot>& e, const std::string& section,
                 const std::string& key) {
  shown_entry out;
  out.path = section == key ? key : section + "." + key;
  out.key = key;
  out.fields = actors::fields_of(e);
  out.actor_id = std::to_string(num(e.actor_id));
  std::string mailbox;
  if (e.answer) {
    out.kind = std::get<std::string>(out.fields["kind"]);
    if (auto n = out.fields.find("name"); n != out.fields.end())
      out.name = std::get<std::string>(n->second);
    if constexpr (std::is_same_v<Snapshot, actors::session_snapshot>)
      out.alias = "session " + std::to_string(num(e.answer->id));
    if constexpr (std::is_same_v<Snapshot, actors::acceptor_snapshot>)
      out.alias = head(*e.answer, key); // "acceptor stomp"
    out.summary = summary(*e.answer);
    mailbox = ", mailbox " + std::to_string(num(e.answer->mailbox));
    out.title = head(*e.answer, key);
  } else {
    out.kind = "unanswered";
    out.summary = "NOT ANSWERING within the inspector's timeout (" + e.error + ")";
    out.title = key;
  }
  out.title += " (actor " + out.actor_id + mailbox + ")";
  return out;
}

// The snapshot's actors: the single parts by name, the groups by section.
struct shown_tree {
  std::map<std::string, shown_entry> parts;
  std::map<std::string, std::vector<shown_entry>> groups;
};

template <class Snapshot>
void show_part(shown_tree& out, const std::optional<actors::snapshot_entry<Snapshot>>& part,
               const std::string& name) {
  if (part)
    out.parts.emplace(name, show(*part, name, name));
}

template <class Snapshot>
void show_group(shown_tree& out,
                const std::map<std::string, actors::snapshot_entry<Snapshot>>& group,
                const std::string& section) {
  if (group.empty())
    return;
  for (auto& [key, entry] : group) {
    // Topics answer with queue snapshots; they are shown in a section of their own.
    auto shown = show(entry, section, key);
    auto where = shown.kind == "topic" ? std::string("topics") : section;
    if (where != section)
      shown.path = where + "." + key;
    out.groups[where].push_back(std::move(shown));
  }
}

shown_tree show(const actors::inspector_snapshot& t) {
  shown_tree out;
  show_part(out, t.node, "node");
  show_part(out, t.lock_holder, "lock_holder");
  show_part(out, t.store, "store");
  show_part(out, t.broker, "broker");
  show_part(out, t.acceptor, "acceptor");
  show_group(out, t.queues, "queues");
  show_group(out, t.sessions, "sessions");
  show_group(out, t.bridges, "bridges");
  show_group(out, t.acceptors, "acceptors");
  return out;
}

void print_group(std::ostream& out, const shown_tree& tree, const char* key, const char* label,
                 bool last, const char* when_empty) {
  const char* branch = last ? "`-- " : "|-- ";
  const char* pad = last ? "    " : "|   ";
  auto group = tree.groups.find(key);
  if (group == tree.groups.end() || group->second.empty()) {
    out << branch << label << ": " << when_empty << "\n";
    return;
  }
  auto& list = group->second;
  out << branch << label << " (" << list.size() << ")\n";
  for (size_t i = 0; i < list.size(); ++i)
    out << pad << (i + 1 == list.size() ? "`-- " : "|-- ") << list[i].title << "  "
        << list[i].summary << "\n";
}

void print_tree(std::ostream& out, const actors::inspector_snapshot& snapshot,
                const std::string& where) {
  auto tree = show(snapshot);
  auto node = tree.parts.find("node");
  if (node != tree.parts.end())
    out << node->second.title << " at " << where << "  " << node->second.summary << "\n";
  else
    out << "node (no snapshot) at " << where << "  \n";
  const char* parts[] = {"lock_holder", "store", "broker", "acceptor"};
  for (auto part : parts) {
    auto p = tree.parts.find(part);
    out << "|-- "
        << (p != tree.parts.end() ? p->second.title + "  " + p->second.summary
                                  : std::string(part) + ": absent")
        << "\n";
  }
  print_group(out, tree, "acceptors", "stomp acceptors", false, "no stomp or ws listener");
  print_group(out, tree, "queues", "queues", false, "none");
  print_group(out, tree, "topics", "topics", false, "none");
  print_group(out, tree, "sessions", "sessions", false, "no client connections");
  print_group(out, tree, "bridges", "bridges", true, "no network connectors");
  out << "(mailbox: the messages waiting in each actor's mailbox when it answered)\n";
}

// Every field of an entry, one a line, sorted by name.
void print_details(std::ostream& out, const actors::snapshot_fields& fields, int indent) {
  for (auto& [k, v] : fields) {
    out << std::string(static_cast<size_t>(indent), ' ') << k << ":";
    if (auto text = std::get_if<std::string>(&v)) {
      out << " " << *text << "\n";
      continue;
    }
    // A number or a flag as CAF writes a configuration value.
    auto value = std::visit([](auto x) { return caf::config_value{x}; }, v);
    out << " " << caf::to_string(value) << "\n";
  }
}

// Every entry of the snapshot matching NAME: a section key ("store", "queues.15"), a kind, a
// name ("queue://q" or "q"), an actor id, or "session N".
std::vector<shown_entry> find(const actors::inspector_snapshot& snapshot, const std::string& name) {
  auto matches = [&](const shown_entry& e) {
    const auto& n = e.name;
    return name == e.path || name == e.key || name == e.kind || (!n.empty() && name == n) ||
           (!n.empty() && n == "queue://" + name) || name == e.actor_id ||
           (!e.alias.empty() && name == e.alias);
  };
  auto tree = show(snapshot);
  // In the order of the sections' names, as before the snapshot had types.
  std::map<std::string, std::vector<shown_entry>> sections;
  for (auto& [part, e] : tree.parts)
    sections[part].push_back(e);
  for (auto& [section, list] : tree.groups)
    sections[section] = list;
  std::vector<shown_entry> out;
  for (auto& [section, list] : sections)
    for (auto& e : list)
      if (matches(e))
        out.push_back(e);
  return out;
}

// ---- talking to the node ------------------------------------------------------------------------

struct target {
  std::string host;
  uint16_t port = 0;
  std::string text() const { return host + ":" + std::to_string(port); }
};

std::optional<target> parse_target(const std::string& text) {
  auto colon = text.rfind(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 == text.size())
    return std::nullopt;
  std::string host = text.substr(0, colon);
  if (host.size() > 2 && host.front() == '[' && host.back() == ']')
    host = host.substr(1, host.size() - 2);
  char* end = nullptr;
  unsigned long port = std::strtoul(text.c_str() + colon + 1, &end, 10);
  if (*end != '\0' || port == 0 || port > 65535)
    return std::nullopt;
  return target{host, static_cast<uint16_t>(port)};
}

class session {
public:
  session(caf::actor_system& sys, target t, std::chrono::milliseconds timeout)
      : sys_(sys), target_(std::move(t)), timeout_(timeout) {}

  // Connects and shakes hands; prints why not and returns an exit code on failure.
  int connect() {
    // The middleman's connect request rather than remote_actor<front_door_actor>: remote_actor
    // compares the whole published interface, which changes as the front door grows (and names
    // message types this tool never sends); the tool needs only hello and snapshot.
    caf::strong_actor_ptr door;
    std::set<std::string> interface;
    caf::error failed;
    {
      caf::scoped_actor self{sys_};
      self->request(sys_.middleman().actor_handle(), timeout_, caf::connect_atom::value,
                    target_.host, target_.port)
          .receive(
              [&](const caf::node_id&, caf::strong_actor_ptr& ptr, std::set<std::string>& ifs) {
                door = std::move(ptr);
                interface = std::move(ifs);
              },
              [&](caf::error& err) { failed = std::move(err); });
    }
    if (failed || !door) {
      std::cerr << "actormq-debug: the node at " << target_.text() << " is not reachable: "
                << (failed ? sys_.render(failed) : std::string("no actor published there")) << "\n"
                << "  Nothing answers as a node's front door on that port. A standby node (one "
                   "that waits for the store's lock) opens no port until it becomes master, so "
                   "this is expected for a standby; otherwise check that the node runs and that "
                   "this is its cluster port (cluster.port, "
                << config::default_cluster_port
                << " by default), not its client "
                   "or console port.\n";
      return exit_unreachable;
    }
    const bool has_snapshot =
        std::any_of(interface.begin(), interface.end(), [](const std::string& sig) {
          return sig.find("<snapshot>") != std::string::npos;
        });
    const bool has_hello =
        std::any_of(interface.begin(), interface.end(), [](const std::string& sig) {
          return sig.find("<hello,") != std::string::npos;
        });
    if (!has_snapshot || !has_hello) {
      std::cerr << "actormq-debug: " << target_.text()
                << " answers as a CAF node, but what it publishes is not an ActorMQ front door "
                   "(no hello and snapshot in its interface; another program or version?)\n";
      return exit_no_snapshot;
    }
    door_ = caf::actor_cast<actors::front_door_actor>(std::move(door));
    caf::scoped_actor self{sys_};
    int rc = exit_ok;
    self->request(door_, timeout_, actors::hello_atom::value, actors::cluster_protocol_version)
        .receive(
            [&](std::string& name, uint32_t version, std::string& store_id) {
              node_name_ = name;
              store_id_ = store_id;
              (void)version;
            },
            [&](caf::error& err) {
              std::cerr << "actormq-debug: the node at " << target_.text()
                        << " refused the handshake: " << sys_.render(err) << "\n";
              rc = exit_no_snapshot;
            });
    return rc;
  }

  std::optional<actors::inspector_snapshot> snapshot(std::string& why) {
    caf::scoped_actor self{sys_};
    std::optional<actors::inspector_snapshot> out;
    self->request(door_, timeout_, actors::snapshot_atom::value)
        .receive([&](actors::inspector_snapshot& s) { out = std::move(s); },
                 [&](caf::error& err) { why = sys_.render(err); });
    return out;
  }

  const std::string& node_name() const { return node_name_; }
  const std::string& store_id() const { return store_id_; }
  const target& where() const { return target_; }

private:
  caf::actor_system& sys_;
  target target_;
  std::chrono::milliseconds timeout_;
  actors::front_door_actor door_;
  std::string node_name_;
  std::string store_id_;
};

void configure(caf::actor_system_config& cfg) {
  cfg.load<caf::io::middleman>();
  cfg.set("logger.console", caf::atom("none"));
  cfg.set("scheduler.max-threads", size_t{2});
  // The node drops a silent BASP connection after its connection timeout: keep talking.
  cfg.set("middleman.heartbeat-interval", caf::timespan{500ms});
  // The same message types as actormq-node.
  actors::register_message_types(cfg);
}

} // namespace

int main(int argc, char** argv) {
  CLI::App app{"actormq-debug: shows the actors of a running node and their state, through the "
               "node's front door (its cluster port)"};
  std::string node_text = config::default_cluster_address();
  uint32_t timeout_ms = 10000;
  app.add_option("--node", node_text, "HOST:PORT of the node's cluster port")
      ->capture_default_str();
  app.add_option("--timeout", timeout_ms, "milliseconds to wait for the node's answers")
      ->capture_default_str();
  app.require_subcommand(1);
  app.add_subcommand("actors", "print every actor of the node as a tree, with its state");
  auto* show = app.add_subcommand("show", "print one actor in detail");
  std::string show_name;
  show->add_option("NAME", show_name,
                   "store, broker, acceptor, node, a queue (queue://q or q), an actor id, "
                   "'session N', or a section key such as queues.15")
      ->required();
  auto* watch = app.add_subcommand("watch", "refresh the tree until Ctrl-C");
  uint32_t interval_ms = 1000;
  uint32_t count = 0;
  watch->add_option("--interval", interval_ms, "milliseconds between refreshes")
      ->capture_default_str()
      ->check(CLI::Range(100u, 3600000u));
  watch->add_option("--count", count, "stop after N refreshes (0: until Ctrl-C)")
      ->capture_default_str();
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    auto rc = app.exit(e);
    return rc == 0 ? exit_ok : exit_usage;
  }
  auto where = parse_target(node_text);
  if (!where) {
    std::cerr << "actormq-debug: --node " << node_text << ": expected HOST:PORT, such as "
              << config::default_cluster_address() << "\n";
    return exit_usage;
  }

  caf::actor_system_config cfg;
  configure(cfg);
  caf::actor_system sys{cfg};
  session s{sys, *where, std::chrono::milliseconds(timeout_ms)};
  if (auto rc = s.connect(); rc != exit_ok)
    return rc;

  std::string why;
  if (show->parsed()) {
    auto tree = s.snapshot(why);
    if (!tree) {
      std::cerr << "actormq-debug: no snapshot from " << where->text() << ": " << why << "\n";
      return exit_no_snapshot;
    }
    auto found = find(*tree, show_name);
    if (found.empty()) {
      std::cerr << "actormq-debug: node " << s.node_name() << " has no actor matching " << show_name
                << " (try `actors` for the list)\n";
      return exit_not_found;
    }
    for (auto& entry : found) {
      std::cout << entry.title << "  [" << entry.path << "]\n";
      print_details(std::cout, entry.fields, 2);
    }
    return exit_ok;
  }
  if (watch->parsed()) {
    std::signal(SIGINT, on_signal);
    std::signal(SIGTERM, on_signal);
    for (uint32_t round = 1; !interrupted; ++round) {
      auto tree = s.snapshot(why);
      std::ostringstream frame;
      frame << "\033[H\033[2J"; // home, clear screen
      auto now = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
      char stamp[32];
      std::strftime(stamp, sizeof stamp, "%H:%M:%S", std::localtime(&now));
      frame << "actormq-debug watch " << where->text() << "  every " << interval_ms << " ms  "
            << stamp << "  (Ctrl-C to stop)\n\n";
      if (tree)
        print_tree(frame, *tree, where->text());
      else
        frame << "no snapshot: " << why << " (the node may have stopped)\n";
      std::cout << frame.str() << std::flush;
      if (!tree)
        return exit_no_snapshot;
      if (count != 0 && round >= count)
        break;
      auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(interval_ms);
      while (!interrupted && std::chrono::steady_clock::now() < until)
        std::this_thread::sleep_for(20ms);
    }
    return exit_ok;
  }
  auto tree = s.snapshot(why);
  if (!tree) {
    std::cerr << "actormq-debug: no snapshot from " << where->text() << ": " << why << "\n";
    return exit_no_snapshot;
  }
  print_tree(std::cout, *tree, where->text());
  return exit_ok;
}
