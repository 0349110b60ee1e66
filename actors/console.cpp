// The web console: cpp-httplib on threads of its own (console_server: one per connection, up to
// a cap); every request it serves asks the actors through a caf::scoped_actor with a timeout
// (blocking is fine on an HTTP thread, never on a scheduler worker). docs/console.md documents
// the pages, the JSON API, /health and /metrics; console_impl.hpp lists the files that serve them.
// This file starts the console (configuration, credentials, binding) and stops it.
#include "actors/console.hpp"
#include "actors/console_impl.hpp"

#include <spdlog/spdlog.h>

#include <chrono>
#include <cstdio>
#include <random>
#include <system_error>
#include <thread>

namespace actormq::actors {

namespace {

using namespace std::chrono_literals;

bool is_loopback_default(const std::string& host) {
  return host == "127.0.0.1" || host == "localhost" || host == "::1";
}

} // namespace

using console_detail::max_body_bytes;

console::console(std::unique_ptr<impl> p) : impl_(std::move(p)) {}

console::~console() {
  if (!impl_)
    return;
  impl_->stop_sampling();
  impl_->server.halt();
  if (impl_->thread.joinable())
    impl_->thread.join();
}

uint16_t console::port() const {
  return impl_->port;
}

result<std::unique_ptr<console>> console::start(caf::actor_system& system,
                                                const config::NodeConfig& config,
                                                inspector_actor inspector, broker_actor broker,
                                                scheduler_actor scheduler) {
  console_connection_limits limits;
  limits.max_connections = config.limits().console_max_connections();
  limits.request_timeout = std::chrono::milliseconds(config.limits().console_request_timeout_ms());
  auto p = std::make_unique<impl>(system, std::move(inspector), std::move(broker), limits);
  p->scheduler = std::move(scheduler);
  p->node_name = config.name();
  p->host = config.console().host();
  const auto& auth = config.console_auth();
  p->user = auth.user();
  p->password = auth.password();
  const bool has_credentials = !p->user.empty() && !p->password.empty();
  const std::string where = p->host + ":" + std::to_string(config.console().port());
  if ((auth.has_user() || auth.has_password()) && !has_credentials)
    return failure{std::make_error_code(std::errc::invalid_argument),
                   "console_auth needs both a user and a password (the console on " + where +
                       " was not started)"};
  if (!is_loopback_default(p->host) && !has_credentials)
    return failure{std::make_error_code(std::errc::permission_denied),
                   "the console binds " + where +
                       ", which is not 127.0.0.1, localhost or ::1: set console_auth { user: "
                       "\"...\" password: \"...\" } in the configuration (every request then "
                       "needs them)"};
  p->auth_required = has_credentials;
  p->history_interval = std::chrono::milliseconds(config.limits().console_history_interval_ms());
  for (auto& c : config.network_connectors())
    p->connectors.emplace_back(c.name(), c.uri());
  std::random_device rd;
  char id[32];
  std::snprintf(id, sizeof id, "console-%08x%08x", rd(), rd());
  p->producer_id = id;

  p->server.set_payload_max_length(max_body_bytes + 1);
  p->routes();
  if (!p->server.open(p->host, static_cast<int>(config.console().port())))
    return failure{std::make_error_code(std::errc::address_in_use),
                   "cannot open the console port " + where +
                       " (in use, or not an address of this machine)"};
  p->port = static_cast<uint16_t>(config.console().port());
  auto* server = &p->server;
  p->thread = std::thread([server] { server->listen_after_bind(); });
  // halt() can stop only a server that listens: wait for the accept loop to start.
  for (int i = 0; i < 2000 && !server->is_running(); ++i)
    std::this_thread::sleep_for(1ms);
  p->start_sampling();
  spdlog::info("console on http://{}:{}/ ({})", p->host, p->port,
               p->auth_required ? "HTTP Basic authentication required" : "no authentication");
  return std::unique_ptr<console>(new console(std::move(p)));
}

} // namespace actormq::actors
