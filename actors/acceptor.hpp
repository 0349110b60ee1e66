// The acceptor: a CAF I/O broker on the client port. Forks one session per connection,
// refuses connections beyond the limit with an error frame, and closes every session when the
// node stops.
//
// Messages it takes (acceptor_actor) besides the port's own (new_connection_msg,
// acceptor_closed_msg):
//   (listen_atom, host, port) -> uint16_t     opens the client port (0 = any free port)
//   (tick_atom)                                sent to itself: ticks every session (heartbeats,
//                                              timeouts), see session_tick_period
//   (connect_atom)                             from a session: its client has sent Connect
//                                              (handshake_listener_actor)
//   (stop_atom)                                closes the port and every session, then quits
//   (list_atom) -> std::vector<session_actor>  every session, for the inspector
//   (snapshot_atom) -> acceptor_snapshot
#pragma once

#include "actors/atoms.hpp"
#include "actors/session.hpp"
#include "actors/snapshot.hpp"
#include "config/defaults.hpp"

#include <caf/io/system_messages.hpp>
#include <caf/io/typed_broker.hpp>
#include <caf/typed_actor.hpp>

#include <cstdint>
#include <map>
#include <memory>
#include <set>

namespace actormq::actors {

using acceptor_actor = caf::typed_actor<
    // The port's own: a client connected, the port closed (caf::io::accept_handler).
    caf::reacts_to<caf::io::new_connection_msg>, caf::reacts_to<caf::io::acceptor_closed_msg>,
    // Opens the client port on (host, port); answers the port (0 asks for any free one).
    caf::replies_to<listen_atom, std::string, uint16_t>::with<uint16_t>,
    // Ticks every session: heartbeats, timeouts (sent to itself, see session_tick_period).
    caf::reacts_to<tick_atom>,
    // From a session: its client has sent Connect (handshake_listener_actor).
    caf::reacts_to<connect_atom>,
    // Closes the port and every session, then quits.
    caf::reacts_to<stop_atom>,
    // Every session, for the inspector.
    caf::replies_to<list_atom>::with<std::vector<session_actor>>,
    caf::replies_to<snapshot_atom>::with<acceptor_snapshot>>;

struct acceptor_state {
  static inline const char* name = "acceptor";

  std::shared_ptr<const session_context> ctx;
  uint32_t max_connections = config::default_max_connections;
  uint64_t next_session_id = 1;
  uint64_t accepted = 0;
  uint64_t refused = 0;
  uint64_t evicted = 0; // closed before their Connect to make room
  std::set<session_actor> sessions;
  // Sessions whose client has not sent Connect yet, oldest first (by session id). They may take
  // at most half the connections, and one is closed to make room when a new connection comes
  // in at a limit, so that idle sockets never lock real clients out.
  std::map<uint64_t, session_actor> handshaking;
  uint16_t port = 0;
};

acceptor_actor::behavior_type
acceptor_behavior(acceptor_actor::stateful_broker_pointer<acceptor_state> self,
                  std::shared_ptr<const session_context> ctx, uint32_t max_connections);

} // namespace actormq::actors
