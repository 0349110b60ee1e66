// The web console of a node: an embedded HTTP server (cpp-httplib) on the console port, on
// threads of its own (never a scheduler worker). It serves the pages (shipped inside the
// program), a JSON API, /health and /metrics, and talks to the actors through requests with
// timeouts, off the hot path.
#pragma once

#include "actors/broker.hpp"
#include "actors/inspector.hpp"
#include "actors/scheduler.hpp"
#include "common/result.hpp"
#include "config/node.pb.h"

#include <caf/actor_system.hpp>

#include <memory>

namespace actormq::actors {

class console {
public:
  // Binds the console port from the configuration and starts serving.
  // Errors: the port cannot be bound (the message names host and port).
  static result<std::unique_ptr<console>> start(caf::actor_system& system,
                                                const config::NodeConfig& config,
                                                inspector_actor inspector, broker_actor broker,
                                                scheduler_actor scheduler = {});
  ~console(); // stops serving and joins the server thread
  console(const console&) = delete;
  console& operator=(const console&) = delete;

  uint16_t port() const;

  struct impl;

private:
  explicit console(std::unique_ptr<impl> p);
  std::unique_ptr<impl> impl_;
};

} // namespace actormq::actors
