// Opening connections to the fake broker in client tests: short timeouts, and a REQUIRE that
// names the failure.
#pragma once

#include "client/client.hpp"

#include <catch2/catch.hpp>

#include <chrono>
#include <memory>
#include <string>

namespace actormq::testing {

inline client::connection_options quick() {
  using namespace std::chrono_literals;
  client::connection_options o;
  o.connect_timeout = 2s;
  o.request_timeout = 5s;
  return o;
}

inline std::unique_ptr<client::connection> open_ok(const std::string& url,
                                                   client::connection_options o = quick()) {
  auto conn = client::connection::open(url, std::move(o));
  INFO(conn.message());
  REQUIRE(conn);
  return std::move(*conn);
}

} // namespace actormq::testing
