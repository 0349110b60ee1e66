// The ZooKeeper session behind zk_client (zk_client.hpp): Debian's libzookeeper-mt, whose own
// threads do the network and call the watcher.
#include "coordination/zk_client.hpp"

#include <zookeeper/zookeeper.h>

#include <cerrno>
#include <cstring>

namespace actormq::coordination {

struct zk_client::impl {
  zhandle_t* handle = nullptr;
  event_handler on_event;
};

namespace {

failure zk_failure(const std::string& call, const std::string& path, int rc) {
  auto code = rc == ZNODEEXISTS ? std::errc::file_exists : std::errc::io_error;
  return failure{std::make_error_code(code), "ZooKeeper " + call + " " + path + ": " + zerror(rc)};
}

void watcher(zhandle_t*, int type, int state, const char* path, void* context) {
  auto* d = static_cast<zk_client::impl*>(context);
  zk_event event;
  event.path = path != nullptr ? path : "";
  if (type == ZOO_SESSION_EVENT) {
    if (state == ZOO_CONNECTED_STATE)
      event.kind = zk_event::connected;
    else if (state == ZOO_EXPIRED_SESSION_STATE)
      event.kind = zk_event::expired;
    else if (state == ZOO_AUTH_FAILED_STATE)
      event.kind = zk_event::auth_failed;
    else
      event.kind = zk_event::connecting;
  } else if (type == ZOO_CHILD_EVENT) {
    event.kind = zk_event::children;
  } else if (type == ZOO_CREATED_EVENT || type == ZOO_DELETED_EVENT || type == ZOO_CHANGED_EVENT) {
    event.kind = zk_event::node_changed;
  } else {
    return; // a removed watch: nothing to report
  }
  d->on_event(event);
}

// The client logs to stderr at INFO by default (every connection attempt); only its warnings and
// errors are of use next to the node's log.
const bool quiet_client = (zoo_set_debug_level(ZOO_LOG_LEVEL_WARN), true);

} // namespace

zk_client::zk_client(std::unique_ptr<impl> p) : impl_(std::move(p)) {}

zk_client::~zk_client() {
  if (impl_->handle != nullptr)
    zookeeper_close(impl_->handle);
}

result<std::unique_ptr<zk_client>>
zk_client::start(const std::string& servers, int session_timeout_ms, event_handler on_event) {
  (void)quiet_client;
  auto d = std::make_unique<impl>();
  d->on_event = std::move(on_event);
  impl* context = d.get();
  d->handle = zookeeper_init(servers.c_str(), watcher, session_timeout_ms, nullptr, context, 0);
  if (d->handle == nullptr)
    return failure{std::make_error_code(std::errc::io_error),
                   "ZooKeeper client for " + servers +
                       " did not start: " + std::string(std::strerror(errno))};
  return std::unique_ptr<zk_client>(new zk_client(std::move(d)));
}

int zk_client::session_timeout_ms() const {
  return zoo_state(impl_->handle) == ZOO_CONNECTED_STATE ? zoo_recv_timeout(impl_->handle) : 0;
}

result<void> zk_client::ensure_path(const std::string& path) {
  for (size_t slash = 1; slash <= path.size(); ++slash) {
    if (slash != path.size() && path[slash] != '/')
      continue;
    std::string prefix = path.substr(0, slash);
    int rc =
        zoo_create(impl_->handle, prefix.c_str(), nullptr, -1, &ZOO_OPEN_ACL_UNSAFE, 0, nullptr, 0);
    if (rc != ZOK && rc != ZNODEEXISTS)
      return zk_failure("create", prefix, rc);
  }
  return {};
}

result<std::string> zk_client::create_sequential(const std::string& prefix,
                                                 const std::string& data) {
  std::string created(prefix.size() + 32, '\0');
  int rc = zoo_create(impl_->handle, prefix.c_str(), data.data(), static_cast<int>(data.size()),
                      &ZOO_OPEN_ACL_UNSAFE, ZOO_EPHEMERAL | ZOO_SEQUENCE, created.data(),
                      static_cast<int>(created.size()));
  if (rc != ZOK)
    return zk_failure("create", prefix, rc);
  created.resize(std::strlen(created.c_str()));
  return created;
}

result<int64_t> zk_client::create_ephemeral(const std::string& path, const std::string& data) {
  struct Stat stat {};
  int rc = zoo_create2(impl_->handle, path.c_str(), data.data(), static_cast<int>(data.size()),
                       &ZOO_OPEN_ACL_UNSAFE, ZOO_EPHEMERAL, nullptr, 0, &stat);
  if (rc != ZOK)
    return zk_failure("create", path, rc);
  return static_cast<int64_t>(stat.czxid);
}

result<std::vector<zk_child>> zk_client::children(const std::string& path) {
  struct String_vector names {};
  int rc = zoo_get_children(impl_->handle, path.c_str(), 1, &names);
  if (rc != ZOK)
    return zk_failure("get_children", path, rc);
  std::vector<zk_child> out;
  for (int i = 0; i < names.count; ++i) {
    zk_child child;
    child.name = names.data[i];
    std::string buffer(4096, '\0');
    int size = static_cast<int>(buffer.size());
    std::string child_path = path + "/" + child.name;
    rc = zoo_get(impl_->handle, child_path.c_str(), 0, buffer.data(), &size, nullptr);
    if (rc == ZNONODE)
      continue;
    if (rc != ZOK) {
      deallocate_String_vector(&names);
      return zk_failure("get", child_path, rc);
    }
    child.data = buffer.substr(0, size < 0 ? 0 : static_cast<size_t>(size));
    out.push_back(std::move(child));
  }
  deallocate_String_vector(&names);
  return out;
}

result<std::optional<std::string>> zk_client::watch_node(const std::string& path) {
  std::string buffer(4096, '\0');
  int size = static_cast<int>(buffer.size());
  int rc = zoo_get(impl_->handle, path.c_str(), 1, buffer.data(), &size, nullptr);
  if (rc == ZNONODE) {
    // No data to watch: an exists watch reports its creation.
    rc = zoo_exists(impl_->handle, path.c_str(), 1, nullptr);
    if (rc == ZNONODE)
      return std::optional<std::string>();
    if (rc != ZOK)
      return zk_failure("exists", path, rc);
    return watch_node(path); // created between the two calls
  }
  if (rc != ZOK)
    return zk_failure("get", path, rc);
  return std::optional<std::string>(buffer.substr(0, size < 0 ? 0 : static_cast<size_t>(size)));
}

} // namespace actormq::coordination
