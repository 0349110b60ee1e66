// The STOMP session codec: frames to commands (whole and one byte at a time), receipts, the
// bookkeeping of subscriptions and acknowledgements, each bad input the codec refuses, golden
// frames for the events, and a message's round trip SEND -> envelope -> MESSAGE.
#include "protocol/envelope.hpp"
#include "protocol/frame_codec.hpp"
#include "protocol/origin_stamp.hpp"
#include "protocol/protobuf_codec.hpp"
#include "protocol/stomp_codec.hpp"

#include <catch2/catch.hpp>

#include <string>
#include <vector>

using namespace actormq;
using namespace actormq::protocol;

using namespace std::string_literals;

namespace {

constexpr int64_t test_now_ms = 1700000000123;

stomp_options test_options() {
  stomp_options o;
  o.now_ms = [] { return test_now_ms; };
  return o;
}

std::vector<command> feed(stomp_codec& codec, const std::string& bytes, size_t chunk) {
  std::vector<command> out;
  for (size_t i = 0; i < bytes.size(); i += chunk) {
    codec.feed(bytes.data() + i, std::min(chunk, bytes.size() - i));
    command cmd;
    while (codec.next(cmd))
      out.push_back(std::move(cmd));
  }
  return out;
}

// The commands of `bytes` fed to a fresh codec whole and, to another, one byte at a time: both
// must make the same commands. Returns the second's.
std::vector<command> commands_of(const std::string& bytes, codec_limits limits = {},
                                 stomp_options options = test_options()) {
  stomp_codec whole(limits, options);
  stomp_codec bytewise(limits, options);
  auto a = feed(whole, bytes, bytes.size() + 1);
  auto b = feed(bytewise, bytes, 1);
  REQUIRE(a.size() == b.size());
  for (size_t i = 0; i < a.size(); ++i) {
    CHECK(a[i].request_id == b[i].request_id);
    CHECK(std::string(command_name(a[i].body)) == command_name(b[i].body));
  }
  CHECK(whole.buffered() == bytewise.buffered());
  return b;
}

const std::string connect_12 = "CONNECT\naccept-version:1.0,1.1,1.2\nhost:h\n\n\0"s;
const std::string connect_11 = "CONNECT\naccept-version:1.1\nhost:h\n\n\0"s;
const std::string connect_10 = "CONNECT\n\n\0"s;

template <class T> T& body_of(command& c) {
  REQUIRE(std::holds_alternative<T>(c.body));
  return std::get<T>(c.body);
}

refused_command& refusal_of(std::vector<command>& cmds) {
  REQUIRE(!cmds.empty());
  return body_of<refused_command>(cmds.back());
}

std::string encode(stomp_codec& codec, uint64_t request_id, const event& ev) {
  std::string out;
  auto r = codec.encode(request_id, ev, out);
  REQUIRE(r.ok());
  return out;
}

std::vector<stomp_frame> frames_of(const std::string& bytes, stomp_version v) {
  stomp_parser parser;
  parser.set_version(v);
  parser.feed(bytes.data(), bytes.size());
  std::vector<stomp_frame> out;
  stomp_frame f;
  while (true) {
    auto r = parser.next(f);
    REQUIRE(r.ok());
    if (!*r)
      break;
    out.push_back(std::move(f));
  }
  CHECK(parser.buffered() == 0);
  return out;
}

// A stored message as the queue delivers it: the envelope's encoding with the origin stamp.
std::string stored(const envelope& e, uint64_t sequence = 42) {
  std::string bytes;
  encode_envelope(e, bytes);
  origin_stamp(bytes, "store-1", sequence);
  return bytes;
}

envelope sample_envelope() {
  envelope e;
  e.set_destination("queue://orders");
  e.set_body("a\0b"s);
  e.set_persistent(true);
  e.set_priority(7);
  e.set_expiration_ms(1800000000000);
  e.set_timestamp_ms(1700000000000);
  e.set_correlation_id("corr-1");
  e.set_reply_to("topic://replies");
  e.set_type("order");
  (*e.mutable_properties())["region"] = "eu:west";
  (*e.mutable_typed_properties())["count"].set_int_value(3);
  (*e.mutable_typed_properties())["urgent"].set_bool_value(true);
  return e;
}

} // namespace

TEST_CASE("STOMP destinations map to ActorMQ's", "[protocol][stomp-codec]") {
  CHECK(*destination_of_stomp("/queue/orders") == "queue://orders");
  CHECK(*destination_of_stomp("/topic/prices.eu") == "topic://prices.eu");
  CHECK(*destination_of_stomp("/temp-queue/r1") == "temp-queue://r1");
  CHECK(*destination_of_stomp("/temp-topic/t1") == "temp-topic://t1");
  CHECK_THAT(destination_of_stomp("orders").message(),
             Catch::Contains("must start with /queue/, /topic/"));
  CHECK_THAT(destination_of_stomp("/queue/").message(), Catch::Contains("empty"));
  CHECK_THAT(destination_of_stomp("/queue/a b").message(), Catch::Contains("bad character"));
  CHECK(stomp_destination_of("queue://orders") == "/queue/orders");
  CHECK(stomp_destination_of("temp-topic://t1") == "/temp-topic/t1");
  CHECK(stomp_destination_of("not a uri") == "not a uri");
}

TEST_CASE("a STOMP destination's name is kept whole, a scheme in it included",
          "[protocol][stomp-codec]") {
  // Not the topic "x": two STOMP destinations never map to one.
  CHECK(*destination_of_stomp("/topic/queue://x") == "topic://queue://x");
  CHECK(*destination_of_stomp("/queue/topic://x") == "queue://topic://x");
  CHECK(stomp_destination_of("topic://queue://x") == "/topic/queue://x");
}

TEST_CASE("CONNECT negotiates the version and keeps login and heart-beat",
          "[protocol][stomp-codec]") {
  auto cmds = commands_of("STOMP\naccept-version:1.1,1.2,2.0\nhost:h\nlogin:alice\npasscode:"
                          "secret\nclient-id:app-1\nheart-beat:10000,5000\n\n\0"s);
  REQUIRE(cmds.size() == 1);
  CHECK(cmds[0].request_id != 0);
  auto& c = body_of<connect_command>(cmds[0]);
  CHECK(c.user == "alice");
  CHECK(c.password == "secret");
  CHECK(c.client_id == "app-1");
  CHECK(c.client_heartbeat_ms == 10000);
  CHECK(c.wanted_heartbeat_ms == 5000);

  stomp_codec codec({}, test_options());
  feed(codec, connect_11, 1);
  CHECK(codec.version() == stomp_version::v1_1);
  stomp_codec old({}, test_options());
  auto old_cmds = feed(old, "CONNECT\nheart-beat:1,1\n\n\0"s, 1);
  CHECK(old.version() == stomp_version::v1_0);
  CHECK(body_of<connect_command>(old_cmds[0]).client_heartbeat_ms == 0); // 1.0 has none
}

TEST_CASE("CONNECT with no version spoken here, or a bad heart-beat, is refused",
          "[protocol][stomp-codec]") {
  stomp_codec codec({}, test_options());
  auto cmds = feed(codec, "CONNECT\naccept-version:2.0,3.1\n\n\0SEND\n\n\0"s, 1);
  REQUIRE(cmds.size() == 1); // nothing after a refusal
  auto& r = refusal_of(cmds);
  CHECK(r.fatal);
  CHECK(r.code == error_code::protocol_version);
  CHECK_THAT(r.text, Catch::Contains("'2.0,3.1'") && Catch::Contains("1.0, 1.1, 1.2"));
  auto error = encode(codec, cmds[0].request_id, error_event{r.code, r.text});
  CHECK(error == "ERROR\nversion:1.0,1.1,1.2\nmessage:" + r.text +
                     "\ncode:protocol_version\ncontent-type:text/plain\ncontent-length:" +
                     std::to_string(r.text.size()) + "\n\n" + r.text + '\0');

  auto hb = commands_of("CONNECT\naccept-version:1.2\nheart-beat:soon\n\n\0"s);
  CHECK(refusal_of(hb).code == error_code::invalid_field);
  CHECK_THAT(refusal_of(hb).text, Catch::Contains("heart-beat 'soon'"));
  auto twice = commands_of(connect_12 + connect_12);
  REQUIRE(twice.size() == 2);
  CHECK_THAT(refusal_of(twice).text, Catch::Contains("CONNECT sent twice"));
}

TEST_CASE("CONNECTED: version, heart-beat, server, session", "[protocol][stomp-codec]") {
  connected_event c;
  c.session_id = 42;
  c.heartbeat_ms = 5000;
  c.inactivity_timeout_ms = 30000;
  SECTION("1.2, the client wants heart-beats") {
    stomp_codec codec({}, test_options());
    auto cmds = feed(codec, "CONNECT\naccept-version:1.2\nheart-beat:0,1000\n\n\0"s, 7);
    CHECK(encode(codec, cmds[0].request_id, c) ==
          "CONNECTED\nversion:1.2\nheart-beat:5000,15000\nserver:ActorMQ/" ACTORMQ_VERSION
          "\nsession:42\n\n\0"s);
    CHECK(encode(codec, 0, heartbeat_event{}) == "\n");
  }
  SECTION("1.2, the client wants none") {
    stomp_codec codec({}, test_options());
    feed(codec, connect_12, 100);
    CHECK(encode(codec, 0, c) == "CONNECTED\nversion:1.2\nheart-beat:0,15000\nserver:ActorMQ/" +
                                     std::string(ACTORMQ_VERSION) + "\nsession:42\n\n\0"s);
    CHECK(encode(codec, 0, heartbeat_event{}).empty());
  }
  SECTION("1.0 has no heart-beats") {
    stomp_codec codec({}, test_options());
    feed(codec, connect_10, 100);
    CHECK(encode(codec, 0, c) == "CONNECTED\nversion:1.0\nserver:ActorMQ/" +
                                     std::string(ACTORMQ_VERSION) + "\nsession:42\n\n\0"s);
    CHECK(encode(codec, 0, heartbeat_event{}).empty());
  }
}

TEST_CASE("SEND becomes an envelope", "[protocol][stomp-codec]") {
  auto cmds =
      commands_of(connect_12 +
                  "SEND\ndestination:/queue/orders\npersistent:true\npriority:7\n"
                  "expires:1800000000000\ncorrelation-id:c\\c1\nreply-to:/temp-queue/ID:c1:r\n"
                  "type:order\nregion:eu\nregion:ignored\ncontent-type:application/x\n"
                  "message-id:client-made\ncontent-length:3\n\na\0b\0"s +
                  "SEND\ndestination:/topic/prices\n\ntext body\0"s);
  REQUIRE(cmds.size() == 3);
  CHECK(cmds[1].request_id == 0); // no receipt asked
  auto& send = body_of<send_command>(cmds[1]);
  auto& e = send.message;
  CHECK(e.destination() == "queue://orders");
  CHECK(e.body() == "a\0b"s);
  CHECK(e.body_type() == store::BODY_BYTES);
  CHECK(e.persistent());
  CHECK(e.priority() == 7);
  CHECK(e.expiration_ms() == 1800000000000);
  CHECK(e.timestamp_ms() == test_now_ms);
  CHECK(e.correlation_id() == "c:1");
  CHECK(e.reply_to() == "temp-queue://ID:c1:r");
  CHECK(e.type() == "order");
  CHECK(e.message_id().empty()); // ActiveMQ ignores a client's message-id
  CHECK(e.properties().size() == 2);
  CHECK(e.properties().at("region") == "eu");
  CHECK(e.properties().at("content-type") == "application/x");
  CHECK(e.typed_properties().empty());
  envelope decoded;
  REQUIRE(decode_envelope(send.encoded, decoded));
  std::string again;
  encode_envelope(decoded, again);
  CHECK(again == send.encoded);
  CHECK(check_envelope(e).code == error_code::none);

  auto& text = body_of<send_command>(cmds[2]).message;
  CHECK(text.destination() == "topic://prices");
  CHECK(text.body() == "text body");
  CHECK(text.body_type() == store::BODY_TEXT);
  CHECK_FALSE(text.persistent());
  CHECK(text.priority() == default_priority);
}

TEST_CASE("a receipt header becomes a request id and its answer a RECEIPT",
          "[protocol][stomp-codec]") {
  stomp_codec codec({}, test_options());
  auto cmds = feed(codec,
                   connect_12 + "SEND\ndestination:/queue/a\nreceipt:r\\c1\n\nx\0"s +
                       "SEND\ndestination:/queue/a\nreceipt:r2\n\ny\0"s,
                   1);
  REQUIRE(cmds.size() == 3);
  auto r1 = cmds[1].request_id;
  auto r2 = cmds[2].request_id;
  CHECK(r1 != 0);
  CHECK(r2 != 0);
  CHECK(r1 != r2);
  CHECK(encode(codec, r2, receipt_event{}) == "RECEIPT\nreceipt-id:r2\n\n\0"s);
  CHECK(encode(codec, r1, receipt_event{}) == "RECEIPT\nreceipt-id:r\\c1\n\n\0"s);
  CHECK(encode(codec, r1, receipt_event{}).empty()); // answered once
  CHECK(encode(codec, 0, receipt_event{}).empty());
}

TEST_CASE("an error answering a receipted frame names its receipt", "[protocol][stomp-codec]") {
  stomp_codec codec({}, test_options());
  auto cmds = feed(codec, connect_12 + "SEND\ndestination:/queue/a\nreceipt:77\n\nx\0"s, 3);
  auto error = encode(codec, cmds[1].request_id,
                      error_event{error_code::store_full, "the store is full\nno room"});
  CHECK(error == "ERROR\nreceipt-id:77\nmessage:the store is full\ncode:store_full\n"
                 "content-type:text/plain\ncontent-length:25\n\nthe store is full\nno room\0"s);
}

TEST_CASE("SUBSCRIBE opens a consumer; the core's answer gives its RECEIPT",
          "[protocol][stomp-codec]") {
  stomp_codec codec({}, test_options());
  auto cmds = feed(codec,
                   connect_12 +
                       "SUBSCRIBE\nid:s1\ndestination:/queue/a\nack:client\n"
                       "activemq.prefetchSize:5\nactivemq.priority:9\nreceipt:sub-1\n\n\0"s +
                       "SUBSCRIBE\nid:s2\ndestination:/topic/t\n\n\0"s +
                       "SUBSCRIBE\nid:s3\ndestination:/queue/b\nack:client-individual\n"
                       "selector:weight > 10\n\n\0"s,
                   1);
  REQUIRE(cmds.size() == 4);
  CHECK(body_of<open_consumer_command>(cmds[3]).selector == "weight > 10");
  CHECK(body_of<open_consumer_command>(cmds[3]).convert_string_expressions);
  CHECK(body_of<open_consumer_command>(cmds[1]).selector.empty());
  auto& a = body_of<open_consumer_command>(cmds[1]);
  CHECK(a.destination == "queue://a");
  CHECK(a.mode == ack_mode::client);
  CHECK_FALSE(a.node_acks);
  CHECK(a.prefetch == 5);
  CHECK(a.priority == 9);
  auto& t = body_of<open_consumer_command>(cmds[2]);
  CHECK(t.destination == "topic://t");
  CHECK(t.mode == ack_mode::auto_ack);
  CHECK(t.node_acks);
  CHECK(t.prefetch == 0);
  CHECK(body_of<open_consumer_command>(cmds[3]).mode == ack_mode::individual);
  CHECK(a.consumer_id != t.consumer_id);
  // Every SUBSCRIBE has a request id; only the one that asked gets a RECEIPT.
  CHECK(cmds[2].request_id != 0);
  CHECK(encode(codec, cmds[1].request_id, receipt_event{}) == "RECEIPT\nreceipt-id:sub-1\n\n\0"s);
  CHECK(encode(codec, cmds[2].request_id, receipt_event{}).empty());
  // A refused open forgets the subscription: its id is free again.
  auto error = encode(codec, cmds[3].request_id,
                      error_event{error_code::limit_exceeded, "too many consumers"});
  CHECK_THAT(error, Catch::StartsWith("ERROR\nmessage:too many consumers\n"));
  auto again = feed(codec, "SUBSCRIBE\nid:s3\ndestination:/queue/b\n\n\0"s, 1);
  REQUIRE(again.size() == 1);
  body_of<open_consumer_command>(again[0]);
}

TEST_CASE("bad SUBSCRIBE and UNSUBSCRIBE frames are refused", "[protocol][stomp-codec]") {
  auto refused = [](const std::string& frame) {
    auto cmds = commands_of(connect_12 + frame);
    REQUIRE(cmds.size() == 2);
    auto r = refusal_of(cmds);
    CHECK(r.fatal);
    return r;
  };
  CHECK_THAT(refused("SUBSCRIBE\ndestination:/queue/a\n\n\0"s).text,
             Catch::Contains("without an id header"));
  CHECK_THAT(refused("SUBSCRIBE\nid:1\n\n\0"s).text, Catch::Contains("without a destination"));
  CHECK(refused("SUBSCRIBE\nid:1\ndestination:queue\n\n\0"s).code == error_code::bad_destination);
  CHECK_THAT(refused("SUBSCRIBE\nid:1\ndestination:/queue/a\nack:sometimes\n\n\0"s).text,
             Catch::Contains("ack 'sometimes'"));
  CHECK_THAT(refused("SUBSCRIBE\nid:1\ndestination:/queue/a\nactivemq.prefetchSize:-1\n\n\0"s).text,
             Catch::Contains("activemq.prefetchSize '-1'"));
  CHECK_THAT(refused("UNSUBSCRIBE\nid:nope\n\n\0"s).text,
             Catch::Contains("no subscription 'nope'"));
  auto dup = commands_of(connect_12 + "SUBSCRIBE\nid:1\ndestination:/queue/a\n\n\0"s +
                         "SUBSCRIBE\nid:1\ndestination:/queue/b\n\n\0"s);
  CHECK_THAT(refusal_of(dup).text, Catch::Contains("subscription id '1' is already in use"));
}

TEST_CASE("UNSUBSCRIBE closes the consumer", "[protocol][stomp-codec]") {
  auto cmds = commands_of(connect_12 + "SUBSCRIBE\nid:s\ndestination:/queue/a\n\n\0"s +
                          "UNSUBSCRIBE\nid:s\nreceipt:u\n\n\0"s);
  REQUIRE(cmds.size() == 3);
  auto id = body_of<open_consumer_command>(cmds[1]).consumer_id;
  CHECK(body_of<close_consumer_command>(cmds[2]).consumer_id == id);
  CHECK(cmds[2].request_id != 0);
  // STOMP 1.0 names the subscription by its destination.
  auto old = commands_of(connect_10 + "SUBSCRIBE\ndestination:/queue/a\n\n\0"s +
                         "UNSUBSCRIBE\ndestination:/queue/a\n\n\0"s);
  REQUIRE(old.size() == 3);
  body_of<close_consumer_command>(old[2]);
}

TEST_CASE("MESSAGE: a delivery as ActiveMQ writes it", "[protocol][stomp-codec]") {
  stomp_codec codec({}, test_options());
  auto cmds = feed(codec,
                   connect_12 + "SUBSCRIBE\nid:sub-0\ndestination:/queue/orders\n"
                                "ack:client-individual\n\n\0"s,
                   1);
  auto consumer = body_of<open_consumer_command>(cmds[1]).consumer_id;
  auto bytes = stored(sample_envelope());
  auto out = encode(codec, 0, delivery_event{consumer, 17, true, 2, bytes});
  CHECK(out == "MESSAGE\ndestination:/queue/orders\nmessage-id:ID\\cstore-1\\c42\n"
               "subscription:sub-0\nack:" +
                   std::to_string(consumer) +
                   "-17\npersistent:true\npriority:7\nexpires:1800000000000\n"
                   "timestamp:1700000000000\ncorrelation-id:corr-1\nreply-to:/topic/replies\n"
                   "type:order\nredelivered:true\ncount:3\nregion:eu\\cwest\nurgent:true\n"
                   "content-length:3\n\na\0b\0"s);
  SECTION("a producer's message id is the message-id") {
    auto e = sample_envelope();
    e.set_message_id("ID:producer-1");
    auto m = frames_of(encode(codec, 0, delivery_event{consumer, 18, false, 1, stored(e)}),
                       stomp_version::v1_2);
    REQUIRE(m.size() == 1);
    CHECK(*m[0].header("message-id") == "ID:producer-1");
    CHECK(m[0].header("redelivered") == nullptr);
  }
  SECTION("an auto subscription's MESSAGE has no ack header") {
    auto more = feed(codec, "SUBSCRIBE\nid:auto\ndestination:/queue/orders\n\n\0"s, 1);
    auto id = body_of<open_consumer_command>(more[0]).consumer_id;
    auto m =
        frames_of(encode(codec, 0, delivery_event{id, 19, false, 1, bytes}), stomp_version::v1_2);
    REQUIRE(m.size() == 1);
    CHECK(m[0].header("ack") == nullptr);
    CHECK(*m[0].header("subscription") == "auto");
  }
  SECTION("a delivery for no subscription cannot be written") {
    std::string none;
    CHECK_FALSE(codec.encode(0, delivery_event{999, 1, false, 1, bytes}, none).ok());
  }
}

TEST_CASE("MESSAGE: a NUL in a property or header value is written as a space",
          "[protocol][stomp-codec]") {
  // A Protobuf producer may send a NUL in any string (it is UTF-8); in a STOMP header it would
  // end the frame.
  for (auto [connect, version] :
       {std::pair{connect_10, stomp_version::v1_0}, std::pair{connect_11, stomp_version::v1_1},
        std::pair{connect_12, stomp_version::v1_2}}) {
    stomp_codec codec({}, test_options());
    auto cmds = feed(codec, connect + "SUBSCRIBE\nid:s\ndestination:/queue/orders\n\n\0"s, 1);
    auto consumer = body_of<open_consumer_command>(cmds[1]).consumer_id;
    auto e = sample_envelope();
    e.set_correlation_id("c\0d"s);
    (*e.mutable_properties())["region"] = "eu\0west"s;
    (*e.mutable_properties())["bad\0name"s] = "x";
    auto m = frames_of(encode(codec, 0, delivery_event{consumer, 1, false, 1, stored(e)}), version);
    REQUIRE(m.size() == 1);
    CHECK(*m[0].header("correlation-id") == "c d");
    CHECK(*m[0].header("region") == "eu west");
    CHECK(m[0].header("bad name") == nullptr);
    CHECK(m[0].body == "a\0b"s);
  }
}

TEST_CASE("ACK and NACK: delivery keys and the credit they held", "[protocol][stomp-codec]") {
  stomp_codec codec({}, test_options());
  auto cmds = feed(codec,
                   connect_12 + "SUBSCRIBE\nid:c\ndestination:/queue/a\nack:client\n\n\0"s +
                       "SUBSCRIBE\nid:i\ndestination:/queue/b\nack:client-individual\n\n\0"s,
                   1);
  auto client = body_of<open_consumer_command>(cmds[1]).consumer_id;
  auto individual = body_of<open_consumer_command>(cmds[2]).consumer_id;
  auto bytes = stored(sample_envelope());
  for (uint64_t key : {10, 11, 12}) {
    (void)encode(codec, 0, delivery_event{client, key, false, 1, bytes});
    (void)encode(codec, 0, delivery_event{individual, key, false, 1, bytes});
  }
  SECTION("client: cumulative") {
    auto acks = feed(codec,
                     "ACK\nid:" + stomp_ack_id(client, 11) + "\nreceipt:a1\n\n" + '\0' +
                         "ACK\nid:" + stomp_ack_id(client, 12) + "\n\n" + '\0',
                     1);
    REQUIRE(acks.size() == 4);
    CHECK(acks[0].request_id != 0);
    auto& first = body_of<ack_command>(acks[0]);
    CHECK(first.consumer_id == client);
    CHECK(first.delivery_keys == std::vector<uint64_t>{10, 11});
    CHECK_FALSE(first.reject);
    auto& credit = body_of<credit_command>(acks[1]);
    CHECK(credit.consumer_id == client);
    CHECK(credit.credit == 2);
    CHECK(body_of<ack_command>(acks[2]).delivery_keys == std::vector<uint64_t>{12});
    CHECK(acks[2].request_id == 0);
    CHECK(body_of<credit_command>(acks[3]).credit == 1);
    CHECK(encode(codec, acks[0].request_id, receipt_event{2}) == "RECEIPT\nreceipt-id:a1\n\n\0"s);
  }
  SECTION("client-individual: one at a time; NACK rejects") {
    auto acks = feed(codec, "NACK\nid:" + stomp_ack_id(individual, 11) + "\n\n" + '\0', 1);
    REQUIRE(acks.size() == 2);
    auto& nack = body_of<ack_command>(acks[0]);
    CHECK(nack.delivery_keys == std::vector<uint64_t>{11});
    CHECK(nack.reject);
    CHECK(body_of<credit_command>(acks[1]).credit == 1);
    auto next = feed(codec, "ACK\nid:" + stomp_ack_id(individual, 10) + "\n\n" + '\0', 1);
    CHECK(body_of<ack_command>(next[0]).delivery_keys == std::vector<uint64_t>{10});
  }
  SECTION("an ACK for an id acknowledged already is refused") {
    auto acks = feed(codec,
                     "ACK\nid:" + stomp_ack_id(individual, 10) + "\n\n" + '\0' +
                         "ACK\nid:" + stomp_ack_id(individual, 10) + "\nreceipt:again\n\n" + '\0',
                     1);
    REQUIRE(acks.size() == 3);
    auto& r = refusal_of(acks);
    CHECK(r.code == error_code::unknown_delivery);
    CHECK(r.fatal);
    CHECK_THAT(r.text,
               Catch::Contains("ACK for an unknown id '" + stomp_ack_id(individual, 10) + "'"));
    CHECK(acks[2].request_id != 0); // the ERROR names the receipt
    CHECK_THAT(encode(codec, acks[2].request_id, error_event{r.code, r.text}),
               Catch::StartsWith("ERROR\nreceipt-id:again\n"));
  }
  SECTION("ACK ids that name nothing") {
    for (auto id : {"nonsense"s, "999-10"s, stomp_ack_id(client, 99)}) {
      stomp_codec fresh({}, test_options());
      auto r = feed(fresh, connect_12 + "ACK\nid:" + id + "\n\n" + '\0', 1);
      CHECK(refusal_of(r).code == error_code::unknown_delivery);
    }
    auto none = feed(codec, "ACK\n\n\0"s, 1);
    CHECK_THAT(refusal_of(none).text, Catch::Contains("ACK without an id header"));
  }
}

TEST_CASE("BEGIN, COMMIT, ABORT and the transaction header of SEND, ACK and NACK",
          "[protocol][stomp-codec]") {
  stomp_codec codec({}, test_options());
  auto cmds = feed(
      codec, connect_12 + "SUBSCRIBE\nid:i\ndestination:/queue/b\nack:client-individual\n\n\0"s, 1);
  auto consumer = body_of<open_consumer_command>(cmds[1]).consumer_id;
  auto bytes = stored(sample_envelope());
  for (uint64_t key : {10, 11})
    (void)encode(codec, 0, delivery_event{consumer, key, false, 1, bytes});
  auto frames = feed(codec,
                     "BEGIN\ntransaction:tx1\nreceipt:b\n\n\0"s +
                         "SEND\ndestination:/queue/a\ntransaction:tx1\n\nx\0"s +
                         "ACK\nid:" + stomp_ack_id(consumer, 10) + "\ntransaction:tx1\n\n" + '\0' +
                         "NACK\nid:" + stomp_ack_id(consumer, 11) + "\ntransaction:tx1\n\n" + '\0' +
                         "COMMIT\ntransaction:tx1\nreceipt:c\n\n\0"s,
                     1);
  REQUIRE(frames.size() == 7);
  CHECK(body_of<begin_command>(frames[0]).transaction_id == "tx1");
  CHECK(frames[0].request_id != 0);
  CHECK(body_of<send_command>(frames[1]).transaction_id == "tx1");
  auto& ack = body_of<ack_command>(frames[2]);
  CHECK(ack.transaction_id == "tx1");
  CHECK_FALSE(ack.reject);
  auto& nack = body_of<ack_command>(frames[4]);
  CHECK(nack.transaction_id == "tx1");
  CHECK(nack.reject);
  CHECK(body_of<commit_command>(frames[6]).transaction_id == "tx1");
  CHECK(encode(codec, frames[6].request_id, receipt_event{3}) == "RECEIPT\nreceipt-id:c\n\n\0"s);
  auto abort = feed(codec, "ABORT\ntransaction:tx2\n\n\0"s, 1);
  REQUIRE(abort.size() == 1);
  CHECK(body_of<rollback_command>(abort[0]).transaction_id == "tx2");
  CHECK(abort[0].request_id == 0);
}

TEST_CASE("STOMP 1.1 and 1.0 acknowledge by message-id", "[protocol][stomp-codec]") {
  auto e = sample_envelope();
  for (auto connect : {connect_11, connect_10}) {
    stomp_codec codec({}, test_options());
    auto cmds =
        feed(codec, connect + "SUBSCRIBE\nid:s\ndestination:/queue/a\nack:client\n\n\0"s, 1);
    auto consumer = body_of<open_consumer_command>(cmds[1]).consumer_id;
    auto v = codec.version();
    auto m1 = frames_of(encode(codec, 0, delivery_event{consumer, 5, false, 1, stored(e, 1)}), v);
    auto m2 = frames_of(encode(codec, 0, delivery_event{consumer, 6, false, 1, stored(e, 2)}), v);
    CHECK(m1[0].header("ack") == nullptr); // only 1.2 has it
    auto id = *m2[0].header("message-id");
    CHECK(id == "ID:store-1:2");
    std::string ack = v == stomp_version::v1_1 ? "ACK\nsubscription:s\nmessage-id:" + id
                                               : "ACK\nmessage-id:" + id;
    auto acks = feed(codec, ack + "\n\n" + '\0', 1);
    REQUIRE(acks.size() == 2);
    CHECK(body_of<ack_command>(acks[0]).delivery_keys == std::vector<uint64_t>{5, 6});
  }
}

TEST_CASE("DISCONNECT ends the frames; its receipt comes from the core's answer",
          "[protocol][stomp-codec]") {
  stomp_codec codec({}, test_options());
  auto cmds = feed(codec, connect_12 + "DISCONNECT\nreceipt:bye\n\n\0SEND\n\n\0"s, 1);
  REQUIRE(cmds.size() == 2);
  body_of<disconnect_command>(cmds[1]);
  CHECK(encode(codec, cmds[1].request_id, receipt_event{}) == "RECEIPT\nreceipt-id:bye\n\n\0"s);
}

TEST_CASE("STOMP bad input the codec refuses, each naming the problem", "[protocol][stomp-codec]") {
  auto refused = [](const std::string& bytes, error_code code, const std::string& text,
                    codec_limits limits = {}, stomp_options options = test_options()) {
    auto cmds = commands_of(bytes, limits, options);
    auto& r = refusal_of(cmds);
    CHECK(r.fatal);
    CHECK(r.code == code);
    CHECK_THAT(r.text, Catch::Contains(text));
    return cmds;
  };
  refused("SEND\ndestination:/queue/a\n\nx\0"s, error_code::not_connected,
          "a SEND frame before CONNECT");
  refused(connect_12 + "destination:/queue/a\n\nx\0"s, error_code::unknown_command,
          "without a command");
  refused(connect_12 + "PUBLISH\n\nx\0"s, error_code::unknown_command, "unknown command 'PUBLISH'");
  refused(connect_12 + "SEND\ndestination /queue/a\n\nx\0"s, error_code::malformed_frame,
          "has no colon");
  refused(connect_12 + "SEND\ndestination:/queue/a\\x\n\nx\0"s, error_code::malformed_frame,
          "undefined escape '\\x'");
  refused(connect_12 + "SEND\ndestination:/queue/a\ncontent-length:2\n\nxyz\0"s,
          error_code::malformed_frame, "content-length does not match the body");
  refused(connect_12 + "SEND\ndestination:/queue/a\ncontent-length:9\n\nxyz\0SEND\n\n\0"s,
          error_code::malformed_frame, "content-length does not match the body");
  refused(connect_12 + "SEND\ndestination:/queue/a\ncontent-length:-3\n\nxyz\0"s,
          error_code::malformed_frame, "content-length '-3'");
  refused(connect_12 + "SEND\ndestination:/queue/a\ncontent-length:three\n\nxyz\0"s,
          error_code::malformed_frame, "content-length 'three'");
  refused(connect_12 + "SEND\ndestination:/queue/a\n\n" + std::string(2000, 'x') + '\0',
          error_code::frame_too_large, "over the frame limit of 1024 bytes", codec_limits{1024});
  stomp_options few = test_options();
  few.max_headers = 4;
  refused(connect_12 + "SEND\ndestination:/queue/a\na:1\nb:2\nc:3\nd:4\n\nx\0"s,
          error_code::frame_too_large, "more than 4 headers", {}, few);
  refused(connect_12 + "SEND\n\nx\0"s, error_code::bad_destination,
          "SEND without a destination header");
  refused(connect_12 + "SEND\ndestination:/queue/a\npriority:10\n\nx\0"s, error_code::invalid_field,
          "priority '10'");
  refused(connect_12 + "SEND\ndestination:/queue/a\npersistent:yes\n\nx\0"s,
          error_code::invalid_field, "persistent 'yes'");
  refused(connect_12 + "SEND\ndestination:/queue/a\nexpires:-1\n\nx\0"s, error_code::invalid_field,
          "expires '-1'");
  // Latin-1, not UTF-8: stored, the message would not decode again.
  refused(connect_12 + "SEND\ndestination:/queue/a\ncity:M\xfcnchen\n\nx\0"s,
          error_code::invalid_field, "header 'city' is not UTF-8");
  refused(connect_12 + "SEND\ndestination:/queue/a\n\xff:1\n\nx\0"s, error_code::invalid_field,
          "is not UTF-8");
  refused(connect_12 + "BEGIN\n\n\0"s, error_code::invalid_field,
          "BEGIN without a transaction header");
  refused(connect_12 + "COMMIT\ntransaction:\n\n\0"s, error_code::invalid_field,
          "COMMIT without a transaction header");
  // A message must fit a Protobuf consumer's frame too.
  std::string body(max_message_bytes(2048) + 1, 'b');
  refused(connect_12 + "SEND\ndestination:/queue/a\ncontent-length:" + std::to_string(body.size()) +
              "\n\n" + body + '\0',
          error_code::frame_too_large, "over this node's maximum", codec_limits{2048});

  auto server_frame = commands_of(connect_12 + "MESSAGE\n\n\0SEND\n\n\0"s);
  REQUIRE(server_frame.size() == 2);
  CHECK(body_of<unexpected_command>(server_frame[1]).name == "MESSAGE");
}

TEST_CASE("a refusal of a frame with a receipt answers that receipt", "[protocol][stomp-codec]") {
  stomp_codec codec({}, test_options());
  auto cmds = feed(codec, connect_12 + "SEND\ndestination:nowhere\nreceipt:s-9\n\nx\0"s, 1);
  REQUIRE(cmds.size() == 2);
  auto& r = refusal_of(cmds);
  CHECK(r.name == "send");
  std::string escaped; // STOMP 1.2 writes a colon in a header as \c
  for (char c : r.text)
    escaped += c == ':' ? "\\c"s : std::string(1, c);
  CHECK(encode(codec, cmds[1].request_id, error_event{r.code, r.text}) ==
        "ERROR\nreceipt-id:s-9\nmessage:" + escaped +
            "\ncode:bad_destination\ncontent-type:text/plain\ncontent-length:" +
            std::to_string(r.text.size()) + "\n\n" + r.text + '\0');
}

TEST_CASE("STOMP has no frame for browse or stats replies", "[protocol][stomp-codec]") {
  stomp_codec codec({}, test_options());
  std::string out;
  CHECK_FALSE(codec.encode(1, browse_reply_event{}, out).ok());
  CHECK_FALSE(codec.encode(1, stats_reply_event{}, out).ok());
  CHECK(out.empty());
}

TEST_CASE("a message's round trip: SEND -> envelope -> MESSAGE keeps headers and body",
          "[protocol][stomp-codec]") {
  std::string body;
  for (int i = 0; i < 256; ++i)
    body.push_back(static_cast<char>(i));
  stomp_codec producer({}, test_options());
  auto sent = feed(producer,
                   connect_12 +
                       "SEND\ndestination:/queue/orders\npersistent:true\npriority:2\n"
                       "correlation-id:c-1\nreply-to:/queue/replies\ntype:t\n"
                       "x-line:a\\nb\\cc\ncontent-type:application/octet-stream\n"
                       "content-length:256\n\n" +
                       body + '\0',
                   1);
  REQUIRE(sent.size() == 2);
  auto& send = body_of<send_command>(sent[1]);
  std::string payload = send.encoded;
  origin_stamp(payload, "store-1", 9); // as the queue stores it

  stomp_codec consumer({}, test_options());
  auto opened = feed(consumer,
                     "CONNECT\naccept-version:1.2\n\n\0SUBSCRIBE\nid:s\ndestination:/queue/orders\n"
                     "\n\0"s,
                     1);
  auto id = body_of<open_consumer_command>(opened[1]).consumer_id;
  auto frames =
      frames_of(encode(consumer, 0, delivery_event{id, 1, false, 1, payload}), stomp_version::v1_2);
  REQUIRE(frames.size() == 1);
  auto& m = frames[0];
  CHECK(m.command == "MESSAGE");
  CHECK(m.body == body);
  CHECK(*m.header("destination") == "/queue/orders");
  CHECK(*m.header("persistent") == "true");
  CHECK(*m.header("priority") == "2");
  CHECK(*m.header("correlation-id") == "c-1");
  CHECK(*m.header("reply-to") == "/queue/replies");
  CHECK(*m.header("type") == "t");
  CHECK(*m.header("x-line") == "a\nb:c");
  CHECK(*m.header("content-type") == "application/octet-stream");
  CHECK(*m.header("content-length") == "256");
  CHECK(*m.header("timestamp") == std::to_string(test_now_ms));
  CHECK(*m.header("message-id") == "ID:store-1:9");
}
