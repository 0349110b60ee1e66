#include "client/error.hpp"

namespace actormq::client {

namespace {

class client_category_impl final : public std::error_category {
public:
  const char* name() const noexcept override { return "actormq.client"; }
  std::string message(int value) const override {
    switch (static_cast<client_errc>(value)) {
    case client_errc::ok:
      return "success";
    case client_errc::connection_failed:
      return "could not connect to the broker";
    case client_errc::connection_lost:
      return "the connection to the broker was lost";
    case client_errc::timeout:
      return "the broker did not answer in time";
    case client_errc::protocol_error:
      return "the broker sent something this client does not understand";
    case client_errc::bad_argument:
      return "bad argument";
    case client_errc::closed:
      return "closed by the application";
    case client_errc::failed_over:
      return "the connection failed over before the acknowledgement committed";
    case client_errc::transaction_rolled_back:
      return "the transaction was rolled back";
    }
    return "unknown client error " + std::to_string(value);
  }
};

class broker_category_impl final : public std::error_category {
public:
  const char* name() const noexcept override { return "actormq.broker"; }
  std::string message(int value) const override {
    if (wire::ErrorCode_IsValid(value))
      return "broker error " + wire::ErrorCode_Name(static_cast<wire::ErrorCode>(value));
    return "broker error " + std::to_string(value);
  }
};

} // namespace

const std::error_category& client_category() {
  static const client_category_impl instance;
  return instance;
}

std::error_code make_error_code(client_errc e) {
  return {static_cast<int>(e), client_category()};
}

const std::error_category& broker_category() {
  static const broker_category_impl instance;
  return instance;
}

std::error_code make_broker_error_code(wire::ErrorCode code) {
  return {static_cast<int>(code), broker_category()};
}

bool is_broker_error(const std::error_code& ec) {
  return ec && ec.category() == broker_category();
}

wire::ErrorCode broker_code(const std::error_code& ec) {
  if (!is_broker_error(ec))
    return wire::ERROR_NONE;
  return static_cast<wire::ErrorCode>(ec.value());
}

} // namespace actormq::client
