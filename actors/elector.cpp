#include "actors/elector.hpp"

#include "actors/errors.hpp"
#include "coordination/election.hpp"
#include "coordination/zk_client.hpp"

#include <caf/send.hpp>
#include <spdlog/spdlog.h>

namespace actormq::actors {

elector_state::elector_state() = default;
elector_state::~elector_state() = default;

namespace {

using self_ptr = elector_actor::stateful_pointer<elector_state>;
using coordination::zk_event;

// Says `text` once, until the group's state changes.
void report(self_ptr self, const std::string& text) {
  auto& st = self->state;
  if (text == st.last_report)
    return;
  st.last_report = text;
  spdlog::info("node {}: {}", st.settings.node_name, text);
}

void retry_later(self_ptr self, const std::string& what) {
  spdlog::warn("node {}: election: {}; trying again", self->state.settings.node_name, what);
  self->delayed_send(self, std::chrono::milliseconds(500), resume_atom::value);
}

// The client's events come as messages from its own thread; the actor may be gone by then.
void start_session(self_ptr self) {
  auto& st = self->state;
  caf::weak_actor_ptr weak{self->ctrl()};
  auto started = coordination::zk_client::start(
      st.settings.zk_address, static_cast<int>(st.settings.session_timeout_ms),
      [weak](const zk_event& e) {
        if (auto strong = weak.lock())
          caf::anon_send(caf::actor_cast<elector_actor>(strong), zk_event_atom::value,
                         static_cast<int32_t>(e.kind), e.path);
      });
  if (!started) {
    retry_later(self, started.message());
    return;
  }
  st.zk = std::move(*started);
  st.connected = false;
  st.znode.clear();
}

// Looks at the registered replicas and, if this one is the candidate, claims the master znode.
void evaluate(self_ptr self) {
  auto& st = self->state;
  if (st.master || !st.connected || st.znode.empty())
    return;
  const auto& path = st.settings.zk_path;
  auto replicas = st.zk->children(coordination::replicas_path(path));
  if (!replicas)
    return retry_later(self, replicas.message());
  auto outcome = coordination::decide(*replicas, st.settings.replicas);
  if (!outcome.has_quorum)
    return report(self, "waiting for a quorum of replicas: " + std::to_string(outcome.registered) +
                            " of " + std::to_string(st.settings.replicas) + " registered, " +
                            std::to_string(coordination::quorum_of(st.settings.replicas)) +
                            " needed");
  auto mine = st.znode.substr(st.znode.rfind('/') + 1);
  if (outcome.candidate == mine) {
    auto created = st.zk->create_ephemeral(coordination::master_path(path), st.settings.node_name);
    if (created) {
      st.master = true;
      auto epoch = static_cast<uint64_t>(*created);
      spdlog::info("node {} is elected master of {} (epoch {}, {} of {} replicas registered)",
                   st.settings.node_name, path, epoch, outcome.registered, st.settings.replicas);
      self->send(st.node, elected_atom::value, epoch);
      return;
    }
    if (created.code() != std::errc::file_exists)
      return retry_later(self, created.message());
  }
  // Another replica is (or is to be) master: watch the master znode.
  auto master = st.zk->watch_node(coordination::master_path(path));
  if (!master)
    return retry_later(self, master.message());
  if (!*master) {
    if (outcome.candidate == mine)
      return evaluate(self); // the master znode went between the two calls
    return report(self, "replica: waiting for " + outcome.candidate_record.node_name +
                            " (the newest data) to become master");
  }
  report(self, "replica: the master is " + **master);
}

void on_event(self_ptr self, zk_event::kind_t kind) {
  auto& st = self->state;
  switch (kind) {
  case zk_event::connected:
    st.connected = true;
    ++st.deadline; // a lost-connection deadline no longer applies
    if (st.znode.empty()) {
      const auto& path = st.settings.zk_path;
      if (auto made = st.zk->ensure_path(coordination::replicas_path(path)); !made)
        return retry_later(self, made.message());
      coordination::replica_record record{st.settings.node_name, st.settings.position};
      auto registered = st.zk->create_sequential(coordination::replica_prefix(path),
                                                 coordination::encode_replica(record));
      if (!registered)
        return retry_later(self, registered.message());
      st.znode = *registered;
      spdlog::info("node {} registered as replica {} at position {}:{} (ZooKeeper {}, session "
                   "timeout {} ms)",
                   st.settings.node_name, st.znode, st.settings.position.epoch,
                   st.settings.position.sequence, st.settings.zk_address,
                   st.zk->session_timeout_ms());
    }
    evaluate(self);
    return;
  case zk_event::connecting:
    st.connected = false;
    if (st.master) {
      // The servers end the session after its timeout and may then elect another master:
      // this one stops well before that unless the connection comes back.
      auto limit = std::chrono::milliseconds(
          std::max(st.zk->session_timeout_ms(), static_cast<int>(st.settings.session_timeout_ms)) /
          3);
      spdlog::warn("node {}: lost its ZooKeeper connection; stops serving in {} ms unless it "
                   "comes back",
                   st.settings.node_name, limit.count());
      self->delayed_send(self, limit, tick_atom::value, ++st.deadline);
    }
    return;
  case zk_event::expired:
  case zk_event::auth_failed:
    st.connected = false;
    if (st.master) {
      self->send(st.node, deposed_atom::value,
                 std::string(kind == zk_event::expired ? "its ZooKeeper session expired"
                                                       : "ZooKeeper refused its session"));
      return;
    }
    spdlog::warn("node {}: its ZooKeeper session {}; registering again", st.settings.node_name,
                 kind == zk_event::expired ? "expired" : "was refused");
    st.zk.reset();
    start_session(self);
    return;
  case zk_event::children:
  case zk_event::node_changed:
    evaluate(self);
    return;
  }
}

} // namespace

elector_actor::behavior_type elector(self_ptr self, election_settings settings,
                                     elector_owner_actor node) {
  auto& st = self->state;
  st.settings = std::move(settings);
  st.node = std::move(node);
  start_session(self);
  // An unexpected message is logged and dropped, never answered.
  self->set_default_handler(drop_unexpected);
  return {
      [self](zk_event_atom, int32_t kind, const std::string&) {
        on_event(self, static_cast<zk_event::kind_t>(kind));
      },
      [self](tick_atom, uint64_t generation) {
        auto& st = self->state;
        if (st.master && !st.connected && generation == st.deadline)
          self->send(st.node, deposed_atom::value,
                     std::string("cut from ZooKeeper for a third of its session timeout"));
      },
      [self](resume_atom) {
        auto& st = self->state;
        if (!st.zk)
          return start_session(self);
        if (st.connected && st.znode.empty())
          return on_event(self, zk_event::connected);
        evaluate(self);
      },
  };
}

} // namespace actormq::actors
