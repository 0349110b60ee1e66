// The console's answers: JSON bodies that are never cached, errors as {"error", "status"}, and
// the HTTP status an actor's error maps to.
#include "actors/console_impl.hpp"
#include "actors/console_json.hpp"
#include "actors/errors.hpp"

namespace actormq::actors {

using console_detail::console_text;
using console_detail::http_error;
using console_detail::json;

http_error console::impl::status_of(const caf::error& err) {
  int status = 500;
  if (err.category() == error_category) {
    switch (static_cast<broker_errc>(err.code())) {
    case broker_errc::bad_destination:
      status = 400;
      break;
    case broker_errc::limit_exceeded:
      status = 429;
      break;
    case broker_errc::store_full:
      status = 507;
      break;
    case broker_errc::shutting_down:
      status = 503;
      break;
    case broker_errc::timeout:
      status = 504;
      break;
    default:
      break;
    }
  } else if (err == caf::sec::request_timeout) {
    status = 504;
  }
  return http_error{status, error_text(err)};
}

void console::impl::set_json(httplib::Response& res, int status, std::string body) {
  res.status = status;
  res.set_header("Cache-Control", "no-store");
  res.set_content(std::move(body), "application/json; charset=utf-8");
}

void console::impl::set_error(httplib::Response& res, int status, const std::string& message) {
  json answer = json::object();
  answer["error"] = message;
  answer["status"] = status;
  set_json(res, status, console_text(answer));
}

void console::impl::set_error(httplib::Response& res, const http_error& e) {
  set_error(res, e.status, e.message);
}

} // namespace actormq::actors
