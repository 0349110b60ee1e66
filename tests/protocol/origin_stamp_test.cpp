// origin_stamp: the appended fields parse as the origin identity, whatever came before.
#include "protocol/origin_stamp.hpp"

#include "protocol/actormq.pb.h"

#include <catch2/catch.hpp>

#include <cstdint>
#include <string>

using namespace actormq;
using namespace actormq::protocol;

namespace {

const std::string store_id = "0f8e3b52-5d3c-4c7e-9a55-2f4d8c1e7b90";

wire::Message parsed(const std::string& bytes) {
  wire::Message m;
  REQUIRE(m.ParseFromString(bytes));
  return m;
}

} // namespace

TEST_CASE("origin_stamp sets both fields and keeps the others", "[protocol]") {
  wire::Message m;
  m.set_destination("queue://q");
  m.set_body("hello");
  m.set_producer_id("p1");
  m.set_producer_sequence(7);
  (*m.mutable_properties())["k"] = "v";
  auto bytes = m.SerializeAsString();
  auto before = bytes.size();
  origin_stamp(bytes, store_id, 42);
  CHECK(bytes.size() <= before + origin_stamp_bytes(store_id.size()));
  auto out = parsed(bytes);
  CHECK(out.origin_store_id() == store_id);
  CHECK(out.origin_sequence() == 42);
  CHECK(out.destination() == "queue://q");
  CHECK(out.body() == "hello");
  CHECK(out.producer_id() == "p1");
  CHECK(out.producer_sequence() == 7);
  CHECK(out.properties().at("k") == "v");
}

TEST_CASE("origin_stamp wins over values a producer set", "[protocol]") {
  wire::Message m;
  m.set_origin_store_id("forged");
  m.set_origin_sequence(999);
  auto bytes = m.SerializeAsString();
  origin_stamp(bytes, store_id, 3);
  auto out = parsed(bytes);
  CHECK(out.origin_store_id() == store_id);
  CHECK(out.origin_sequence() == 3);
}

TEST_CASE("origin_stamp encodes the largest sequence within its bound", "[protocol]") {
  std::string bytes;
  origin_stamp(bytes, store_id, UINT64_MAX);
  CHECK(bytes.size() == origin_stamp_bytes(store_id.size()));
  auto out = parsed(bytes);
  CHECK(out.origin_sequence() == UINT64_MAX);
  CHECK(out.origin_store_id() == store_id);
}

TEST_CASE("origin_stamp's golden bytes", "[protocol]") {
  std::string bytes;
  origin_stamp(bytes, "ab", 300);
  // field 10 (length-delimited): tag 0x52, length 2, "ab"; field 11 (varint): tag 0x58, 300.
  CHECK(bytes == std::string("\x52\x02"
                             "ab\x58\xac\x02"));
}
