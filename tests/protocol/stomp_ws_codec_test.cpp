// The STOMP over WebSocket codec: the upgrade (RFC 6455's example key, sub-protocol choice,
// refusals as HTTP answers), masked client frames to commands whole and one byte at a time,
// events as one unmasked message each, pings, the client's close, and the refusals after the
// upgrade (oversized message, a message ending inside a frame, an unmasked frame).
#include "protocol/stomp_ws_codec.hpp"

#include <catch2/catch.hpp>

#include <string>
#include <vector>

using namespace actormq::protocol;
using namespace std::string_literals;

namespace {

// RFC 6455 section 1.3's example key and its accept value.
const std::string sample_key = "dGhlIHNhbXBsZSBub25jZQ==";
const std::string sample_accept = "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=";

std::string upgrade(const std::string& protocols = "v10.stomp, v11.stomp, v12.stomp") {
  std::string r = "GET / HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                  "Sec-WebSocket-Key: " +
                  sample_key + "\r\nSec-WebSocket-Version: 13\r\n";
  if (!protocols.empty())
    r += "Sec-WebSocket-Protocol: " + protocols + "\r\n";
  return r + "\r\n";
}

// A client frame: masked (unless told not to), payloads under 64 KiB.
std::string client_frame(uint8_t opcode, const std::string& payload, bool mask = true) {
  std::string f;
  f.push_back(static_cast<char>(0x80 | opcode));
  uint8_t bit = mask ? 0x80 : 0;
  if (payload.size() < 126) {
    f.push_back(static_cast<char>(bit | payload.size()));
  } else {
    f.push_back(static_cast<char>(bit | 126));
    f.push_back(static_cast<char>(payload.size() >> 8));
    f.push_back(static_cast<char>(payload.size() & 0xff));
  }
  if (!mask)
    return f + payload;
  const char key[4] = {0x11, 0x22, 0x33, 0x44};
  f.append(key, 4);
  for (size_t i = 0; i < payload.size(); ++i)
    f.push_back(static_cast<char>(payload[i] ^ key[i % 4]));
  return f;
}

struct server_frame {
  uint8_t opcode;
  std::string payload;
};

std::vector<server_frame> server_frames(std::string data) {
  std::vector<server_frame> out;
  while (data.size() >= 2) {
    REQUIRE((static_cast<uint8_t>(data[1]) & 0x80) == 0); // the node never masks
    size_t n = static_cast<uint8_t>(data[1]) & 0x7f, at = 2;
    if (n == 126) {
      n = (static_cast<uint8_t>(data[2]) << 8) | static_cast<uint8_t>(data[3]);
      at = 4;
    }
    REQUIRE(data.size() >= at + n);
    out.push_back({static_cast<uint8_t>(data[0] & 0x0f), data.substr(at, n)});
    data = data.substr(at + n);
  }
  return out;
}

std::vector<command> feed(stomp_ws_codec& codec, const std::string& bytes, size_t chunk) {
  std::vector<command> out;
  for (size_t i = 0; i < bytes.size(); i += chunk) {
    codec.feed(bytes.data() + i, std::min(chunk, bytes.size() - i));
    command cmd;
    while (codec.next(cmd))
      out.push_back(std::move(cmd));
  }
  return out;
}

const std::string connect_frame = "CONNECT\naccept-version:1.2\nhost:h\n\n\0"s;

std::string output_of(stomp_ws_codec& codec) {
  std::string out;
  codec.take_output(out);
  return out;
}

} // namespace

TEST_CASE("stomp-ws: the upgrade answers RFC 6455's accept and the highest STOMP sub-protocol",
          "[stomp-ws]") {
  for (size_t chunk : {size_t{1}, size_t{7}, size_t{4096}}) {
    stomp_ws_codec codec({});
    auto commands = feed(codec, upgrade() + client_frame(1, connect_frame), chunk);
    auto answer = output_of(codec);
    INFO(answer);
    CHECK(answer.rfind("HTTP/1.1 101 ", 0) == 0);
    CHECK(answer.find("Sec-WebSocket-Accept: " + sample_accept + "\r\n") != std::string::npos);
    CHECK(answer.find("Sec-WebSocket-Protocol: v12.stomp\r\n") != std::string::npos);
    CHECK(codec.subprotocol() == "v12.stomp");
    REQUIRE(commands.size() == 1);
    CHECK(std::holds_alternative<connect_command>(commands[0].body));
    CHECK(codec.buffered() == 0);
  }
  stomp_ws_codec none({});
  feed(none, upgrade(""), 100);
  CHECK(none.upgraded());
  CHECK(none.subprotocol().empty());
  CHECK(output_of(none).find("Sec-WebSocket-Protocol") == std::string::npos);
}

TEST_CASE("stomp-ws: a request that is no upgrade is refused with an HTTP answer", "[stomp-ws]") {
  struct refusal {
    std::string request, status;
  };
  for (auto& r : std::vector<refusal>{
           {"CONNECT\naccept-version:1.2\n\n\0"s, "400"},
           {"GET / HTTP/1.1\r\nHost: h\r\n\r\n", "400"},
           {upgrade("mqtt"), "400"},
           {"GET / HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            "Sec-WebSocket-Key: x\r\nSec-WebSocket-Version: 8\r\n\r\n",
            "426"},
           {"GET / HTTP/1.1\r\nHost: h\r\nX: " + std::string(17000, 'a'), "431"},
       }) {
    stomp_ws_codec codec({});
    auto commands = feed(codec, r.request, r.request.size());
    REQUIRE(commands.size() == 1);
    auto* refused = std::get_if<refused_command>(&commands[0].body);
    REQUIRE(refused);
    CHECK(refused->fatal);
    std::string out;
    REQUIRE(codec.encode(0, error_event{refused->code, refused->text}, out));
    INFO(out);
    CHECK(out.rfind("HTTP/1.1 " + r.status + " ", 0) == 0);
    CHECK(out.find(refused->text) != std::string::npos);
    CHECK(codec.buffered() == 0);
  }
}

TEST_CASE("stomp-ws: each event is one unmasked message; binary bodies go in binary ones",
          "[stomp-ws]") {
  stomp_ws_codec codec({});
  feed(codec, upgrade() + client_frame(1, connect_frame), 4096);
  output_of(codec);
  std::string out;
  REQUIRE(codec.encode(1, connected_event{"n", "s", 1, 0, 0, {}}, out));
  auto frames = server_frames(out);
  REQUIRE(frames.size() == 1);
  CHECK(frames[0].opcode == 1);
  CHECK(frames[0].payload.rfind("CONNECTED\n", 0) == 0);
  CHECK(frames[0].payload.back() == '\0');

  out.clear();
  REQUIRE(codec.encode(0, heartbeat_event{}, out));
  frames = server_frames(out);
  // A heart-beat is written only when the client asked for them (it did not here).
  CHECK(frames.empty());

  out.clear();
  REQUIRE(codec.encode(0, error_event{error_code::shutting_down, "the node is stopping"}, out));
  frames = server_frames(out);
  REQUIRE(frames.size() == 2);
  CHECK(frames[0].payload.rfind("ERROR\n", 0) == 0);
  CHECK(frames[1].opcode == 8);
  CHECK(frames[1].payload.substr(0, 2) == "\x03\xe9"); // 1001: going away
  out.clear();
  REQUIRE(codec.encode(0, heartbeat_event{}, out));
  CHECK(out.empty()); // nothing after a close frame
}

TEST_CASE("stomp-ws: pings get pongs, a close gets its echo and a disconnect", "[stomp-ws]") {
  stomp_ws_codec codec({});
  feed(codec, upgrade(), 4096);
  output_of(codec);
  auto commands = feed(codec, client_frame(9, "p") + client_frame(8, "\x03\xe8"s), 1);
  auto frames = server_frames(output_of(codec));
  REQUIRE(frames.size() == 2);
  CHECK(frames[0].opcode == 10);
  CHECK(frames[0].payload == "p");
  CHECK(frames[1].opcode == 8);
  CHECK(frames[1].payload == "\x03\xe8"s);
  REQUIRE(commands.size() == 1);
  CHECK(std::holds_alternative<disconnect_command>(commands[0].body));
}

TEST_CASE("stomp-ws: refusals after the upgrade", "[stomp-ws]") {
  struct bad {
    std::string what, bytes, says;
    uint16_t close;
  };
  codec_limits limits;
  limits.max_frame_bytes = 1000;
  const std::string big = "SEND\ndestination:/queue/x\n\n" + std::string(1200, 'y') + '\0';
  for (auto& b : std::vector<bad>{
           {"oversized", client_frame(1, big), "over the frame limit of 1000", 1009},
           {"half a frame", client_frame(1, "SEND\ndestination:/queue/x\n\nab"),
            "ended inside a STOMP frame", 1008},
           {"unmasked", client_frame(1, "SEND\n\n\0"s, false), "WebSocket protocol error", 1002},
           {"not UTF-8", client_frame(1, "SEND\ndestination:/queue/x\n\n\xff\0"s),
            "not valid UTF-8", 1007},
       }) {
    INFO(b.what);
    stomp_ws_codec codec(limits);
    auto commands = feed(codec, upgrade() + client_frame(1, connect_frame) + b.bytes, 4096);
    REQUIRE(commands.size() == 2);
    INFO(command_name(commands[0].body) << " " << command_name(commands[1].body));
    auto* refused = std::get_if<refused_command>(&commands[1].body);
    REQUIRE(refused);
    CHECK_THAT(refused->text, Catch::Contains(b.says));
    output_of(codec);
    std::string out;
    REQUIRE(codec.encode(0, error_event{refused->code, refused->text}, out));
    auto frames = server_frames(out);
    REQUIRE(frames.size() == 2);
    CHECK(frames[0].payload.rfind("ERROR\n", 0) == 0);
    CHECK(frames[1].opcode == 8);
    CHECK(((static_cast<uint8_t>(frames[1].payload[0]) << 8) |
           static_cast<uint8_t>(frames[1].payload[1])) == b.close);
  }
}

TEST_CASE("stomp-ws: nothing is read after a DISCONNECT or a fatal refusal", "[stomp-ws]") {
  const std::string after = client_frame(1, "FROB\n\n\0"s) + client_frame(8, "\x03\xe8"s);
  for (bool disconnect : {true, false}) {
    INFO(disconnect);
    stomp_ws_codec codec({});
    auto last = client_frame(1, disconnect ? "DISCONNECT\n\n\0"s : "NOPE\n\n\0"s);
    auto commands = feed(codec, upgrade() + client_frame(1, connect_frame) + last + after, 3);
    REQUIRE(commands.size() == 2);
    if (disconnect)
      CHECK(std::holds_alternative<disconnect_command>(commands[1].body));
    else
      CHECK(std::holds_alternative<refused_command>(commands[1].body));
    CHECK(codec.buffered() == 0);
  }
}
