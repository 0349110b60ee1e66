// A consumer receives messages of one queue. Create it with connection::create_consumer().
//
// The node dispatches up to `prefetch` messages ahead into the consumer's buffer; receive() takes
// from it and the consumer returns credit in batches of max(1, prefetch/2). Acknowledgement:
//  - auto: each message is acknowledged once the application is done with it: when it calls
//    receive() again (or closes), or when the listener returned. Acks are batched, sent before
//    receive() waits, and flushed before close() returns. A crash while the application handles a
//    message brings the message again (at-least-once);
//  - client: acknowledge(msg) acknowledges every message this consumer handed out so far;
//  - individual: acknowledge(msg) acknowledges that message only.
// acknowledge() returns once the node has committed the deletes. Unacknowledged messages go back
// to the queue (marked redelivered) when the consumer or the connection closes.
//
// Use receive() or a listener, not both. A consumer is not meant to be used by two threads at
// once, except that acknowledge() may be called from the listener.
#pragma once

#include "client/message.hpp"
#include "common/result.hpp"
#include "config/defaults.hpp"

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>

namespace actormq::client {

namespace detail {
class session;
struct consumer_state;
} // namespace detail

enum class ack_mode {
  auto_acknowledge,       // ActiveMQ's AUTO_ACKNOWLEDGE
  client_acknowledge,     // CLIENT_ACKNOWLEDGE
  individual_acknowledge, // INDIVIDUAL_ACKNOWLEDGE
};

struct consumer_options {
  ack_mode mode = ack_mode::auto_acknowledge;
  // ActiveMQ's queue prefetch, by default the node's limits.default_prefetch; 0 = the node's
  // default.
  uint32_t prefetch = config::default_prefetch;
  int32_t priority = 0; // consumer priority; higher is served first
  // An exclusive consumer (docs/groups.md): it gets every message of the queue while it lives;
  // the next one takes over when it closes. Also "?consumer.exclusive=true" on the destination.
  bool exclusive = false;
  // A durable subscription (topics only, docs/topics.md): the node keeps what is published
  // while no consumer of it is open, under the connection's client id (connection_options::
  // client_id, which must be set) and this name. ActiveMQ's durable and subscriptionName.
  bool durable = false;
  std::string subscription_name;
  // A JMS selector (docs/selectors.md): only the messages it selects reach this consumer; the
  // others stay for other consumers. create_consumer() fails with the node's error (the column
  // and what was expected) if it does not parse.
  std::string selector;
  // Received messages are acknowledged by the connection's commit() (and redelivered after its
  // rollback()), not by acknowledge() (which then fails with bad_argument); `mode` is then
  // client_acknowledge (docs/transactions.md).
  bool transacted = false;
};

class consumer {
public:
  ~consumer(); // close(), ignoring its outcome

  consumer(const consumer&) = delete;
  consumer& operator=(const consumer&) = delete;

  // Waits for the next message. nullopt when `timeout` passed without one (0 = do not wait).
  // Errors: connection_lost (or the broker error that ended the connection), closed,
  // bad_argument (a listener is set).
  result<std::optional<message>> receive(std::chrono::milliseconds timeout);
  // Waits without a deadline.
  result<message> receive();

  // Delivers messages to `listener` on a thread of this consumer instead of receive(). The
  // listener may call acknowledge(). `on_error` (optional) is told once if the connection fails.
  // Errors: bad_argument (a listener is set already), closed.
  result<void> set_listener(std::function<void(const message&)> listener,
                            std::function<void(const failure&)> on_error = {});

  // Client / individual mode: acknowledges (see above) and waits for the node's commit.
  // Auto mode: nothing to do (returns success).
  // Errors: connection_lost (the commit is unknown: the messages may be redelivered), timeout,
  // broker errors (e.g. ERROR_UNKNOWN_DELIVERY), closed, bad_argument (not this consumer's).
  result<void> acknowledge(const message& msg);

  // Flushes auto-acks, closes the consumer on the node (unacknowledged deliveries are redelivered)
  // and stops the listener. Idempotent. From inside the listener it does not wait for the
  // listener thread.
  result<void> close();

  uint64_t id() const;
  const std::string& destination() const;
  uint64_t received() const; // messages handed to the application

private:
  friend class connection;
  consumer(std::shared_ptr<detail::session> session, std::shared_ptr<detail::consumer_state> state);

  std::shared_ptr<detail::session> session_;
  std::shared_ptr<detail::consumer_state> state_;
};

} // namespace actormq::client
