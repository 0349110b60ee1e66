// The elector: this replica's part in its group's election (docs/replication.md,
// coordination/election.hpp). Spawned detached by the node once its data folder is locked and
// its store read: ZooKeeper's calls block, so they run on a thread of their own. It holds the
// ZooKeeper session, registers the replica with its replication position, and tells the node
// when it is elected. A master whose session expires, or whose connection stays lost for a
// third of the session timeout (before the servers can end the session and elect another),
// is deposed.
//
// Messages it sends to the node (elector_owner_actor):
//   (elected_atom, epoch)       this replica is master, in `epoch` (ZooKeeper's czxid of the
//                               master znode: every later master's is higher)
//   (deposed_atom, why)         this master can no longer know it is the only one: stop serving
// Messages it takes (elector_actor):
//   (zk_event_atom, kind, path) an event of the ZooKeeper client (coordination::zk_event),
//                               sent by the client's thread
//   (tick_atom, generation)     the deadline of a lost connection
//   (resume_atom)               look at the group again (after a failed call)
#pragma once

#include "actors/atoms.hpp"
#include "storage/replication.hpp"

#include <caf/typed_actor.hpp>
#include <caf/typed_event_based_actor.hpp>

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

namespace actormq::coordination {
class zk_client;
}

namespace actormq::actors {

using elected_atom = caf::atom_constant<caf::atom("elected")>;
using deposed_atom = caf::atom_constant<caf::atom("deposed")>;
using zk_event_atom = caf::atom_constant<caf::atom("zkevent")>;

using elector_owner_actor = caf::typed_actor<caf::reacts_to<elected_atom, uint64_t>,
                                             caf::reacts_to<deposed_atom, std::string>>;

using elector_actor =
    caf::typed_actor<caf::reacts_to<zk_event_atom, int32_t, std::string>,
                     caf::reacts_to<tick_atom, uint64_t>, caf::reacts_to<resume_atom>>;

struct election_settings {
  std::string node_name;
  std::string zk_address;
  std::string zk_path;
  uint32_t replicas = 3;
  uint32_t session_timeout_ms = 2000;
  storage::replication_position position; // of this replica's store
};

struct elector_state {
  static inline const char* name = "elector";
  election_settings settings;
  elector_owner_actor node;
  std::unique_ptr<coordination::zk_client> zk;
  bool connected = false;
  std::string znode; // this replica's registration (full path); empty: not registered
  bool master = false;
  uint64_t deadline = 0;   // the generation of the pending lost-connection deadline
  std::string last_report; // what the log said last about the group (said once)
  elector_state();
  ~elector_state();
};

elector_actor::behavior_type elector(elector_actor::stateful_pointer<elector_state> self,
                                     election_settings settings, elector_owner_actor node);

} // namespace actormq::actors
