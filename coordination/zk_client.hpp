// A ZooKeeper session (Debian's C client, libzookeeper-mt) behind a plain C++ class, so that
// zookeeper.h stays out of every translation unit that includes CAF. The calls are synchronous:
// call them from a thread that may block (a detached actor), never from `on_event`, which runs on
// the client's own completion thread and must only hand the event on (e.g. as a message).
#pragma once

#include "common/result.hpp"

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace actormq::coordination {

// What the client's watcher reports.
struct zk_event {
  enum kind_t {
    connected,    // the session is (again) connected
    connecting,   // the connection was lost; the client tries the servers again
    expired,      // the session is gone: its ephemeral znodes too (a new session is needed)
    auth_failed,  // the servers refused the session
    children,     // the children of `path` changed (a watch set by children())
    node_changed, // `path` was created, changed or deleted (a watch set by exists())
  };
  kind_t kind = connecting;
  std::string path;
};

struct zk_child {
  std::string name; // the znode's name under the parent (no '/')
  std::string data;
};

class zk_client {
public:
  using event_handler = std::function<void(const zk_event&)>;

  // Starts a session with `servers` ("host:port[,host:port...]") asking for
  // `session_timeout_ms`; `on_event` gets the session's and the watches' events (the first,
  // `connected`, once a server accepted it). Errors: io_error (the client could not start).
  static result<std::unique_ptr<zk_client>> start(const std::string& servers,
                                                  int session_timeout_ms, event_handler on_event);
  ~zk_client(); // closes the session: its ephemeral znodes go at once
  zk_client(const zk_client&) = delete;
  zk_client& operator=(const zk_client&) = delete;

  // The session timeout the server granted (0 before the session is connected).
  int session_timeout_ms() const;

  // Creates `path` and its missing parents (persistent, empty). Errors: io_error.
  result<void> ensure_path(const std::string& path);
  // Creates an ephemeral sequential znode `prefix`NNNNNNNNNN holding `data`; returns its path.
  // Errors: io_error.
  result<std::string> create_sequential(const std::string& prefix, const std::string& data);
  // Creates the ephemeral znode `path` holding `data`; returns the ZooKeeper transaction id that
  // created it (czxid: every later creation has a higher one). Errors: file_exists (it exists),
  // io_error.
  result<int64_t> create_ephemeral(const std::string& path, const std::string& data);
  // The children of `path` with their data, by name, leaving a watch that reports a change as
  // `children` once. A child deleted meanwhile is left out. Errors: io_error.
  result<std::vector<zk_child>> children(const std::string& path);
  // The data of `path` (nullopt if it does not exist), leaving a watch that reports its creation,
  // change or deletion as `node_changed` once. Errors: io_error.
  result<std::optional<std::string>> watch_node(const std::string& path);

  struct impl;

private:
  explicit zk_client(std::unique_ptr<impl> p);
  std::unique_ptr<impl> impl_;
};

} // namespace actormq::coordination
