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
#include "actors/messages.hpp"

#include <CLI/CLI.hpp>
#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/io/middleman.hpp>
#include <caf/scoped_actor.hpp>

#include <algorithm>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <iostream>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <thread>
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

int64_t num(const caf::settings& s, caf::string_view key) {
  return caf::get_or(s, key, int64_t{0});
}

double real(const caf::settings& s, caf::string_view key) {
  if (auto v = caf::get_if<double>(&s, key))
    return *v;
  return static_cast<double>(num(s, key));
}

std::string str(const caf::settings& s, caf::string_view key) {
  return caf::get_or(s, key, std::string{});
}

const caf::settings* dict(const caf::settings& s, caf::string_view key) {
  auto v = caf::get_if(&s, key);
  return v ? caf::get_if<caf::settings>(&v->get_data()) : nullptr;
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

std::string duration(int64_t ms) {
  int64_t s = ms / 1000;
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

// The actor id of an entry: "actor-id" when the inspector put it there, else the key of a
// queue, session or bridge entry (the inspector keys those by actor id).
std::string actor_id(const caf::settings& s, const std::string& key) {
  if (auto id = caf::get_if<int64_t>(&s, "actor-id"))
    return std::to_string(*id);
  if (!key.empty() && std::all_of(key.begin(), key.end(), ::isdigit))
    return key;
  return "?";
}

bool unanswered(const caf::settings& s) {
  return str(s, "kind") == "unanswered";
}

std::string stuck_text(const caf::settings& s) {
  return "NOT ANSWERING within the inspector's timeout (" + str(s, "error") + ")";
}

// One line of state per kind of actor.
std::string summary(const caf::settings& s) {
  if (unanswered(s))
    return stuck_text(s);
  auto kind = str(s, "kind");
  std::ostringstream o;
  if (kind == "node") {
    o << "role " << str(s, "role") << ", lock "
      << (str(s, "role") == "master" ? "held by this node" : "not held") << ", up "
      << duration(num(s, "uptime-ms")) << ", client port " << num(s, "client-port")
      << ", cluster port " << num(s, "cluster-port");
  } else if (kind == "lock_holder") {
    o << "lock " << str(s, "lock-file") << " held by node " << str(s, "holder") << " (pid "
      << num(s, "pid") << ") for " << duration(num(s, "held-ms")) << ", after waiting "
      << num(s, "waited-ms") << " ms";
  } else if (kind == "store") {
    auto map = real(s, "map-size");
    auto used = real(s, "used-bytes");
    o << "map " << bytes(used) << " used of " << bytes(map) << " ("
      << fixed(map > 0 ? 100 * used / map : 0, 1) << " %), commits " << num(s, "commits")
      << ", operations " << num(s, "operations") << ", batch last " << num(s, "last-batch")
      << " / max " << num(s, "max-batch") << " / mean " << fixed(real(s, "mean-batch"), 1)
      << ", last commit " << fixed(real(s, "last-commit-ms"), 2) << " ms, readers "
      << num(s, "readers") << ", waiting operations " << num(s, "waiting-operations")
      << ", failed commits " << num(s, "failed-commits");
    o << ", open readers " << num(s, "open-readers");
    if (caf::get_if(&s, "oldest-reader-pid"))
      o << ", oldest reader pid " << num(s, "oldest-reader-pid") << " at transaction "
        << num(s, "oldest-reader-txn") << " (" << num(s, "oldest-reader-lag") << " commits behind)";
    else
      o << ", oldest reader none";
  } else if (kind == "broker") {
    o << "destinations " << num(s, "destinations");
  } else if (kind == "acceptor") {
    o << "port " << num(s, "port") << ", sessions " << num(s, "sessions") << ", accepted "
      << num(s, "accepted") << ", refused " << num(s, "refused");
  } else if (kind == "queue") {
    o << "pending " << num(s, "pending") << ", in-flight " << num(s, "in-flight") << ", consumers "
      << num(s, "consumers") << ", enqueued " << num(s, "enqueued") << ", dequeued "
      << num(s, "dequeued") << ", duplicates dropped " << num(s, "duplicates-dropped")
      << ", memory " << bytes(real(s, "memory-bytes"));
    if (num(s, "held-sends") > 0)
      o << ", held sends " << num(s, "held-sends") << " (flow control)";
  } else if (kind == "session") {
    o << "client " << str(s, "peer") << ", id " << num(s, "id") << ", client-id "
      << (str(s, "client-id").empty() ? "-" : str(s, "client-id")) << ", consumers "
      << num(s, "consumers");
    if (caf::get_if(&s, "producers"))
      o << ", producers " << num(s, "producers");
    o << ", messages in " << num(s, "messages-in") << ", deliveries out "
      << num(s, "deliveries-out") << ", acks in " << num(s, "acks-in");
    if (caf::get_or(s, "reading-halted", false))
      o << ", reading halted (flow control)";
  } else if (kind == "bridge") {
    o << "peer " << (str(s, "peer").empty() ? "-" : str(s, "peer")) << " at "
      << str(s, "peer-address") << ", state " << str(s, "state") << ", forwarded "
      << num(s, "forwarded") << ", acknowledged " << num(s, "acknowledged") << ", in transfer "
      << num(s, "in-transfer") << ", resent " << num(s, "resent") << ", destinations "
      << num(s, "destinations") << ", connects " << num(s, "connects");
    if (!str(s, "last-error").empty())
      o << ", last error: " << str(s, "last-error");
  } else {
    // Anything else: every scalar it reports.
    bool first = true;
    for (auto& [k, v] : s) {
      if (k == "kind" || k == "actor-id" || k == "name" || k == "mailbox" ||
          caf::get_if<caf::settings>(&v.get_data()) != nullptr)
        continue;
      o << (first ? "" : ", ") << k << " " << caf::to_string(v);
      first = false;
    }
  }
  return o.str();
}

std::string title(const caf::settings& s, const std::string& key) {
  std::string kind = str(s, "kind");
  std::string name = str(s, "name");
  std::string head;
  if (kind == "queue" || kind == "topic")
    head = name.empty() ? key : name;
  else if (kind == "session")
    head = "session " + std::to_string(num(s, "id"));
  else if (kind == "unanswered" || kind.empty())
    head = key;
  else if (kind == "node")
    head = "node " + name;
  else if (kind == "lock_holder")
    head = "lock holder";
  else
    head = name.empty() ? kind : kind + " " + name;
  std::string mailbox;
  if (auto n = caf::get_if<int64_t>(&s, "mailbox"))
    mailbox = ", mailbox " + std::to_string(*n);
  return head + " (actor " + actor_id(s, key) + mailbox + ")";
}

void print_group(std::ostream& out, const caf::settings& tree, const char* key, const char* label,
                 bool last, const char* when_empty) {
  const char* branch = last ? "`-- " : "|-- ";
  const char* pad = last ? "    " : "|   ";
  auto group = dict(tree, key);
  if (!group || group->empty()) {
    out << branch << label << ": " << when_empty << "\n";
    return;
  }
  out << branch << label << " (" << group->size() << ")\n";
  size_t i = 0;
  for (auto& [k, v] : *group) {
    ++i;
    auto s = caf::get_if<caf::settings>(&v.get_data());
    if (!s)
      continue;
    out << pad << (i == group->size() ? "`-- " : "|-- ") << title(*s, k) << "  " << summary(*s)
        << "\n";
  }
}

void print_tree(std::ostream& out, const caf::settings& tree, const std::string& where) {
  const caf::settings empty;
  auto node = dict(tree, "node");
  out << (node ? title(*node, "node") : "node (no snapshot)") << " at " << where << "  "
      << (node ? summary(*node) : "") << "\n";
  const char* parts[] = {"lock_holder", "store", "broker", "acceptor"};
  for (auto part : parts) {
    auto s = dict(tree, part);
    out << "|-- " << (s ? title(*s, part) + "  " + summary(*s) : std::string(part) + ": absent")
        << "\n";
  }
  print_group(out, tree, "queues", "queues", false, "none");
  print_group(out, tree, "topics", "topics", false, "none");
  print_group(out, tree, "sessions", "sessions", false, "no client connections");
  print_group(out, tree, "bridges", "bridges", true, "no network connectors");
  out << "(mailbox: the messages waiting in each actor's mailbox when it answered)\n";
}

void print_details(std::ostream& out, const caf::settings& s, int indent) {
  for (auto& [k, v] : s) {
    out << std::string(static_cast<size_t>(indent), ' ') << k << ":";
    if (auto d = caf::get_if<caf::settings>(&v.get_data())) {
      out << "\n";
      print_details(out, *d, indent + 2);
    } else if (auto text = caf::get_if<std::string>(&v.get_data())) {
      out << " " << *text << "\n";
    } else {
      out << " " << caf::to_string(v) << "\n";
    }
  }
}

// Every entry of the tree matching NAME: a section key ("store", "queues.15"), a kind, a name
// ("queue://q" or "q"), an actor id, or "session N".
std::vector<std::pair<std::string, const caf::settings*>> find(const caf::settings& tree,
                                                               const std::string& name) {
  std::vector<std::pair<std::string, const caf::settings*>> out;
  auto matches = [&](const std::string& path, const std::string& key, const caf::settings& s) {
    auto n = str(s, "name");
    return name == path || name == key || name == str(s, "kind") || (!n.empty() && name == n) ||
           (!n.empty() && n == "queue://" + name) || name == actor_id(s, key) ||
           (str(s, "kind") == "session" && name == "session " + std::to_string(num(s, "id")));
  };
  for (auto& [k, v] : tree) {
    auto s = caf::get_if<caf::settings>(&v.get_data());
    if (!s)
      continue;
    if (caf::get_if(s, "kind")) {
      if (matches(k, k, *s))
        out.emplace_back(k, s);
      continue;
    }
    for (auto& [k2, v2] : *s) { // a group: queues, sessions, bridges
      auto s2 = caf::get_if<caf::settings>(&v2.get_data());
      if (s2 && matches(k + "." + k2, k2, *s2))
        out.emplace_back(k + "." + k2, s2);
    }
  }
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
                   "this is its cluster port (cluster.port, 62616 by default), not its client "
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

  std::optional<caf::settings> snapshot(std::string& why) {
    caf::scoped_actor self{sys_};
    std::optional<caf::settings> out;
    self->request(door_, timeout_, actors::snapshot_atom::value)
        .receive([&](caf::settings& s) { out = std::move(s); },
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
  // The same message types as actormq-node (tools/actormq_node.cpp); caf::settings needs none.
  cfg.add_message_type<actors::incoming_message>("actormq.incoming_message");
  cfg.add_message_type<protocol::destination>("actormq.destination");
  cfg.add_message_type<actors::send_result>("actormq.send_result");
  cfg.add_message_type<actors::subscription>("actormq.subscription");
  cfg.add_message_type<actors::delivery>("actormq.delivery");
  cfg.add_message_type<actors::destination_stats>("actormq.destination_stats");
  cfg.add_message_type<actors::destination_stats_list>("actormq.destination_stats_list");
  cfg.add_message_type<actors::delivery_list>("actormq.delivery_list");
  cfg.add_message_type<actors::key_list>("actormq.key_list");
}

} // namespace

int main(int argc, char** argv) {
  CLI::App app{"actormq-debug: shows the actors of a running node and their state, through the "
               "node's front door (its cluster port)"};
  std::string node_text = "127.0.0.1:62616";
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
    std::cerr << "actormq-debug: --node " << node_text
              << ": expected HOST:PORT, such as 127.0.0.1:62616\n";
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
    for (auto& [path, entry] : found) {
      std::cout << title(*entry, path.substr(path.rfind('.') + 1)) << "  [" << path << "]\n";
      print_details(std::cout, *entry, 2);
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
