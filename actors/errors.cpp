#include "actors/errors.hpp"

#include "storage/backend.hpp"

#include <caf/message_view.hpp>
#include <caf/sec.hpp>
#include <spdlog/spdlog.h>

namespace actormq::actors {

caf::result<caf::message> drop_unexpected(caf::scheduled_actor* self, caf::message_view& msg) {
  spdlog::warn("{} (actor {}) drops an unexpected message: {}", self->name(), self->id(),
               msg.content().stringify());
  return caf::delegated<caf::message>{};
}

caf::error from_store_error(std::error_code ec, const std::string& what) {
  auto code =
      ec == storage::store_errc::store_full ? broker_errc::store_full : broker_errc::store_failed;
  return make_broker_error(code, what + ": " + ec.message());
}

protocol::error_code error_code_of(const caf::error& err) {
  if (err.category() == error_category)
    return static_cast<protocol::error_code>(err.code());
  if (err.category() == caf::atom("system") &&
      err.code() == static_cast<uint8_t>(caf::sec::request_timeout))
    return protocol::error_code::timeout;
  return protocol::error_code::internal;
}

std::string error_text(const caf::error& err) {
  if (err.category() == error_category && err.context().match_elements<std::string>())
    return err.context().get_as<std::string>(0);
  if (err.category() == caf::atom("system"))
    return "internal error: " + to_string(static_cast<caf::sec>(err.code()));
  return "internal error";
}

} // namespace actormq::actors
