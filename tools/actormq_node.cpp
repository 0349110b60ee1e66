// actormq-node: runs one ActorMQ node from a configuration file.
#include "actors/message_types.hpp"
#include "actors/messages.hpp"
#include "actors/node.hpp"
#include "config/loader.hpp"

#include <CLI/CLI.hpp>
#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/io/middleman.hpp>
#include <caf/scoped_actor.hpp>
#include <spdlog/sinks/basic_file_sink.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <csignal>
#include <iostream>
#include <pthread.h>
#include <thread>

using namespace actormq;

namespace {

void setup_logging(const config::NodeConfig& cfg) {
  std::shared_ptr<spdlog::logger> logger;
  if (cfg.logging().has_file() && !cfg.logging().file().empty())
    logger = spdlog::basic_logger_mt("actormq", cfg.logging().file());
  else
    logger = spdlog::stderr_color_mt("actormq");
  logger->set_pattern("%Y-%m-%d %H:%M:%S.%e %^%-5l%$ %v");
  logger->set_level(spdlog::level::from_str(cfg.logging().level()));
  logger->flush_on(spdlog::level::info);
  spdlog::set_default_logger(logger);
}

void configure_runtime(caf::actor_system_config& sys_cfg, const config::NodeConfig& cfg) {
  sys_cfg.load<caf::io::middleman>();
  sys_cfg.set("scheduler.policy", caf::atom_from_string(cfg.runtime().scheduler_policy()));
  sys_cfg.set("scheduler.max-threads", static_cast<size_t>(cfg.runtime().scheduler_max_threads()));
  sys_cfg.set("middleman.heartbeat-interval",
              caf::timespan{std::chrono::milliseconds(cfg.runtime().middleman_heartbeat_ms())});
  sys_cfg.set(
      "middleman.connection-timeout",
      caf::timespan{std::chrono::milliseconds(cfg.runtime().middleman_connection_timeout_ms())});
  sys_cfg.set("logger.console", caf::atom("none"));
  actors::register_message_types(sys_cfg);
}

} // namespace

int main(int argc, char** argv) {
  CLI::App app{"actormq-node: runs one ActorMQ node from a configuration file"};
  std::string config_file;
  std::vector<std::string> overrides;
  bool dump = false;
  app.add_option("-c,--config", config_file, "configuration file (Protobuf text format)")
      ->required();
  app.add_option("--set", overrides,
                 "override one key, e.g. --set client.port=61700 (repeatable; see "
                 "docs/configuration.md)");
  app.add_flag("--dump-config", dump, "print the effective configuration and exit");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    auto code = app.exit(e);
    return code == 0 ? 0 : actors::exit_bad_config;
  }
  auto loaded = config::load(config_file, overrides);
  if (!loaded) {
    std::cerr << "actormq-node: " << loaded.message() << "\n";
    return actors::exit_bad_config;
  }
  auto cfg = std::move(*loaded);
  if (dump) {
    std::cout << config::dump(cfg);
    return actors::exit_clean;
  }
  setup_logging(cfg);

  // Signals go to one thread (sigwait) that tells the node; every other thread blocks them.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  auto runtime = std::make_shared<actors::node_runtime>();
  auto lock = runtime->lock; // outlives the actor system: the lock goes when the process exits
  {
    caf::actor_system_config sys_cfg;
    configure_runtime(sys_cfg, cfg);
    caf::actor_system sys{sys_cfg};
    auto node = sys.spawn<caf::detached>(actors::node_behavior, cfg, runtime);
    auto stop_timeout = std::chrono::milliseconds(cfg.stop_timeout_ms());
    // A weak handle: a strong one here would keep the node (and the process) alive.
    caf::actor_addr node_addr = node.address();
    std::thread([signals, node_addr, stop_timeout, runtime]() mutable {
      int sig = 0;
      sigwait(&signals, &sig);
      spdlog::info("received signal {}", sig);
      if (auto target = caf::actor_cast<actors::node_actor>(node_addr))
        caf::anon_send(target, actors::stop_atom::value);
      // A stop that takes too long ends the process anyway.
      std::this_thread::sleep_for(stop_timeout);
      spdlog::error("the stop took longer than {} ms (stop_timeout_ms); still running: {}; "
                    "exiting with code {}",
                    stop_timeout.count(), runtime->still_stopping_text(),
                    static_cast<int>(actors::exit_stop_timeout));
      spdlog::default_logger()->flush();
      std::_Exit(actors::exit_stop_timeout);
    }).detach();
    // This strong handle keeps the node alive through its stop: without one, the node ends as
    // unreachable once its children are gone, before the store's final commit is confirmed.
    sys.await_all_actors_done();
  }
  return runtime->exit_code.load();
}
