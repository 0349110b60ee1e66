// A connection to an ActorMQ node over the client protocol. Plain C++: POSIX sockets + threads.
//
//   auto conn = actormq::client::connection::open("tcp://127.0.0.1:61616");
//   if (!conn) { std::cerr << conn.message() << "\n"; return 1; }
//   auto prod = (*conn)->create_producer("queue://orders");
//   auto sent = (*prod)->send("hello");
//
// URLs: tcp://host:port, or failover:(tcp://a:1,tcp://b:2)?options: a connection that reconnects
// (with back-off) when the node goes away, replays its consumers and resends the persistent sends
// not yet receipted (docs/failover.md). A connection, its producers and consumers may be used from
// different threads; each producer and consumer by one at a time.
// Producers and consumers may outlive the connection object (their calls then fail with closed).
#pragma once

#include "client/consumer.hpp"
#include "client/error.hpp"
#include "client/message.hpp"
#include "client/producer.hpp"
#include "client/transport.hpp"
#include "common/result.hpp"

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

namespace actormq::client {

namespace detail {
class session;
} // namespace detail

struct connection_options {
  // ActiveMQ's clientId: one connection at a time may use it (the node refuses a second one);
  // durable subscriptions belong to it. Empty: a random one (no durable subscriptions).
  std::string client_id;
  std::string user;
  std::string password;
  // Per TCP connection attempt (and for the Connect handshake).
  std::chrono::milliseconds connect_timeout{10000};
  // How long a request (receipted send, ack, consumer open/close, browse, stats, purge) may wait
  // for its answer; 0 = no limit.
  std::chrono::milliseconds request_timeout{30000};
  // The client sends a Heartbeat when it has sent nothing for this long (but at least every third
  // of the node's inactivity timeout); 0 = never. It treats the connection as dead when nothing
  // arrived for max(3 x the node's heartbeat, 1 s) (if the node sends heartbeats at all).
  uint32_t heartbeat_ms = 10000;
  uint32_t max_frame_bytes = protocol::default_max_frame_bytes;
  // Told once (from an internal thread) when the connection fails after open(): the node closed
  // it, sent a fatal Error, stopped answering, or the socket failed. Must not block.
  // With a failover URL that is when the failover transport gives up (maxReconnectAttempts).
  std::function<void(const failure&)> on_failure;
  // Failover URLs only (the transport listener): told (from an internal thread) when the
  // connection was lost and the transport starts reconnecting, and when it is connected again
  // (to `uri`, after consumers were reopened and unreceipted sends resent). Must not block.
  std::function<void(const failure& why)> on_interrupted;
  std::function<void(const std::string& uri)> on_resumed;
  // Warnings of the library (failover options accepted without effect, reconnect attempts going
  // on for long): one line each. Empty: written to stderr.
  std::function<void(const std::string&)> on_warning;
};

// What the node said in Connected.
struct broker_info {
  std::string remote; // the URI connected to, "tcp://host:port"
  std::string node_name;
  std::string store_id;
  uint64_t session_id = 0;
  uint32_t heartbeat_ms = 0;              // how often the node sends heartbeats; 0 = never
  uint32_t inactivity_timeout_ms = 0;     // the node drops connections silent for this long
  std::vector<std::string> failover_uris; // nodes sharing this node's store (updated live)
  uint64_t failovers = 0;                 // how many times the connection was re-established
};

// What request() sends with.
struct request_options {
  std::chrono::milliseconds timeout{30000}; // for the reply
  bool persistent = true;                   // the request message's delivery mode
  properties props;
};

class connection {
public:
  // Parses `broker_url` (protocol::parse_broker_url), connects and completes the handshake.
  // Errors: bad_argument (the URL parser's message), connection_failed (every member named with
  // its cause), broker errors (e.g. ERROR_AUTHENTICATION), timeout.
  static result<std::unique_ptr<connection>> open(const std::string& broker_url,
                                                  connection_options options = {});

  // The same over a transport the caller made (not yet started): the seam for other transports
  // and for tests.
  static result<std::unique_ptr<connection>> open(std::unique_ptr<transport> transport,
                                                  connection_options options = {});

  ~connection(); // close(), ignoring its outcome

  connection(const connection&) = delete;
  connection& operator=(const connection&) = delete;

  // Destinations are "queue://name", a bare queue name or "topic://name" (a consumer on a topic
  // is a non-durable subscriber: it gets what is published while it is open, unless
  // consumer_options::durable makes it a durable subscription's). Errors: bad_argument
  // (bad destination or option; a durable consumer without the connection's client id, a
  // subscription name or a topic), closed, connection_lost.
  result<std::unique_ptr<producer>> create_producer(const std::string& destination,
                                                    producer_options options = {});
  // Also waits for the node's Receipt. ActiveMQ's consumer options may follow the destination
  // ("queue://q?consumer.exclusive=true&consumer.priority=5", docs/groups.md); they override
  // `options`. Errors additionally: timeout, broker errors.
  result<std::unique_ptr<consumer>> create_consumer(const std::string& destination,
                                                    consumer_options options = {});

  // Pending messages of a queue without consuming them (max 0 = the node's default limit).
  result<browse_result> browse(const std::string& destination, uint32_t max_messages = 0);
  // Every destination of the node.
  result<std::vector<destination_stats>> stats();
  // Removes every pending message of a queue; returns how many.
  result<uint64_t> purge(const std::string& destination);
  // Moves up to max_messages messages (0: up to 1000) of a dead-letter queue back to their
  // original destinations (ActiveMQ's retry); returns how many moved.
  result<uint64_t> retry(const std::string& destination, uint32_t max_messages = 0);
  // Removes the durable subscription `subscription_name` of this connection's client id and
  // what it holds; returns how many messages went. Errors: bad_argument (no client id set, no
  // name), broker errors (ERROR_INVALID_FIELD: no such subscription, or a consumer of it is
  // open), closed, connection_lost, timeout.
  result<uint64_t> unsubscribe(const std::string& subscription_name);

  // A temporary queue or topic of this connection ("temp-queue://ID:<client id>:<n>"): made on
  // the node before this returns, deleted with its messages when the connection closes or dies;
  // only this connection may consume from it, any connection may send to it while it exists.
  // Errors: closed, connection_lost, timeout, broker errors.
  result<std::string> create_temporary_queue();
  result<std::string> create_temporary_topic();

  // Request/reply: sends `body` to `destination` with a new correlation id and reply_to a
  // temporary queue of this connection (made on the first call, kept until the connection
  // closes), and returns the reply that names that correlation id. Replies to earlier requests
  // that came too late are dropped. One request at a time per connection (calls from several
  // threads wait for each other). Errors: timeout (no reply within options.timeout), those of
  // create_producer, send and receive.
  result<message> request(const std::string& destination, std::string body,
                          request_options options = {});

  // Local transactions (docs/transactions.md): the connection is a transacted session for its
  // transacted producers and consumers (producer_options::transacted, consumer_options::
  // transacted). commit() applies their sends and acknowledges what the consumers received since
  // the last commit or rollback, in one store commit, and returns once it is durable. Errors:
  // transaction_rolled_back (nothing applied; or the outcome is unknown because the connection
  // failed over or was lost: see client_errc::transaction_rolled_back), closed. Nothing to
  // commit: success at once.
  result<void> commit();
  // Drops the transaction's sends; what the transacted consumers received since the last commit
  // is redelivered by the node (marked redelivered, delivery count up). Errors: broker errors,
  // connection_lost, closed.
  result<void> rollback();

  // Orderly close: waits (up to the request timeout) for outstanding persistent sends, flushes
  // auto-acks, sends Disconnect and closes the socket. Later calls on this connection, its
  // producers and consumers fail with closed. Returns the failure that ended the connection
  // earlier, if any. Idempotent.
  result<void> close();

  // False once the connection failed or was closed.
  bool is_open() const;
  // Why the connection ended, if it failed.
  std::optional<failure> last_failure() const;
  broker_info info() const;

private:
  explicit connection(std::shared_ptr<detail::session> session);
  result<std::string> create_temporary(const char* scheme);
  std::shared_ptr<detail::session> session_;
  struct requestor {
    std::mutex mutex; // one request at a time
    std::string reply_queue;
    std::unique_ptr<consumer> replies;
  };
  std::shared_ptr<requestor> requestor_;
  std::atomic<uint64_t> next_temporary_{1};
};

} // namespace actormq::client
