// The envelope: golden bytes of its encoding (docs/storage.md), messages stored by earlier builds
// (serialized wire Messages) read as the same envelope, and the checks every producer's message
// passes.
#include "protocol/envelope.hpp"
#include "protocol/wire_envelope.hpp"

#include "tests/protocol/hex.hpp"

#include <catch2/catch.hpp>

#include <string>

using namespace actormq;
using namespace actormq::protocol;
using actormq::test::hex;

namespace {

envelope sample() {
  envelope e;
  e.set_destination("queue://a");
  e.set_body("hi");
  e.set_persistent(true);
  e.set_priority(7);
  e.set_expiration_ms(1000);
  e.set_timestamp_ms(5);
  e.set_producer_id("p");
  e.set_producer_sequence(3);
  (*e.mutable_properties())["b"] = "2";
  (*e.mutable_properties())["a"] = "1";
  e.set_origin_store_id("s");
  e.set_origin_sequence(9);
  e.set_correlation_id("c");
  e.set_reply_to("queue://r");
  e.set_type("t");
  (*e.mutable_typed_properties())["n"].set_int_value(5);
  e.set_body_type(store::BODY_TEXT);
  e.set_message_id("m");
  return e;
}

} // namespace

TEST_CASE("envelope encoding: golden bytes, map entries in key order", "[protocol][envelope]") {
  std::string out = "left over";
  encode_envelope(sample(), out);
  CHECK(hex(out) == "0a 09 71 75 65 75 65 3a 2f 2f 61 " // 1 destination "queue://a"
                    "12 02 68 69 "                      // 2 body "hi"
                    "18 01 "                            // 3 persistent
                    "20 07 "                            // 4 priority 7
                    "28 e8 07 "                         // 5 expiration_ms 1000
                    "30 05 "                            // 6 timestamp_ms 5
                    "3a 01 70 "                         // 7 producer_id "p"
                    "40 03 "                            // 8 producer_sequence 3
                    "4a 06 0a 01 61 12 01 31 "          // 9 properties a=1
                    "4a 06 0a 01 62 12 01 32 "          // 9 properties b=2
                    "52 01 73 "                         // 10 origin_store_id "s"
                    "58 09 "                            // 11 origin_sequence 9
                    "62 01 63 "                         // 12 correlation_id "c"
                    "6a 09 71 75 65 75 65 3a 2f 2f 72 " // 13 reply_to "queue://r"
                    "72 01 74 "                         // 14 type "t"
                    "7a 07 0a 01 6e 12 02 20 05 "       // 15 typed_properties n = int 5
                    "80 01 01 "                         // 16 body_type TEXT
                    "8a 01 01 6d");                     // 17 message_id "m"
  envelope back;
  REQUIRE(decode_envelope(out, back));
  std::string again;
  encode_envelope(back, again);
  CHECK(again == out);
}

TEST_CASE("an envelope with defaults only encodes to nothing", "[protocol][envelope]") {
  std::string out;
  encode_envelope(envelope{}, out);
  CHECK(out.empty());
}

TEST_CASE("a wire Message stored by an earlier build reads as the same envelope",
          "[protocol][envelope]") {
  wire::Message m;
  m.set_destination("queue://orders");
  m.set_body(std::string("\0\1binary", 8));
  m.set_persistent(true);
  m.set_priority(9);
  m.set_expiration_ms(123456789);
  m.set_timestamp_ms(987654321);
  m.set_producer_id("producer-1");
  m.set_producer_sequence(42);
  (*m.mutable_properties())["k"] = "v";
  m.set_origin_store_id("0c0ffee0-0000-4000-8000-000000000000");
  m.set_origin_sequence(77);
  envelope e;
  REQUIRE(decode_envelope(m.SerializeAsString(), e));
  CHECK(e.destination() == "queue://orders");
  CHECK(e.body() == std::string("\0\1binary", 8));
  CHECK(e.persistent());
  CHECK(e.priority() == 9);
  CHECK(e.expiration_ms() == 123456789);
  CHECK(e.timestamp_ms() == 987654321);
  CHECK(e.producer_id() == "producer-1");
  CHECK(e.producer_sequence() == 42);
  REQUIRE(e.properties().size() == 1);
  CHECK(e.properties().at("k") == "v");
  CHECK(e.origin_store_id() == "0c0ffee0-0000-4000-8000-000000000000");
  CHECK(e.origin_sequence() == 77);
  CHECK(e.typed_properties().empty());
  CHECK(e.body_type() == store::BODY_BYTES);
}

TEST_CASE("bytes that are no envelope do not decode", "[protocol][envelope]") {
  envelope e;
  CHECK_FALSE(decode_envelope(std::string("\x0a\x09queue", 7), e)); // length past the end
  CHECK_FALSE(decode_envelope(std::string("\x07", 1), e));          // wire type 7 is invalid
}

TEST_CASE("wire Message to envelope and back keeps every field", "[protocol][envelope]") {
  wire::Message m;
  m.set_destination("queue://x");
  m.set_body("body");
  m.set_persistent(true);
  m.set_priority(2);
  m.set_expiration_ms(10);
  m.set_timestamp_ms(11);
  m.set_producer_id("p");
  m.set_producer_sequence(12);
  (*m.mutable_properties())["a"] = "b";
  m.set_correlation_id("corr");
  m.set_reply_to("queue://replies");
  m.set_type("order");
  auto original = m;
  envelope e;
  to_envelope(m, e);
  CHECK(e.body() == "body");
  CHECK(e.correlation_id() == "corr");
  CHECK(e.reply_to() == "queue://replies");
  CHECK(e.type() == "order");
  e.set_origin_store_id("store");
  e.set_origin_sequence(5);
  wire::Message back;
  to_wire(e, back);
  original.set_origin_store_id("store");
  original.set_origin_sequence(5);
  CHECK(back.SerializeAsString() == original.SerializeAsString());
}

TEST_CASE("typed properties reach a wire consumer typed", "[protocol][envelope]") {
  envelope e;
  (*e.mutable_typed_properties())["flag"].set_bool_value(true);
  (*e.mutable_typed_properties())["l"].set_long_value(1234567890123);
  (*e.mutable_typed_properties())["d"].set_double_value(0.25);
  (*e.mutable_properties())["text"] = "plain";
  wire::Message m;
  to_wire(e, m);
  CHECK(m.typed_properties().at("flag").bool_value());
  CHECK(m.typed_properties().at("l").long_value() == 1234567890123);
  CHECK(m.typed_properties().at("d").double_value() == 0.25);
  CHECK(m.properties().at("text") == "plain");
  CHECK(m.properties().count("flag") == 0);
  envelope back;
  to_envelope(m, back);
  CHECK(back.typed_properties().at("l").long_value() == 1234567890123);
}

TEST_CASE("property_text gives JMS's text of typed properties", "[protocol][envelope]") {
  store::PropertyValue v;
  v.set_bool_value(true);
  CHECK(property_text(v) == "true");
  v.set_byte_value(-7);
  CHECK(property_text(v) == "-7");
  v.set_short_value(300);
  CHECK(property_text(v) == "300");
  v.set_long_value(1234567890123);
  CHECK(property_text(v) == "1234567890123");
  v.set_float_value(1.5f);
  CHECK(property_text(v) == "1.5");
  v.set_double_value(0.25);
  CHECK(property_text(v) == "0.25");
}

TEST_CASE("check_envelope refuses out-of-range fields, naming them", "[protocol][envelope]") {
  envelope e;
  e.set_priority(4);
  CHECK(check_envelope(e).code == error_code::none);
  e.set_priority(10);
  auto r = check_envelope(e);
  CHECK(r.code == error_code::invalid_field);
  CHECK(r.text == "priority 10 is out of range (0..9)");
  e.set_priority(-1);
  CHECK(check_envelope(e).code == error_code::invalid_field);
  e.set_priority(0);
  e.set_expiration_ms(-5);
  CHECK(check_envelope(e).text.rfind("expiration_ms -5 is negative", 0) == 0);
  e.set_expiration_ms(0);
  e.set_producer_id(std::string(255, 'p'));
  CHECK(check_envelope(e).code == error_code::none);
  e.set_producer_id(std::string(256, 'p'));
  CHECK(check_envelope(e).text == "producer_id of 256 bytes is over the maximum of 255 bytes");
}
