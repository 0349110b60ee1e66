// Errors of the client library. Every call returns result<T>; nothing throws out of the library.
//
// Two categories:
//  - client_category(): what went wrong on this side (client_errc below).
//  - broker_category(): the node answered with an Error frame; the code's value is the wire
//    actormq.wire.ErrorCode (ERROR_STORE_FULL = 8, ...) and failure.what holds the node's message.
//    is_broker_error() and broker_code() read such codes.
#pragma once

#include "protocol/actormq.pb.h"

#include <string>
#include <system_error>

namespace actormq::client {

// Pinned numbers: they are part of the API.
enum class client_errc {
  ok = 0,
  connection_failed = 1, // could not connect to any broker URI, or the Connect handshake failed
  connection_lost = 2,   // the connection dropped while the call was under way (or before it)
  timeout = 3,           // no answer within the request timeout (or the receive deadline)
  // 4 is reserved: errors reported by the node carry broker_category() codes instead.
  protocol_error = 5, // the node sent a frame this client cannot make sense of
  bad_argument = 6,   // bad URL, destination, option or message (the text says which)
  closed = 7,         // the connection, producer or consumer was closed by the application
  // Failover: an acknowledgement of messages delivered before the connection failed over (or one
  // under way when it did). Those messages are (or may be) delivered again, marked redelivered.
  failed_over = 8,
  // A commit did not apply (ActiveMQ's TransactionRolledBackException): the node refused or
  // failed it, or its outcome could not be known (the connection failed over or was lost before
  // the answer). Nothing of the transaction was applied, or (outcome unknown) all of it was
  // once: redo the same sends, which reuse the rolled-back sequences, so that the node's
  // producer audit drops them if they were stored (docs/transactions.md).
  transaction_rolled_back = 9,
};
const std::error_category& client_category();
std::error_code make_error_code(client_errc e);

// Error codes whose value is a wire::ErrorCode sent by the node.
const std::error_category& broker_category();
std::error_code make_broker_error_code(wire::ErrorCode code);

// True if `ec` came from an Error frame of the node.
bool is_broker_error(const std::error_code& ec);

// The wire code of a broker error; ERROR_NONE for any other error code.
wire::ErrorCode broker_code(const std::error_code& ec);

} // namespace actormq::client

namespace std {
template <> struct is_error_code_enum<actormq::client::client_errc> : true_type {};
} // namespace std
