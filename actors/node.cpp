#include "actors/node.hpp"
#include "actors/errors.hpp"

#include "actors/slow_subscriber_policy.hpp"
#include "actors/snapshot.hpp"
#include "protocol/destination_pattern.hpp"
#include "protocol/redelivery_policy.hpp"
#include "protocol/uri.hpp"
#include "storage/store.hpp"

#include <caf/io/middleman.hpp>
#include <spdlog/spdlog.h>

#include <cstdlib>

namespace actormq::actors {

namespace {

// The policy entries of the configuration (the loader checked them and filled their defaults).
std::vector<protocol::destination_policy> destination_policies(const config::NodeConfig& cfg) {
  std::vector<protocol::destination_policy> out;
  for (auto& p : cfg.destination_policies()) {
    auto pattern = protocol::parse_destination_pattern(p.queue());
    if (!pattern)
      continue;
    protocol::destination_policy e;
    e.pattern = std::move(*pattern);
    e.redelivery.maximum_redeliveries = p.maximum_redeliveries();
    e.redelivery.initial_redelivery_delay_ms = p.initial_redelivery_delay_ms();
    e.redelivery.redelivery_delay_ms = p.redelivery_delay_ms();
    e.redelivery.use_exponential_back_off = p.use_exponential_back_off();
    e.redelivery.back_off_multiplier = p.back_off_multiplier();
    e.redelivery.maximum_redelivery_delay_ms = p.maximum_redelivery_delay_ms();
    e.dead_letter.individual = p.dead_letter_strategy() == "individual";
    e.dead_letter.dead_letter_queue = p.dead_letter_queue();
    e.dead_letter.queue_prefix = p.queue_prefix();
    e.dead_letter.process_expired = p.process_expired();
    e.dead_letter.process_non_persistent = p.process_non_persistent();
    e.expire_messages_period_ms = p.expire_messages_period_ms();
    if (p.has_memory_limit_bytes())
      e.memory_limit_bytes = p.memory_limit_bytes();
    out.push_back(std::move(e));
  }
  return out;
}

// The parts a stop waits for, as a stop that times out names them.
const std::string stopping_acceptor = "the acceptor";
const std::string stopping_stomp_acceptor = "the STOMP acceptor";
const std::string stopping_ws_acceptor = "the STOMP over WebSocket acceptor";
const std::string stopping_broker = "the broker and its queues";
const std::string stopping_store = "the store (its final commit)";

using self_ptr = node_actor::stateful_pointer<node_state>;

int64_t elapsed_ms(std::chrono::steady_clock::time_point since) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() -
                                                               since)
      .count();
}

// Ends the process at once: used when the node cannot go on (a standby takes over) or when a
// standby is told to stop while its lock holder blocks.
[[noreturn]] void exit_now(int code) {
  spdlog::default_logger()->flush();
  std::_Exit(code);
}

void fatal(self_ptr self, int code, const std::string& what) {
  spdlog::critical("node {} exits: {}", self->state.config.name(), what);
  exit_now(code);
}

// One bridge per member URI of every network connector (the URIs were checked at start).
void start_bridges(self_ptr self) {
  auto& st = self->state;
  auto& cfg = st.config;
  for (int i = 0; i < cfg.network_connectors_size(); ++i) {
    auto& nc = cfg.network_connectors(i);
    auto uri = protocol::parse_composite_uri(nc.uri());
    if (!uri)
      continue;
    for (size_t m = 0; m < uri->members.size(); ++m) {
      bridge_settings bs;
      bs.name = nc.name() + (uri->members.size() > 1 ? "/" + std::to_string(m) : "");
      bs.host = uri->members[m].host;
      bs.port = uri->members[m].port;
      bs.node_name = cfg.name();
      bs.store_id = st.db->info().store_id;
      bs.decrease_network_consumer_priority = nc.decrease_network_consumer_priority();
      bs.prefetch = nc.prefetch_size();
      // The loader has checked every pattern (config::validate).
      for (auto& p : nc.excluded_destinations())
        if (auto pattern = protocol::parse_destination_pattern(p))
          bs.excluded.push_back(std::move(*pattern));
      for (auto& p : nc.statically_included_destinations())
        if (auto pattern = protocol::parse_destination_pattern(p))
          bs.statically_included.push_back(std::move(*pattern));
      bs.dynamic_only = nc.dynamic_only();
      bs.max_reconnect_delay = std::chrono::milliseconds(nc.max_reconnect_delay_ms());
      st.bridges.push_back(
          self->spawn<caf::detached>(bridge_behavior, bs, st.db, st.store, st.broker));
    }
  }
}

// The acceptors of the STOMP listeners the node has.
std::vector<acceptor_actor> stomp_acceptors(const node_state& st) {
  std::vector<acceptor_actor> out;
  for (auto& a : {st.stomp_acceptor, st.ws_acceptor})
    if (a)
      out.push_back(a);
  return out;
}

void become_ready(self_ptr self) {
  auto& st = self->state;
  auto& cfg = st.config;
  start_bridges(self);
  st.inspector =
      self->spawn(inspector_behavior,
                  inspected_actors{inspected_node_actor{self}, st.lock_holder, st.store, st.broker,
                                   st.acceptor, st.bridges, stomp_acceptors(st)});
  st.front_door =
      self->spawn(front_door_behavior, cfg.name(), st.db->info().store_id, st.inspector, st.broker);
  auto published = self->system().middleman().publish(st.front_door, cfg.cluster().port(),
                                                      cfg.cluster().host().c_str(), true);
  if (!published)
    fatal(self, exit_fatal,
          "cannot open the cluster port " + cfg.cluster().host() + ":" +
              std::to_string(cfg.cluster().port()) + ": " +
              self->system().render(published.error()));
  st.cluster_port = *published;
  st.runtime->master = true;
  auto console_started = console::start(self->system(), cfg, st.inspector, st.broker, st.scheduler);
  if (!console_started)
    fatal(self, exit_fatal, "cannot start the console: " + console_started.message());
  st.web_console = std::move(*console_started);
  spdlog::info("node {} is ready: client {}:{},{}{} cluster {}:{}, console {}:{} (started in {} "
               "ms, master for {} ms)",
               cfg.name(), cfg.client().host(), st.client_port,
               cfg.has_stomp()
                   ? " stomp " + cfg.stomp().host() + ":" + std::to_string(st.stomp_port) + ","
                   : std::string(),
               cfg.has_ws() ? " ws " + cfg.ws().host() + ":" + std::to_string(st.ws_port) + ","
                            : std::string(),
               cfg.cluster().host(), st.cluster_port, cfg.console().host(), st.web_console->port(),
               elapsed_ms(st.runtime->started), elapsed_ms(st.master_since));
}

void open_client_port(self_ptr self);
void open_stomp_ports(self_ptr self, std::shared_ptr<const session_context> client_ctx);

// Opens the store (the data folder's lock is ours) and logs what opening it did.
void open_store(self_ptr self) {
  auto& st = self->state;
  auto& cfg = st.config;
  storage::store_options options;
  options.directory = std::filesystem::path(cfg.data_dir()) / "store";
  options.max_size_bytes = cfg.store().max_size_mb() << 20;
  options.sync = cfg.store().sync();
  options.journal = cfg.store().journal();
  options.journal_bytes = static_cast<uint64_t>(cfg.store().journal_size_mb()) << 20;
  auto opened = storage::store::open(options);
  if (!opened)
    fatal(self, exit_store_error, "cannot open the store: " + opened.message());
  st.db = std::shared_ptr<storage::store>(std::move(*opened));
  if (auto replayed = st.db->info().replayed_records; replayed != 0)
    spdlog::info("node {} applied {} journal records written after the store's last checkpoint",
                 cfg.name(), replayed);
  if (auto from = st.db->info().migrated_from; from != 0)
    spdlog::info("node {} migrated its store from schema {} to {}", cfg.name(), from,
                 st.db->info().schema);
}

// A replica of a replicated group: reads its position, then waits for the election with no
// port open (docs/replication.md).
void join_election(self_ptr self) {
  auto& st = self->state;
  auto& cfg = st.config;
  open_store(self);
  auto position = std::static_pointer_cast<storage::store>(st.db)->log_position();
  if (!position)
    fatal(self, exit_store_error, "cannot read the replication position: " + position.message());
  election_settings es;
  es.node_name = cfg.name();
  es.zk_address = cfg.replication().zk_address();
  es.zk_path = cfg.replication().zk_path();
  es.replicas = cfg.replication().replicas();
  es.session_timeout_ms = cfg.replication().zk_session_timeout_ms();
  es.position = *position;
  spdlog::info("node {} is a replica of {} at position {}:{}: waiting for the election "
               "(ZooKeeper {})",
               cfg.name(), es.zk_path, position->epoch, position->sequence, es.zk_address);
  st.elector = self->spawn<caf::detached>(elector, std::move(es), elector_owner_actor{self});
}

void become_master(self_ptr self) {
  auto& st = self->state;
  auto& cfg = st.config;
  st.master_since = std::chrono::steady_clock::now();
  if (!st.db)
    open_store(self);
  auto records = st.db->destinations();
  if (!records)
    fatal(self, exit_store_error, "cannot read the destinations: " + records.message());
  uint64_t pending = 0;
  for (auto& r : *records)
    pending += r.enqueued - std::min(r.enqueued, r.dequeued);
  st.store = self->spawn<caf::detached + caf::monitored>(
      store_behavior, st.db, static_cast<size_t>(cfg.store().max_batch()),
      std::chrono::milliseconds(cfg.store().reader_check_interval_ms()),
      std::chrono::milliseconds(cfg.store().checkpoint_interval_ms()),
      store_flow_settings{
          cfg.limits().send_fail_if_no_space(),
          std::chrono::milliseconds(cfg.limits().send_fail_if_no_space_after_timeout_ms()),
          cfg.store().max_size_mb()});
  broker_settings bs{cfg.limits().max_destinations(), cfg.limits().destination_memory_bytes()};
  bs.send_fail_if_no_space = cfg.limits().send_fail_if_no_space();
  bs.send_fail_after =
      std::chrono::milliseconds(cfg.limits().send_fail_if_no_space_after_timeout_ms());
  bs.store_max_size_mb = cfg.store().max_size_mb();
  bs.persist_redelivered = cfg.store().persist_redelivered();
  bs.auto_ack_delay = std::chrono::milliseconds(cfg.store().auto_ack_delay_ms());
  bs.topic_subscriber_pending_messages = cfg.limits().topic_subscriber_pending_messages();
  bs.slow_topic_subscriber = parse_slow_subscriber_policy(cfg.limits().slow_topic_subscriber())
                                 .value_or(slow_subscriber_policy::block);
  bs.offline_durable_timeout =
      std::chrono::milliseconds(cfg.limits().offline_durable_subscriber_timeout_ms());
  bs.offline_check =
      std::chrono::milliseconds(cfg.limits().offline_durable_subscriber_task_schedule_ms());
  bs.virtual_topic_name = cfg.virtual_topics().name();
  bs.virtual_topic_consumer_prefix = cfg.virtual_topics().consumer_prefix();
  bs.policies = destination_policies(cfg);
  // Replay of forwarded messages: the loader makes every connector agree on these options.
  if (cfg.network_connectors_size() > 0) {
    bs.replay_when_no_consumers = cfg.network_connectors(0).replay_when_no_consumers();
    bs.replay_delay = std::chrono::milliseconds(cfg.network_connectors(0).replay_delay_ms());
  }
  st.broker = self->spawn<caf::monitored>(broker_behavior, bs, st.db, st.store, *records);
  if (cfg.scheduler_support())
    st.scheduler = self->spawn(scheduler_behavior, st.db, st.store, st.broker);
  // Every queue reads its index when it starts; the statistics answer comes once all have,
  // so the ports open on a recovered node and the log says how long recovery took.
  self->request(st.broker, caf::infinite, stats_atom::value)
      .then(
          [self, destinations = records->size(), pending](destination_stats_list&) {
            auto& st = self->state;
            spdlog::info(
                "node {} recovered {} destinations with {} pending messages in {} ms (store {})",
                st.config.name(), destinations, pending, elapsed_ms(st.master_since),
                st.db->info().store_id);
            open_client_port(self);
          },
          [self](caf::error& err) {
            fatal(self, exit_store_error, "recovery failed: " + self->system().render(err));
          });
}

void open_client_port(self_ptr self) {
  auto& st = self->state;
  auto& cfg = st.config;
  auto ctx = std::make_shared<session_context>();
  ctx->node_name = cfg.name();
  ctx->store_id = st.db->info().store_id;
  ctx->failover_uris.assign(cfg.shared_store_uris().begin(), cfg.shared_store_uris().end());
  ctx->codec_limits.max_frame_bytes = cfg.limits().max_frame_bytes();
  ctx->protocol = cfg.client().protocol();
  ctx->max_consumers = cfg.limits().max_consumers_per_connection();
  ctx->default_prefetch = cfg.limits().default_prefetch();
  ctx->browse_max_messages = cfg.limits().browse_max_messages();
  ctx->heartbeat_ms = cfg.heartbeats().interval_ms();
  ctx->inactivity_timeout_ms = cfg.heartbeats().inactivity_timeout_ms();
  ctx->connect_timeout_ms = cfg.heartbeats().connect_timeout_ms();
  for (auto& u : cfg.users())
    ctx->users[u.username()] = u.password();
  ctx->broker = st.broker;
  ctx->scheduler = st.scheduler;
  ctx->store = st.store;
  ctx->max_transaction_messages = cfg.limits().max_transaction_messages();
  ctx->max_transaction_bytes = cfg.limits().max_transaction_bytes();
  st.acceptor = self->system().middleman().spawn_broker(acceptor_behavior,
                                                        std::shared_ptr<const session_context>(ctx),
                                                        cfg.limits().max_connections());
  self->monitor(st.acceptor);
  self->request(st.acceptor, std::chrono::seconds(10), listen_atom::value, cfg.client().host(),
                static_cast<uint16_t>(cfg.client().port()))
      .then(
          [self, ctx](uint16_t port) {
            self->state.client_port = port;
            open_stomp_ports(self, ctx);
          },
          [self](caf::error& err) {
            auto& cfg = self->state.config;
            fatal(self, exit_fatal,
                  "cannot open the client port " + cfg.client().host() + ":" +
                      std::to_string(cfg.client().port()) + ": " + self->system().render(err));
          });
}

// A STOMP listener (`key` in the configuration, its codec `protocol`): the client listener's
// context, with that codec and TCP_NODELAY. Opens the next one (or makes the node ready) once open.
void open_stomp_port(self_ptr self, std::shared_ptr<const session_context> client_ctx,
                     const std::string& key, const std::string& protocol,
                     const config::Listener& listener, acceptor_actor node_state::*acceptor,
                     uint16_t node_state::*port) {
  auto& st = self->state;
  auto ctx = std::make_shared<session_context>(*client_ctx);
  ctx->listener = key;
  ctx->protocol = protocol;
  ctx->tcp_no_delay = true;
  st.*acceptor = self->system().middleman().spawn_broker(
      acceptor_behavior, std::shared_ptr<const session_context>(ctx),
      st.config.limits().max_connections());
  self->monitor(st.*acceptor);
  self->request(st.*acceptor, std::chrono::seconds(10), listen_atom::value, listener.host(),
                static_cast<uint16_t>(listener.port()))
      .then(
          [self, client_ctx, port](uint16_t opened) {
            self->state.*port = opened;
            open_stomp_ports(self, client_ctx);
          },
          [self, key, listener](caf::error& err) {
            fatal(self, exit_fatal,
                  "cannot open the " + key + " port " + listener.host() + ":" +
                      std::to_string(listener.port()) + ": " + self->system().render(err));
          });
}

// The STOMP listeners the configuration has (stomp, then ws) that are not open yet, one after
// the other; then the node is ready.
void open_stomp_ports(self_ptr self, std::shared_ptr<const session_context> client_ctx) {
  auto& st = self->state;
  auto& cfg = st.config;
  if (cfg.has_stomp() && !st.stomp_acceptor)
    open_stomp_port(self, client_ctx, "stomp", "stomp", cfg.stomp(), &node_state::stomp_acceptor,
                    &node_state::stomp_port);
  else if (cfg.has_ws() && !st.ws_acceptor)
    open_stomp_port(self, client_ctx, "ws", "stomp-ws", cfg.ws(), &node_state::ws_acceptor,
                    &node_state::ws_port);
  else
    become_ready(self);
}

void stop(self_ptr self) {
  auto& st = self->state;
  if (st.stopping)
    return;
  st.stopping = true;
  if (!st.runtime->master) {
    spdlog::info("node {} stops while standing by", st.config.name());
    exit_now(exit_clean);
  }
  spdlog::info("node {} stops: closing the ports, then the queues, then the store",
               st.config.name());
  st.web_console.reset(); // first: no console request reaches an actor that is stopping
  self->send(st.acceptor, stop_atom::value);
  if (st.stomp_acceptor)
    self->send(st.stomp_acceptor, stop_atom::value);
  if (st.ws_acceptor)
    self->send(st.ws_acceptor, stop_atom::value);
  self->system().middleman().unpublish(st.front_door, st.cluster_port);
  self->send_exit(st.front_door, caf::exit_reason::user_shutdown);
  self->send_exit(st.inspector, caf::exit_reason::user_shutdown);
  self->send_exit(st.lock_holder, caf::exit_reason::user_shutdown); // the lock stays in its slot
  // Its writes already sent reach the store before the broker's end lets the store stop.
  if (st.scheduler)
    self->send_exit(st.scheduler, caf::exit_reason::user_shutdown);
  for (auto& b : st.bridges)
    self->send_exit(b, caf::exit_reason::user_shutdown);
  // Still monitored: their ends are what the stop waits for.
  std::set<std::string> parts{stopping_acceptor, stopping_broker, stopping_store};
  if (st.stomp_acceptor)
    parts.insert(stopping_stomp_acceptor);
  if (st.ws_acceptor)
    parts.insert(stopping_ws_acceptor);
  st.runtime->stopping(std::move(parts));
  // The store stops once the broker has ended: the queues' last writes reach it first.
  if (st.broker)
    self->send(st.broker, stop_atom::value);
  else
    self->send(st.store, stop_atom::value);
}

} // namespace

node_actor::behavior_type node_behavior(self_ptr self, config::NodeConfig config,
                                        std::shared_ptr<node_runtime> runtime) {
  auto& st = self->state;
  st.config = std::move(config);
  st.runtime = std::move(runtime);
  for (auto& nc : st.config.network_connectors()) {
    auto uri = protocol::parse_composite_uri(nc.uri());
    if (!uri || uri->scheme != "static") {
      spdlog::error("node {}: network connector {}: {}", st.config.name(), nc.name(),
                    uri ? "the URI must be static:(tcp://host:clusterport,...)" : uri.message());
      st.runtime->exit_code = exit_bad_config;
      self->quit();
      return node_actor::behavior_type::make_empty_behavior();
    }
  }
  lock_request request{st.config.data_dir(), st.config.name(), st.config.standby()};
  st.lock_holder =
      self->spawn<caf::detached>(lock_holder, request, st.runtime->lock, lock_owner_actor{self});
  self->attach_functor([name = st.config.name()](const caf::error& reason) {
    spdlog::debug("node {} actor ends: {}", name, caf::to_string(reason));
  });
  self->set_down_handler([self](caf::down_msg& msg) {
    auto& st = self->state;
    spdlog::debug("node {} sees {} go down: {}", st.config.name(), caf::to_string(msg.source),
                  self->system().render(msg.reason));
    if (st.stopping) {
      if (msg.source == st.broker.address()) {
        st.runtime->stopped(stopping_broker);
        self->send(st.store, stop_atom::value);
      }
      if (msg.source == st.acceptor.address())
        st.runtime->stopped(stopping_acceptor);
      if (st.stomp_acceptor && msg.source == st.stomp_acceptor.address())
        st.runtime->stopped(stopping_stomp_acceptor);
      if (st.ws_acceptor && msg.source == st.ws_acceptor.address())
        st.runtime->stopped(stopping_ws_acceptor);
    }
    if (msg.source == st.store.address()) {
      st.runtime->stopped(stopping_store);
      if (st.stopping) {
        st.db.reset(); // closes the environment; the lock goes when the process exits
        // Last: closing its ZooKeeper session removes the master znode, and another replica
        // may be elected only once this one has stopped serving.
        if (st.elector)
          self->send_exit(st.elector, caf::exit_reason::user_shutdown);
        spdlog::info("node {} stopped", st.config.name());
        self->quit();
        return;
      }
      fatal(self, exit_fatal, "the store actor died: " + self->system().render(msg.reason));
    }
    if (!st.stopping && msg.source != st.store.address())
      fatal(self, exit_fatal,
            "a component it cannot do without died: " + self->system().render(msg.reason));
  });
  // An unexpected message is logged and dropped, never answered.
  self->set_default_handler(drop_unexpected);
  return {
      [self](waiting_atom, const std::string& holder, int64_t pid) {
        spdlog::info("node {} is standby: waiting for the lock of {} held by node {} (pid {})",
                     self->state.config.name(), self->state.config.data_dir(),
                     holder.empty() ? "?" : holder, pid);
      },
      [self](acquired_atom, int64_t waited_ms) {
        spdlog::info("node {} acquired the lock of {} after {} ms", self->state.config.name(),
                     self->state.config.data_dir(), waited_ms);
        if (self->state.stopping)
          return;
        if (self->state.config.has_replication())
          join_election(self);
        else
          become_master(self);
      },
      [self](elected_atom, uint64_t epoch) {
        auto& st = self->state;
        if (st.stopping || st.runtime->master)
          return;
        st.epoch = epoch;
        // Batches of older epochs are refused from now on.
        std::static_pointer_cast<storage::store>(st.db)->fence(epoch);
        become_master(self);
      },
      [self](deposed_atom, const std::string& why) {
        auto& st = self->state;
        // Exiting closes the client port and every connection at once: no send is answered
        // after this, before ZooKeeper can elect another master.
        fatal(self, exit_fatal,
              "no longer master of " + st.config.replication().zk_path() + ": " + why);
      },
      [self](refused_atom, const std::string& text) {
        spdlog::error("node {} cannot start: {}", self->state.config.name(), text);
        self->state.runtime->exit_code = exit_locked;
        self->quit();
      },
      [self](failed_atom, const std::string& text) {
        spdlog::error("node {} cannot take the master lock: {}", self->state.config.name(), text);
        self->state.runtime->exit_code = exit_store_error;
        self->quit();
      },
      [self](stop_atom) { stop(self); },
      [self](snapshot_atom) -> node_snapshot {
        auto& st = self->state;
        node_snapshot out;
        out.mailbox = self->mailbox().size(); // waiting messages, as this actor sees them
        out.name = st.config.name();
        out.role = st.runtime->master            ? "master"
                   : st.config.has_replication() ? "replica"
                                                 : "standby";
        out.data_dir = st.config.data_dir();
        out.uptime_ms = elapsed_ms(st.runtime->started);
        out.client_port = st.client_port;
        out.cluster_port = st.cluster_port;
        return out;
      },
  };
}

} // namespace actormq::actors
