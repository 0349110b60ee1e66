// A producer sends messages to one destination. Create it with connection::create_producer().
//
// Persistent sends (the default) return once the node has stored and synced the message; with
// an async window of N, up to N persistent sends may be outstanding and send() blocks only while
// the window is full. Non-persistent sends are written without asking for a receipt (fire and
// forget) and rely on TCP back-pressure.
//
// Each producer has a random id (32 hex digits) and numbers its messages 1, 2, 3 ...; the node
// uses (producer id, sequence) to recognise resends. A producer is not meant to be used by two
// threads at once; different producers of one connection may be used from different threads.
#pragma once

#include "client/message.hpp"
#include "common/result.hpp"

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

namespace actormq::client {

namespace detail {
class session;
struct producer_state;
} // namespace detail

struct producer_options {
  bool persistent = true;
  int32_t priority = 4;        // 0..9 (JMS default 4)
  int64_t time_to_live_ms = 0; // 0 = messages never expire
  // Persistent sends that may await their receipt at once; 0 = every send waits for its own.
  uint32_t async_window = 0;
  // Called (on the connection's reader thread, or the thread that detected a failure) when a
  // persistent send completes: with its sequence and the outcome. Must not block and must not
  // call back into the producer. It runs before the send stops counting as outstanding, so
  // flush() returns after every callback. For latency measurements; optional.
  std::function<void(uint64_t sequence, const result<void>& outcome)> on_complete;
  // Sends belong to the connection's transaction (connection::commit(), docs/transactions.md):
  // written without waiting for a receipt, held by the node until the commit. async_window and
  // on_complete do not apply.
  bool transacted = false;
};

// Headers of one message besides its properties (JMS's).
struct message_headers {
  std::string correlation_id; // JMSCorrelationID
  std::string reply_to;       // JMSReplyTo: a destination ("queue://replies", a temporary queue)
};

class producer {
public:
  ~producer(); // does not wait for outstanding sends: call flush() (or close()) first

  producer(const producer&) = delete;
  producer& operator=(const producer&) = delete;

  // Sends one message. Persistent + sync: returns once receipted. Persistent + async window:
  // returns once the send is written and the window has room; a failure of an earlier async send
  // is returned by the next send() or flush() (once). Non-persistent: returns once written.
  // Errors: broker errors (e.g. ERROR_STORE_FULL), connection_lost, timeout, closed.
  result<void> send(std::string body, properties props = {});
  // The same, with typed properties too (a selector compares them as numbers or booleans).
  result<void> send(std::string body, properties props, typed_properties typed);
  // The same, with JMS headers (a reply names the request's correlation id).
  result<void> send(std::string body, properties props, typed_properties typed,
                    const message_headers& headers);

  // Waits until every persistent send of this producer is receipted; returns the first failure
  // not yet reported. Errors as send().
  result<void> flush();

  // flush(), then the producer refuses further sends (closed). Idempotent.
  result<void> close();

  const std::string& id() const;          // random, 32 hex digits
  const std::string& destination() const; // canonical "queue://name"
  uint64_t sent() const;                  // messages handed to the connection so far
  uint64_t receipted() const;             // persistent sends acknowledged by the node
  uint64_t duplicates() const;            // receipts that said the node knew the message already
  uint64_t outstanding() const;           // persistent sends awaiting their receipt

private:
  friend class connection;
  producer(std::shared_ptr<detail::session> session, std::shared_ptr<detail::producer_state> state);

  std::shared_ptr<detail::session> session_;
  std::shared_ptr<detail::producer_state> state_;
};

} // namespace actormq::client
