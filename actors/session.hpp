// The session: one CAF I/O broker per client connection (forked by the acceptor). Reads bytes into
// its codec (the listener's protocol, protocol/session_codec.hpp), acts on the commands the codec
// makes of them (session_core.cpp: typed requests to the broker and queues) and writes the events
// it emits back through the codec (session_output.cpp); enforces limits, heartbeats and flow
// control. No wire protocol is known here: that is the codec's.
//
// Messages it takes (session_actor) besides the connection's own (new_data_msg,
// connection_closed_msg):
//   (dispatch_atom, delivery)  a message for one of its consumers, from a queue (consumer_actor)
//   (tick_atom)                heartbeat and inactivity check, from the acceptor
//   (resume_atom)              repeats a resume of reading after flow control, sent to itself
//   (stop_atom)                the node is stopping: say so to the client and close
//   (stop_atom, std::string)   the acceptor closes it (no Connect yet) to make room: say why
//   (snapshot_atom) -> session_snapshot
// Messages it sends to the acceptor (handshake_listener_actor):
//   (connect_atom)             its client has sent Connect
#pragma once

#include "actors/atoms.hpp"
#include "actors/broker.hpp"
#include "actors/consumer.hpp"
#include "actors/destination_resolver.hpp"
#include "actors/messages.hpp"
#include "actors/queue.hpp"
#include "actors/scheduler.hpp"
#include "actors/snapshot.hpp"
#include "config/defaults.hpp"
#include "protocol/destination_pattern.hpp"
#include "protocol/session_codec.hpp"

#include <caf/io/connection_handle.hpp>
#include <caf/io/system_messages.hpp>
#include <caf/io/typed_broker.hpp>
#include <caf/typed_actor.hpp>

#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace actormq::actors {

using session_actor = caf::typed_actor<
    // The connection's own: bytes arrived, the client closed (caf::io::connection_handler).
    caf::reacts_to<caf::io::new_data_msg>, caf::reacts_to<caf::io::connection_closed_msg>,
    // A message for one of its consumers, from a queue (consumer_actor).
    caf::reacts_to<dispatch_atom, delivery>,
    // Heartbeat and inactivity check, from the acceptor.
    caf::reacts_to<tick_atom>,
    // Repeats a resume of reading after flow control (sent to itself).
    caf::reacts_to<resume_atom>,
    // The node is stopping: say so to the client and close.
    caf::reacts_to<stop_atom>,
    // The acceptor closes it (no Connect yet) to make room: say why.
    caf::reacts_to<stop_atom, std::string>, caf::replies_to<snapshot_atom>::with<session_snapshot>,
    // A queue was created (from the broker, for consumers on queue wildcards).
    caf::reacts_to<created_atom, std::string>>;

// The acceptor, as a session sees it: told when the client has sent Connect.
using handshake_listener_actor = caf::typed_actor<caf::reacts_to<connect_atom>>;

// What every session of a node shares (read only).
struct session_context {
  std::string node_name;
  std::string store_id;
  std::vector<std::string> failover_uris;
  std::string listener{"client"}; // the listener's name in the configuration (client, stomp, ws)
  std::string protocol{config::default_client_protocol}; // the listener's: its connections' codec
  protocol::codec_limits codec_limits;
  uint32_t max_consumers = config::default_max_consumers_per_connection;
  uint32_t default_prefetch = config::default_prefetch;
  uint32_t browse_max_messages = config::default_browse_max_messages;
  uint32_t heartbeat_ms = config::default_heartbeat_interval_ms;
  uint32_t inactivity_timeout_ms = config::default_inactivity_timeout_ms;
  uint32_t connect_timeout_ms = config::default_connect_timeout_ms; // Connect must come this soon
  bool tcp_no_delay = false;            // TCP_NODELAY on its connections (the STOMP listener's)
  uint32_t max_unanswered_sends = 1024; // the session stops reading beyond this many
  uint64_t max_unanswered_bytes = 4ull << 20; // ... or this many bytes of unanswered sends
  // The users a client must log in as (username -> password); empty: no login.
  std::map<std::string, std::string> users;
  broker_actor broker;
  scheduler_actor scheduler; // null without scheduler_support
  store_actor store;         // composite sends store their message once through it (fanout.hpp)
  // What the open transactions of one connection may hold, in all.
  uint32_t max_transaction_messages = config::default_max_transaction_messages;
  uint64_t max_transaction_bytes = config::default_max_transaction_bytes;
};

struct session_state {
  static inline const char* name = "session";

  using clock = std::chrono::steady_clock;

  struct consumer_entry {
    std::string destination;
    queue_actor queue;
    uint64_t subscription = 0; // 0 until the queue answered
    bool node_acks = false;    // the session acknowledges each delivery as it writes it

    // A consumer on several destinations (a composite destination, a queue wildcard;
    // session_multi.cpp): a subscription on each (a part). Its deliveries get keys of the
    // session's own, which acks name; credit goes back to the parts in delivery order.
    struct part {
      std::string destination;
      queue_actor queue;
      uint64_t subscription = 0;
    };
    bool multi = false;
    actors::subscription options;            // what each part subscribes with
    std::map<uint64_t, part> parts;          // by part id (its consumer id at the queue)
    std::set<std::string> part_destinations; // subscribed or subscribing
    std::vector<protocol::destination_pattern> queue_patterns; // queue wildcards it follows
    std::map<uint64_t, std::pair<uint64_t, uint64_t>> keys;    // key -> (part id, queue's key)
    std::deque<uint64_t> owed_credit;                          // part ids, oldest delivery first
    uint64_t next_key = 1;
  };

  std::shared_ptr<const session_context> ctx;
  handshake_listener_actor acceptor; // told when the client has sent Connect
  caf::io::connection_handle hdl;
  std::unique_ptr<protocol::session_codec> codec;
  uint64_t session_id = 0;
  std::string peer;
  std::string client_id;
  bool connected = false;
  bool connecting = false; // Connect sent, the broker asked whether its client id is free
  // Commands that came behind Connect while the broker was asked: handled once it answered.
  std::deque<protocol::command> held_commands;
  bool closing = false;
  // This connection's inactivity timeout: the node's, or longer (or none) as the client's
  // heartbeat promise at connect asks (session_core.cpp); 0: never.
  uint32_t inactivity_timeout_ms = 0;
  // Requests the client sent that the session has not answered yet (by request id), and a
  // disconnect that asked for a receipt before they were: it is answered, and the connection
  // closed, once they (and every unanswered send) are.
  std::multiset<uint64_t> open_requests;
  uint64_t disconnect_request = 0;
  destination_resolver resolver;                // queue handles by destination
  std::map<uint64_t, consumer_entry> consumers; // by the client's consumer id
  uint32_t unanswered_sends = 0;
  uint64_t unanswered_bytes = 0;
  bool peer_gone = false; // the client closed or said Disconnect: finish what was read, then end
  bool reading_halted = false;
  clock::time_point resumed_at; // when flow control last let reading go on
  uint32_t resume_retries = 0;  // repeats of that resume still to come (see resume_reading)
  clock::time_point started;
  clock::time_point last_read;
  clock::time_point last_write;
  clock::time_point partial_since; // when the frame that is still incomplete began; {} if none
  size_t read_size = 0;            // the read buffer's size now (it grows with traffic)
  std::string scratch;             // encode buffer
  protocol::command command;       // the command being handled (reused)
  uint64_t frames_in = 0;
  uint64_t frames_out = 0;
  uint64_t messages_in = 0;
  uint64_t deliveries_out = 0;
  uint64_t acks_in = 0;
  // Sends without a receipt request that failed (a refusal under flow control may come for
  // every send): logged at most once a second, with how many since the last line.
  uint64_t lost_sends = 0;
  uint64_t lost_sends_unlogged = 0;
  clock::time_point lost_sends_logged;
  std::set<std::string> producers; // producer ids seen on this connection
  // Temporary destinations of this connection the broker has made (session_routes.cpp).
  std::set<std::string> own_temporaries;
  // The parts of multi consumers subscribe under consumer ids of the session's own (from
  // 2^63 up), which their deliveries name: the client's consumer id of each.
  std::map<uint64_t, uint64_t> part_consumers;
  uint64_t next_part_consumer = uint64_t{1} << 63;

  // A local transaction's held sends and acknowledgements (session_transactions.cpp).
  struct held_send {
    std::string destination;
    incoming_message message;
  };
  struct held_ack {
    queue_actor queue;
    uint64_t subscription = 0;
    key_list keys;
    bool reject = false;
  };
  struct transaction_entry {
    std::vector<held_send> sends;
    std::vector<held_ack> acks;
    // A send was refused (over the limits): the commit fails, naming why.
    std::string rollback_only;
  };
  std::map<std::string, transaction_entry> transactions; // by the client's transaction id
  uint64_t transaction_messages = 0;                     // held sends of every open transaction
  uint64_t transaction_bytes = 0;
  uint64_t commits = 0;
  uint64_t rollbacks = 0;
};

// How often the acceptor ticks its sessions (heartbeats, inactivity, connect timeout); none if
// the context has no timer. The acceptor ticks them, not each session itself: a message a session
// sent itself for later would keep the memory of an ended session until it arrived.
std::optional<std::chrono::milliseconds> session_tick_period(const session_context& ctx);

session_actor::behavior_type
session_behavior(session_actor::stateful_broker_pointer<session_state> self,
                 caf::io::connection_handle hdl, handshake_listener_actor acceptor,
                 std::shared_ptr<const session_context> ctx, uint64_t session_id);

} // namespace actormq::actors
