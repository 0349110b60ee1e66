// Internal: the shared state of one connection (not part of the public API).
//
// A session owns the transport, answers requests by correlation id from the transport's reader
// thread, routes dispatches to consumers, sends heartbeats and watches for silence (keeper
// thread), and tracks what failover replays: open consumers, producers and the requests still
// awaiting their answer (persistent sends above all).
//
// Failover (a session made from a failover URL): every transport the session starts gets a
// generation number; frames and failures of any generation but the live one are ignored. When
// the live transport fails, the session is *interrupted*: the epoch goes up, consumers drop their
// prefetched deliveries and forget their unacknowledged keys (acks of an older epoch are never
// sent), requests that can be repeated wait unsent, acks fail with failed_over. The failover
// thread reconnects (back-off over the URI list), redoes Connect, reopens every consumer with the
// same id and fresh credit, and resends the waiting requests in correlation order; only then are
// new writes allowed again (so resends come before anything newer).
//
// Locking: session::mutex_ is never held while calling a transport, a handler or a consumer;
// a consumer_state's mutex is never held while taking session::mutex_. seen_mutex_ is a leaf.
//
// The session's files, one job each: session_lifecycle.cpp (start, close, end, the consumers and
// producers it tracks), session_connect.cpp (one attempt: handshake and replay),
// session_failover.cpp (interruption, the failover thread, learned URIs), session_requests.cpp
// (correlation ids, pending requests, one-way frames), session_inbound.cpp (frames from the
// node), session_redelivery.cpp (the seen set), session_keeper.cpp (timeouts, heartbeats,
// silence); wire_values.cpp holds the free functions declared at the end of this header.
#pragma once

#include "client/connection.hpp"
#include "client/consumer.hpp"
#include "client/error.hpp"
#include "client/failover.hpp"
#include "client/message.hpp"
#include "client/producer.hpp"
#include "client/transport.hpp"
#include "common/result.hpp"

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

namespace actormq::client::detail {

using clock = std::chrono::steady_clock;

// Called exactly once per request: with the answer (never an Error frame: those arrive as
// broker-error failures), or with the failure that ended the wait (timeout, connection lost,
// closed).
using reply_handler = std::function<void(result<wire::Frame>)>;

struct producer_state {
  std::string id;
  std::string destination;
  producer_options options;

  std::mutex mutex;
  std::condition_variable cv; // outstanding went down
  uint64_t sequence = 0;      // last used
  uint64_t outstanding = 0;
  uint64_t receipted = 0;
  uint64_t duplicates = 0;
  std::optional<failure> unreported; // first failure of an async send not yet returned
  bool closed = false;
};

struct consumer_state {
  uint64_t id = 0;
  std::string destination;
  consumer_options options;
  uint32_t batch = 1; // credit and auto-ack batch: max(1, prefetch / 2)

  std::mutex mutex;
  std::condition_variable cv; // buffer, failed or closed changed
  std::deque<message> buffer;
  std::optional<failure> failed; // the connection ended
  bool closed = false;
  uint32_t taken = 0;              // credit not yet returned
  std::vector<uint64_t> auto_acks; // auto mode: handed over, not yet acknowledged
  std::optional<uint64_t> handed;  // auto mode: returned by receive(), still with the application
  // client/individual mode: handed over, not yet acknowledged (key, identity for the seen set)
  std::vector<std::pair<uint64_t, uint64_t>> unacked;
  uint64_t epoch = 0; // the session's epoch the keys above belong to
  uint64_t received = 0;
  bool has_listener = false;
  std::thread listener_thread;

  // Marks the consumer failed (connection ended) and wakes its waiters.
  void fail(const failure& why);
};

class session final : public std::enable_shared_from_this<session> {
public:
  // Over one transport, without reconnection.
  session(std::unique_ptr<transport> transport, connection_options options);
  // Over a failover URL: reconnects.
  session(failover_url url, connection_options options);
  ~session();

  session(const session&) = delete;
  session& operator=(const session&) = delete;

  // Starts the transport, completes the Connect handshake, starts the keeper thread.
  result<void> start();

  // Sends a request with a fresh correlation id; `handler` is called exactly once. `replay`
  // marks a persistent send to keep until receipted. timeout 0 = none.
  // `epoch` (acks): the request is only valid in that epoch; it fails with failed_over if the
  // session is in a later one, or when the connection fails before the answer.
  void request_async(wire::Frame frame, reply_handler handler, bool replay,
                     std::chrono::milliseconds timeout, std::optional<uint64_t> epoch = {});
  void request_async(wire::Frame frame, reply_handler handler, bool replay = false) {
    request_async(std::move(frame), std::move(handler), replay, options_.request_timeout);
  }
  // Waits for the answer.
  result<wire::Frame> request(wire::Frame frame, bool replay = false,
                              std::optional<uint64_t> epoch = {});
  // Sends without a correlation id. During a failover outage it waits for the connection (up
  // to the failover timeout). With `epoch` (acks, credit) the frame is dropped instead when the
  // session is no longer in that epoch or not connected: it would mean nothing to the next node.
  result<void> send_oneway(const wire::Frame& frame, std::optional<uint64_t> epoch = {});

  bool failover() const { return failover_; }
  // Failover: remembers that the application got the message `identity` (seen set, bounded) /
  // forgets it once its acknowledgement committed.
  void note_handed(uint64_t identity, uint64_t epoch);
  void note_acked(const std::vector<uint64_t>& identities);

  // Fails with closed or the failure that ended the connection, if it ended.
  result<void> check_open() const;

  uint64_t next_consumer_id() { return next_consumer_id_.fetch_add(1); }
  void add_consumer(const std::shared_ptr<consumer_state>& c);
  void remove_consumer(uint64_t id);
  void add_producer(const std::shared_ptr<producer_state>& p);
  void remove_producer(const producer_state* p);

  result<void> close();
  bool is_open() const;

  // Local transactions (session_transactions.cpp). The open transaction's id and the epoch its
  // frames belong to; begins one (Begin sent) if none is open. `p` joins it: a rollback sets its
  // sequence back to where it was when it joined.
  std::pair<std::string, uint64_t> join_transaction(const std::shared_ptr<producer_state>& p);
  // Ends the open transaction: commit (or rollback), with the transacted consumers' receipts.
  result<void> end_transaction(bool commit);
  std::optional<failure> last_failure() const;
  broker_info info() const;
  const connection_options& options() const { return options_; }
  // The client id the connection uses (the one given, or the random one it made).
  const std::string& client_id() const { return client_id_; }

private:
  struct link;
  struct pending_request {
    reply_handler handler;
    clock::time_point deadline; // time_point::max() = none
    std::chrono::milliseconds timeout{0};
    std::shared_ptr<const wire::Frame> frame; // kept for resending after a failover
    bool replay = false;                      // a persistent send (counts as unreceipted)
    bool internal = false;                    // Connect, replayed OpenConsumer: never resent
    std::optional<uint64_t> epoch;            // acks: valid in this epoch only
    uint64_t sent_generation = 0;             // 0: waits to be (re)sent
    clock::time_point waiting_since;          // when it began waiting for a connection
  };
  struct live_link {
    std::shared_ptr<transport> t;
    std::shared_ptr<link> l;
    uint64_t generation = 0;
    std::string uri;
  };

  // Removes a pending request (keeping the count of unreceipted sends). Caller holds mutex_.
  std::optional<pending_request> take_pending_locked(uint64_t correlation_id);
  void on_link_frame(uint64_t generation, wire::Frame& frame);
  void on_link_failure(uint64_t generation, const failure& why);
  void fail(const failure& why);
  void end(const failure& why, bool closing);
  void keeper_loop();
  void failover_loop();
  void route_dispatch(uint64_t generation, wire::Frame& frame);
  // Failover: marks `m` redelivered if it was handed to the application in an epoch before
  // `epoch` and not acknowledged since (the seen set).
  void mark_if_seen(message& m, uint64_t epoch) const;
  // Requests sent on `generation` after it failed: acks and internal ones are taken (returned to
  // fail), CloseConsumer ones are taken to succeed, the rest wait to be resent. Holds mutex_.
  void requeue_locked(uint64_t generation, std::vector<pending_request>& to_fail,
                      std::vector<pending_request>& to_succeed);
  // Drops what consumers hold from an older epoch (prefetched deliveries, keys to ack, credit).
  static void reset_consumers(const std::vector<std::shared_ptr<consumer_state>>& consumers,
                              uint64_t epoch);
  // Ends a transport that failed while being established (not the reader thread).
  void drop_attempt(const std::shared_ptr<transport>& t, uint64_t generation, const failure& why);
  // Starts a transport to `uri` (or the fixed one), does the Connect handshake and, after the
  // first connection, replays the state. Failover thread (or start()).
  result<void> attempt(std::shared_ptr<transport> t, const std::string& uri, bool first);
  result<void> replay(const std::shared_ptr<transport>& t, uint64_t generation);
  // Passes over the URI list until connected, given up (connection_failed) or stopped.
  result<void> establish(bool first);
  void close_retired();
  void warn(const std::string& line) const;
  void learn_uris(const std::vector<std::string>& uris); // caller holds mutex_
  std::vector<protocol::tcp_uri> uri_snapshot() const;

  std::shared_ptr<transport> fixed_transport_; // a session without failover
  std::string client_id_;
  const connection_options options_;
  const bool failover_;
  failover_url url_;                    // failover: members, options
  std::vector<protocol::tcp_uri> uris_; // members + learned URIs (mutex_)
  std::mt19937_64 rng_;
  std::thread failover_thread_;
  std::condition_variable failover_cv_;  // interrupted_ or stop_ changed
  std::condition_variable connected_cv_; // connected_ or ended_ changed
  std::atomic<uint64_t> next_consumer_id_{1};
  std::atomic<int64_t> last_sent_ns_{0};     // steady clock
  std::atomic<int64_t> last_received_ns_{0}; // steady clock

  mutable std::mutex mutex_;
  std::condition_variable sends_cv_; // unreceipted_sends_ went down
  std::condition_variable keeper_cv_;
  uint64_t next_correlation_ = 0;
  std::unordered_map<uint64_t, pending_request> pending_;
  size_t unreceipted_sends_ = 0;
  std::map<uint64_t, std::shared_ptr<consumer_state>> consumers_;
  std::vector<std::weak_ptr<producer_state>> producers_;
  broker_info info_;
  live_link live_;                 // the transport in use or being established
  std::vector<live_link> retired_; // failed transports, closed by the failover thread
  uint64_t generation_ = 0;        // of the last transport started
  uint64_t live_generation_ = 0;   // frames of other generations are ignored
  uint64_t epoch_ = 0;             // interruptions so far
  bool ever_connected_ = false;
  bool interrupted_ = false;       // failover: lost, reconnecting
  bool stop_ = false;              // failover thread: stop
  std::string last_uri_;           // the URI of the last established connection
  bool connected_ = false;         // handshake (and replay) done: writes and heartbeats may go
  uint32_t send_heartbeat_ms_ = 0; // ours: the option, lowered to a third of the node's timeout
  bool ended_ = false;             // failed or closed: no more requests
  bool closed_ = false;            // close() began
  bool disconnecting_ = false;     // Disconnect sent: the node closing the socket is expected
  bool keeper_stop_ = false;
  std::optional<failure> failure_;
  std::thread keeper_;

  // The open local transaction (txn_mutex_ before mutex_): its id, the epoch it began in (a
  // failover since ends it), and its producers with their sequence before they joined.
  struct open_transaction {
    std::string id;
    uint64_t epoch = 0;
    std::vector<std::pair<std::shared_ptr<producer_state>, uint64_t>> producers;
  };
  std::mutex txn_mutex_;
  std::optional<open_transaction> txn_;
  uint64_t transactions_begun_ = 0;
  // Sends Begin for a new transaction (txn_mutex_ held).
  void begin_transaction_locked(uint64_t epoch);
  // The epoch once connected: a transaction begins on a connection, not during a failover's
  // outage (up to the failover timeout).
  uint64_t connected_epoch();

  // The seen set: identities (producer id + sequence) handed to the application without a
  // committed acknowledgement, with the epoch they were handed in; bounded (oldest forgotten).
  mutable std::mutex seen_mutex_;
  std::unordered_map<uint64_t, uint64_t> seen_;
  std::deque<uint64_t> seen_order_;
};

// The identity the seen set keys on: a 64-bit hash of producer id + sequence (origin store +
// sequence without a producer id); 0 = none. A collision can only mark a message redelivered.
uint64_t identity_of(const message& m);

// Failures used across the library.
failure make_failure(client_errc code, std::string what);
// The OpenConsumer frame of a consumer (create_consumer and the failover replay).
wire::Frame open_consumer_frame(const consumer_state& c);
failure broker_failure(const wire::Error& error);
message to_message(wire::Dispatch&& dispatch);
std::string random_hex(size_t bytes);
int64_t now_ms(); // system clock, milliseconds since the epoch

// Shared by the session's files.
// A refused ack (or a request of an older epoch): the failover made its delivery keys meaningless.
failure failed_over_failure();
// The answer given to a CloseConsumer whose consumer went with the old connection.
wire::Frame receipt_frame(uint64_t correlation_id);

inline int64_t steady_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(clock::now().time_since_epoch())
      .count();
}

// A request's deadline: none (time_point::max()) for a timeout of 0 or of a year or more.
inline clock::time_point deadline_after(std::chrono::milliseconds timeout) {
  return timeout.count() > 0 && timeout < std::chrono::hours(24 * 365) ? clock::now() + timeout
                                                                       : clock::time_point::max();
}

} // namespace actormq::client::detail
