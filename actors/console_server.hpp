// The console's HTTP server: cpp-httplib's request parsing and routing, with connection handling
// of our own. httplib 0.11.4 serves connections from a fixed pool of threads and only times out
// each read, so a few clients that send half a request (or nothing) hold every worker and stall
// the console for everyone. Here every connection has its own thread, up to a cap (beyond it a
// client gets 503 at once), and a request's head and body must arrive within one deadline.
#pragma once

#include "config/defaults.hpp"

#include <httplib.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <list>
#include <mutex>
#include <set>
#include <thread>

namespace actormq::actors {

struct console_connection_limits {
  // Open at once; beyond, 503 and close.
  size_t max_connections = config::default_console_max_connections;
  // A request's head and body must arrive within this time: measured from the connection's
  // opening for its first request, from the first byte for each later one.
  std::chrono::milliseconds request_timeout{config::default_console_request_timeout_ms};
  std::chrono::milliseconds keep_alive_timeout{2000}; // idle time between requests
  std::chrono::milliseconds write_timeout{10000};     // each write of an answer
  size_t max_requests_per_connection = 100;
};

class console_server : public httplib::Server {
public:
  explicit console_server(console_connection_limits limits);
  ~console_server() override;

  // bind_to_port() with room for a burst of connections: httplib listens with a backlog of 5,
  // and the kernel drops the connection attempts beyond it (the clients retry after a second).
  bool open(const std::string& host, int port);

  // Stops accepting, ends every open connection and lets listen_after_bind() return (which
  // joins the connection threads). Call before destroying the server.
  void halt();

  const console_connection_limits& limits() const { return limits_; }

  // For handlers, on the thread of the connection whose request they answer:
  // the connection closes once this answer is written (its request may have a body that was
  // not read).
  static void close_after_response();
  // The request's head or body did not arrive within the request timeout.
  static bool request_timed_out();

private:
  // One thread per connection; at most `limit` at once (beyond, the accept loop waits).
  class connection_threads {
  public:
    explicit connection_threads(size_t limit) : limit_(limit) {}
    void run(std::function<void()> fn);
    void join_all(); // after the accept loop ended
    void wake();     // halting: run() no longer waits for a free thread

  private:
    struct worker {
      std::thread thread;
      bool done = false;
    };
    void reap(); // joins finished threads; with mutex_ held

    const size_t limit_;
    std::mutex mutex_;
    std::condition_variable changed_;
    std::list<worker> workers_;
    size_t running_ = 0;
    bool halted_ = false;
  };

  class task_queue;

  // On the accept thread, in the order clients connected: admits the connection or not.
  void accept_connection(std::function<void()> process);
  bool process_and_close_socket(socket_t sock) override;
  bool track(socket_t sock);
  void release(socket_t sock);
  // Serves the connection's requests; true when it ends with input perhaps left unread.
  bool serve(socket_t sock);
  void refuse(socket_t sock);
  void end_connections();

  const console_connection_limits limits_;
  std::atomic<bool> halting_{false};
  std::mutex connections_mutex_;
  size_t admitted_ = 0;            // admitted and not yet closed
  std::set<socket_t> connections_; // admitted and being served; shut down by halt()
  connection_threads threads_;
  std::atomic<uint64_t> refused_{0};
  std::atomic<int64_t> last_refusal_log_ms_{0};
};

} // namespace actormq::actors
