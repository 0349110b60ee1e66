// Internal: the shared state of one connection (not part of the public API).
//
// A session owns the transport, answers requests by correlation id from the transport's reader
// thread, routes dispatches to consumers, sends heartbeats and watches for silence (keeper
// thread), and tracks what a failover transport would need to replay: open consumers, producers
// and the persistent sends still awaiting their receipt.
//
// Locking: session::mutex_ is never held while calling a transport, a handler or a consumer;
// a consumer_state's mutex is never held while taking session::mutex_.
#pragma once

#include "client/connection.hpp"
#include "client/consumer.hpp"
#include "client/error.hpp"
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
  std::vector<uint64_t> unacked;   // client/individual mode: handed over, not yet acknowledged
  uint64_t received = 0;
  bool has_listener = false;
  std::thread listener_thread;

  // Marks the consumer failed (connection ended) and wakes its waiters.
  void fail(const failure& why);
};

class session final : public transport_listener, public std::enable_shared_from_this<session> {
public:
  session(std::unique_ptr<transport> transport, connection_options options);
  ~session() override;

  session(const session&) = delete;
  session& operator=(const session&) = delete;

  // Starts the transport, completes the Connect handshake, starts the keeper thread.
  result<void> start();

  // Sends a request with a fresh correlation id; `handler` is called exactly once. `replay`
  // marks a persistent send to keep until receipted. timeout 0 = none.
  void request_async(wire::Frame frame, reply_handler handler, bool replay,
                     std::chrono::milliseconds timeout);
  void request_async(wire::Frame frame, reply_handler handler, bool replay = false) {
    request_async(std::move(frame), std::move(handler), replay, options_.request_timeout);
  }
  // Waits for the answer.
  result<wire::Frame> request(wire::Frame frame, bool replay = false);
  // Sends without a correlation id.
  result<void> send_oneway(const wire::Frame& frame);

  // Fails with closed or the failure that ended the connection, if it ended.
  result<void> check_open() const;

  uint64_t next_consumer_id() { return next_consumer_id_.fetch_add(1); }
  void add_consumer(const std::shared_ptr<consumer_state>& c);
  void remove_consumer(uint64_t id);
  void add_producer(const std::shared_ptr<producer_state>& p);
  void remove_producer(const producer_state* p);

  result<void> close();
  bool is_open() const;
  std::optional<failure> last_failure() const;
  broker_info info() const;
  const connection_options& options() const { return options_; }

  // transport_listener
  void on_frame(wire::Frame& frame) override;
  void on_failure(const failure& why) override;

private:
  struct pending_request {
    reply_handler handler;
    clock::time_point deadline; // time_point::max() = none
    std::chrono::milliseconds timeout{0};
    std::shared_ptr<const wire::Frame> replay; // a persistent send, kept until receipted
  };

  // Removes a pending request (keeping the count of unreceipted sends). Caller holds mutex_.
  std::optional<pending_request> take_pending_locked(uint64_t correlation_id);
  result<void> write(const wire::Frame& frame);
  void fail(const failure& why);
  void end(const failure& why, bool closing);
  void keeper_loop();
  void route_dispatch(wire::Frame& frame);

  std::unique_ptr<transport> transport_;
  const connection_options options_;
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
  bool connected_ = false;         // handshake done: heartbeats may go out
  uint32_t send_heartbeat_ms_ = 0; // ours: the option, lowered to a third of the node's timeout
  bool ended_ = false;             // failed or closed: no more requests
  bool closed_ = false;            // close() began
  bool disconnecting_ = false;     // Disconnect sent: the node closing the socket is expected
  bool keeper_stop_ = false;
  std::optional<failure> failure_;
  std::thread keeper_;
};

// Failures used across the library.
failure make_failure(client_errc code, std::string what);
failure broker_failure(const wire::Error& error);
message to_message(wire::Dispatch&& dispatch);
std::string random_hex(size_t bytes);
int64_t now_ms(); // system clock, milliseconds since the epoch

} // namespace actormq::client::detail
