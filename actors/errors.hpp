// Errors the actors report to each other and to clients. Codes equal protocol::error_code's
// (protocol/error_code.hpp), so the session passes them on unchanged.
#pragma once

#include "protocol/error_code.hpp"

#include <caf/atom.hpp>
#include <caf/error.hpp>
#include <caf/make_message.hpp>
#include <caf/result.hpp>
#include <caf/scheduled_actor.hpp>

#include <cstdint>
#include <string>
#include <system_error>

namespace actormq::actors {

enum class broker_errc : uint8_t {
  bad_destination = 6,
  limit_exceeded = 7,
  store_full = 8,
  store_failed = 9,
  unknown_consumer = 10,
  unknown_delivery = 11,
  shutting_down = 12,
  internal = 14,
  timeout = 15,
  invalid_field = 16, // a value the client gave is out of range or does not parse
  unknown_transaction = 17,
  transaction_rolled_back = 18,
};

constexpr caf::atom_value error_category = caf::atom("actormq");

inline caf::error make_broker_error(broker_errc code, std::string what) {
  return caf::error{static_cast<uint8_t>(code), error_category, caf::make_message(std::move(what))};
}

// The default handler of every actor: an unexpected message is logged and dropped. CAF's own
// handlers answer its sender with an error, which ends an actor that does not expect it.
caf::result<caf::message> drop_unexpected(caf::scheduled_actor* self, caf::message_view& msg);

// A storage error as the actors report it.
caf::error from_store_error(std::error_code ec, const std::string& what);

// The session error code and text of any error (CAF's own errors map to internal or timeout).
protocol::error_code error_code_of(const caf::error& err);
std::string error_text(const caf::error& err);

} // namespace actormq::actors
