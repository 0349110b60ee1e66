// The error codes of a session, whatever its protocol. The numbers are those of the Protobuf
// protocol's ErrorCode (protocol/actormq.proto), which never change; other codecs translate them
// (a STOMP ERROR frame names the code in a header). Plain C++ (no CAF).
#pragma once

#include <cstdint>

namespace actormq::protocol {

enum class error_code : uint32_t {
  none = 0,
  malformed_frame = 1,          // the frame did not parse
  frame_too_large = 2,          // over the node's maximum frame size
  unknown_command = 3,          // a command this node does not know (or none)
  protocol_version = 4,         // the client's version is not supported
  not_connected = 5,            // a command arrived before connect
  bad_destination = 6,          // empty or malformed destination name
  limit_exceeded = 7,           // too many connections, consumers or destinations
  store_full = 8,               // the store has no room; nothing was stored
  store_failed = 9,             // the store failed the operation; nothing was stored
  unknown_consumer = 10,        // ack or credit for a consumer the session does not have
  unknown_delivery = 11,        // ack for a delivery never made (or already acknowledged)
  shutting_down = 12,           // the node is stopping
  authentication = 13,          // bad credentials
  internal = 14,                // a bug; the text says what
  timeout = 15,                 // the node did not finish the request in time
  invalid_field = 16,           // a field's value is out of range or unknown; the text names it
  unknown_transaction = 17,     // a transaction the connection has not begun (or that ended)
  transaction_rolled_back = 18, // a commit failed: nothing of the transaction was applied
};

} // namespace actormq::protocol
