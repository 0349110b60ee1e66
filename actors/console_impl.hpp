// The console's state and the parts of its work that the console_*.cpp files share. Only these
// files include it; console.hpp is the console's interface to the node.
//
// The files, one job each:
//   console.cpp                 start (configuration, credentials, binding) and stop
//   console_server.cpp          the HTTP server: a thread per connection, limits and timeouts
//   console_routes.cpp          the routes, default headers, error and exception answers
//   console_access.cpp          the checks before routing: credentials, Host, method, length,
//                               and the Content-Type and Origin of actions
//   console_responses.cpp       JSON answers and errors; actor errors as HTTP statuses
//   console_actor_requests.cpp  blocking requests to the inspector and the broker, with timeouts
//   console_node_api.cpp        /api/overview, connections, bridges, actors and /health
//   console_queue_api.cpp       /api/queues, one queue, and browsing its messages
//   console_queue_actions.cpp   send, purge and delete
//   console_topic_api.cpp       /api/topics and the unsubscribe action
//   console_history.cpp         the sampler of every destination's counters, and
//                               /api/queues/NAME/history that the charts draw
//   console_scheduled.cpp       /api/scheduled: list and cancel scheduled messages
//   console_metrics.cpp         /metrics in Prometheus's text format
//   console_json.cpp            answers written and request bodies read with nlohmann::json
//   console_snapshot.cpp        the inspector's snapshot (actors/snapshot.hpp) as JSON
#pragma once

#include "actors/console.hpp"
#include "actors/console_json.hpp"
#include "actors/console_server.hpp"
#include "actors/destination_history.hpp"

#include <caf/error.hpp>
#include <httplib.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <utility>
#include <variant>
#include <vector>

namespace actormq::actors {

namespace console_detail {

constexpr auto action_timeout = std::chrono::seconds(10); // send, purge, browse
constexpr size_t max_body_bytes = 1 << 20;                // request bodies

struct http_error {
  int status;
  std::string message;
};

} // namespace console_detail

struct console::impl {
  using http_error = console_detail::http_error;

  caf::actor_system& system;
  inspector_actor inspector;
  broker_actor broker;
  scheduler_actor scheduler; // null without scheduler_support
  std::string node_name;
  std::string host;
  uint16_t port = 0;
  bool auth_required = false;
  std::string user;
  std::string password;
  std::vector<std::pair<std::string, std::string>> connectors; // configured: name, uri
  std::set<std::string> read_paths;                            // fixed GET routes
  std::string producer_id;
  std::atomic<uint64_t> producer_sequence{0};
  console_server server;
  std::thread thread;
  // The charts' samples: 60 a destination (5 minutes at the default interval).
  destination_history history{60, 1000};
  std::chrono::milliseconds history_interval{5000};
  std::thread sampler;
  std::mutex sampler_mutex;
  std::condition_variable sampler_wake;
  bool sampler_stopping = false;

  impl(caf::actor_system& sys, inspector_actor i, broker_actor b, console_connection_limits limits)
      : system(sys), inspector(std::move(i)), broker(std::move(b)), server(limits) {}

  // -- talking to the actors (console_actor_requests.cpp)

  std::optional<inspector_snapshot> tree(std::string& why);
  std::optional<destination_stats_list> stats(std::string& why);
  // The canonical name of an existing queue, or an error (400 bad name, 404 unknown, 503).
  std::variant<std::string, http_error> existing_queue(const std::string& raw);
  std::variant<queue_actor, http_error> queue_handle(const std::string& name);
  // An existing queue's canonical name and actor, or an error (as existing_queue, queue_handle).
  struct named_queue {
    std::string name;
    queue_actor actor;
  };
  std::variant<named_queue, http_error> existing_queue_actor(const std::string& raw);

  // -- responses (console_responses.cpp)

  static http_error status_of(const caf::error& err);
  static void set_json(httplib::Response& res, int status, std::string body);
  static void set_error(httplib::Response& res, int status, const std::string& message);
  static void set_error(httplib::Response& res, const http_error& e);

  // -- request checks (console_access.cpp)

  // Basic auth (when required) and, without it, the Host header (a page of another site that
  // resolves its own name to 127.0.0.1 must not read the console: DNS rebinding).
  bool admitted(const httplib::Request& req, httplib::Response& res);
  // The methods a path takes: "POST" for the actions, "GET, HEAD" for pages and reads, "" for
  // no such path. (Actions first: GET /api/queues/NAME/purge is an action asked with GET.)
  std::string allowed_methods(const std::string& path) const;
  // Whether the request's method suits its path: otherwise 405 with Allow (404 for a write to
  // no such path). A POST must say its body's length up front (411 otherwise; a body "until the
  // connection closes" would hold the connection until the request timeout), at most 1 MiB.
  bool method_allowed(const httplib::Request& req, httplib::Response& res);
  // State-changing requests carry JSON (or nothing) and no foreign Origin: a page of another
  // site cannot send them with a plain form.
  bool action_allowed(const httplib::Request& req, httplib::Response& res);

  // -- routes (console_routes.cpp)

  // A GET route at a fixed path; method_allowed() knows it as read-only.
  void read_route(const char* path, httplib::Server::Handler handler);
  void routes();

  // -- handlers: the node (console_node_api.cpp)

  void overview(httplib::Response& res);
  void connections(httplib::Response& res);
  void bridges(httplib::Response& res);
  void actors(httplib::Response& res);
  void health(httplib::Response& res);

  // -- handlers: queues (console_queue_api.cpp, console_queue_actions.cpp)

  // A destination's statistics as /api/queues answers them (topics and subscriptions too).
  static console_detail::json stats_json(const destination_stats& s);
  void queues(httplib::Response& res);
  void queue(const std::string& raw, httplib::Response& res);
  void browse(const std::string& raw, const httplib::Request& req, httplib::Response& res);
  void send(const std::string& raw, const httplib::Request& req, httplib::Response& res);
  // An action answered with a count (purge, delete), or the HTTP error its failure maps to.
  template <class Handle, class... Ts>
  std::variant<uint64_t, http_error> ask_count(const Handle& target, Ts&&... xs);
  // Answers {"queue": QUEUE, WHAT: n} (and logs it), or the error.
  static void answer_count(httplib::Response& res, const std::string& queue, const char* what,
                           const std::variant<uint64_t, http_error>& n);
  void purge(const std::string& raw, httplib::Response& res);
  void remove(const std::string& raw, httplib::Response& res);
  // Moves up to {"max": N} (default 1000) messages of a dead-letter queue back to their
  // original destinations; answers how many moved.
  void retry(const std::string& raw, const httplib::Request& req, httplib::Response& res);

  // -- topics (console_topic_api.cpp)

  void topics(httplib::Response& res);
  void unsubscribe(const httplib::Request& req, httplib::Response& res);

  // -- the charts' samples (console_history.cpp)

  void start_sampling();
  void stop_sampling();
  void history_of(const std::string& raw, httplib::Response& res);

  // -- scheduled messages (console_scheduled.cpp)

  void scheduled(httplib::Response& res);
  void cancel_scheduled(const std::string& raw, httplib::Response& res);

  // -- /metrics (console_metrics.cpp)

  void metrics(httplib::Response& res);
};

} // namespace actormq::actors
