// The acceptor: a CAF I/O broker on the client port. Forks one session per connection,
// refuses connections beyond the limit with an error frame, and closes every session when the
// node stops.
//
// Messages it takes:
//   (listen_atom, host, port) -> uint16_t   opens the client port (0 = any free port)
//   (tick_atom)                              sent to itself: ticks every session (heartbeats,
//                                            timeouts), see session_tick_period
//   (stop_atom)                              closes the port and every session, then quits
//   (list_atom) -> std::vector<caf::actor>  every session, for the inspector
//   (snapshot_atom) -> acceptor_snapshot
#pragma once

#include "actors/session.hpp"
#include "config/defaults.hpp"

#include <caf/io/broker.hpp>

#include <cstdint>
#include <map>
#include <memory>
#include <set>

namespace actormq::actors {

struct acceptor_state {
  static inline const char* name = "acceptor";

  std::shared_ptr<const session_context> ctx;
  uint32_t max_connections = config::default_max_connections;
  uint64_t next_session_id = 1;
  uint64_t accepted = 0;
  uint64_t refused = 0;
  uint64_t evicted = 0; // closed before their Connect to make room
  std::set<caf::actor> sessions;
  // Sessions whose client has not sent Connect yet, oldest first (by session id). They may take
  // at most half the connections, and one is closed to make room when a new connection comes
  // in at a limit, so that idle sockets never lock real clients out.
  std::map<uint64_t, caf::actor> handshaking;
  uint16_t port = 0;
};

caf::behavior acceptor_behavior(caf::io::stateful_broker<acceptor_state>* self,
                                std::shared_ptr<const session_context> ctx,
                                uint32_t max_connections);

} // namespace actormq::actors
