// The STOMP frame parser and serializer: every frame fed whole and one byte at a time, EOLs,
// heart-beats, escapes, bodies with and without content-length, each malformed input and limit
// with the text that names it, and golden serialized frames.
#include "protocol/frame_codec.hpp"
#include "protocol/quoted.hpp"
#include "protocol/stomp_frame.hpp"

#include <catch2/catch.hpp>

#include <string>
#include <vector>

using namespace actormq;
using namespace actormq::protocol;

using namespace std::string_literals;

namespace {

struct parsed {
  std::vector<stomp_frame> frames;
  std::error_code error;
  std::string text;
  size_t buffered = 0;
};

parsed parse_with(const std::string& bytes, size_t chunk, const stomp_frame_limits& limits,
                  stomp_version version) {
  stomp_parser parser(limits);
  parser.set_version(version);
  parsed out;
  for (size_t i = 0; i < bytes.size() && !out.error; i += chunk) {
    parser.feed(bytes.data() + i, std::min(chunk, bytes.size() - i));
    stomp_frame f;
    while (true) {
      auto r = parser.next(f);
      if (!r) {
        out.error = r.code();
        out.text = r.message();
        break;
      }
      if (!*r)
        break;
      out.frames.push_back(std::move(f));
    }
  }
  out.buffered = parser.buffered();
  return out;
}

// Parses `bytes` whole and one byte at a time; both must give the same frames (or error).
parsed parse(const std::string& bytes, const stomp_frame_limits& limits = {},
             stomp_version version = stomp_version::v1_2) {
  auto whole = parse_with(bytes, bytes.size() + 1, limits, version);
  auto bytewise = parse_with(bytes, 1, limits, version);
  REQUIRE(whole.frames.size() == bytewise.frames.size());
  for (size_t i = 0; i < whole.frames.size(); ++i) {
    CHECK(whole.frames[i].command == bytewise.frames[i].command);
    CHECK(whole.frames[i].body == bytewise.frames[i].body);
    CHECK(whole.frames[i].headers.size() == bytewise.frames[i].headers.size());
  }
  CHECK(whole.error == bytewise.error);
  CHECK(whole.text == bytewise.text);
  CHECK(whole.buffered == bytewise.buffered);
  return whole;
}

// The error parsing `bytes` gives, whole and bytewise.
parsed parse_error(const std::string& bytes, const stomp_frame_limits& limits = {},
                   stomp_version version = stomp_version::v1_2) {
  auto p = parse(bytes, limits, version);
  REQUIRE(p.error);
  return p;
}

} // namespace

TEST_CASE("a STOMP frame: command, headers, body", "[protocol][stomp-frame]") {
  auto p = parse("CONNECT\naccept-version:1.2\nhost:broker\n\n\0"s);
  REQUIRE(!p.error);
  REQUIRE(p.frames.size() == 1);
  auto& f = p.frames[0];
  CHECK(f.command == "CONNECT");
  REQUIRE(f.headers.size() == 2);
  CHECK(*f.header("accept-version") == "1.2");
  CHECK(*f.header("host") == "broker");
  CHECK(f.header("login") == nullptr);
  CHECK(f.body.empty());
  CHECK_FALSE(f.has_content_length);
  CHECK(p.buffered == 0);
}

TEST_CASE("STOMP lines end in LF or CRLF; empty lines between frames are heart-beats",
          "[protocol][stomp-frame]") {
  auto p = parse("\n\r\nSEND\r\ndestination:/queue/a\r\n\r\nhello\0\n\r\n\n"
                 "SEND\ndestination:/queue/b\n\nworld\0\r\n"s);
  REQUIRE(!p.error);
  REQUIRE(p.frames.size() == 2);
  CHECK(*p.frames[0].header("destination") == "/queue/a");
  CHECK(p.frames[0].body == "hello");
  CHECK(*p.frames[1].header("destination") == "/queue/b");
  CHECK(p.frames[1].body == "world");
  CHECK(p.buffered == 0);

  SECTION("heart-beats alone leave nothing buffered") {
    auto beats = parse("\n\n\r\n\n");
    CHECK(beats.frames.empty());
    CHECK(beats.buffered == 0);
  }
  SECTION("a frame still arriving stays buffered") {
    const std::string partial = "SEND\ndestination:/queue/a\n\nhel";
    auto half = parse(partial);
    CHECK(half.frames.empty());
    CHECK(!half.error);
    CHECK(half.buffered == partial.size());
  }
}

TEST_CASE("a repeated STOMP header: the first counts, all are kept", "[protocol][stomp-frame]") {
  auto p = parse("MESSAGE\nfoo:first\nfoo:second\n\n\0"s);
  REQUIRE(p.frames.size() == 1);
  CHECK(*p.frames[0].header("foo") == "first");
  REQUIRE(p.frames[0].headers.size() == 2);
  CHECK(p.frames[0].headers[1].value == "second");
}

TEST_CASE("STOMP header escapes by version", "[protocol][stomp-frame]") {
  const auto frame = "SEND\nna\\cme:a\\cb\\nc\\rd\\\\e:f\n\n\0"s;
  SECTION("1.2 unescapes \\r \\n \\c \\\\ in names and values; a raw colon stays") {
    auto p = parse(frame);
    REQUIRE(p.frames.size() == 1);
    REQUIRE(p.frames[0].headers.size() == 1);
    CHECK(p.frames[0].headers[0].name == "na:me");
    CHECK(p.frames[0].headers[0].value == "a:b\nc\rd\\e:f");
  }
  SECTION("1.1 has no \\r") {
    auto p = parse_error(frame, {}, stomp_version::v1_1);
    CHECK(p.error == codec_errc::malformed);
    CHECK_THAT(p.text, Catch::Contains("undefined escape '\\r'"));
    auto ok = parse("SEND\nk:a\\cb\\nc\\\\\n\n\0"s, {}, stomp_version::v1_1);
    REQUIRE(ok.frames.size() == 1);
    CHECK(*ok.frames[0].header("k") == "a:b\nc\\");
  }
  SECTION("1.0 does not escape") {
    auto p = parse(frame, {}, stomp_version::v1_0);
    REQUIRE(p.frames.size() == 1);
    CHECK(p.frames[0].headers[0].name == "na\\cme");
    CHECK(p.frames[0].headers[0].value == "a\\cb\\nc\\rd\\\\e:f");
  }
  SECTION("CONNECT and CONNECTED are not escaped") {
    auto p = parse("CONNECT\nlogin:a\\tb\n\n\0CONNECTED\nserver:x\\c\n\n\0"s);
    REQUIRE(p.frames.size() == 2);
    CHECK(*p.frames[0].header("login") == "a\\tb");
    CHECK(*p.frames[1].header("server") == "x\\c");
  }
  SECTION("an undefined escape is an error") {
    auto p = parse_error("SEND\ndestination:/queue/a\\tb\n\n\0"s);
    CHECK(p.error == codec_errc::malformed);
    CHECK_THAT(p.text, Catch::Contains("undefined escape '\\t'") &&
                           Catch::Contains("destination:/queue/a\\tb"));
    auto trailing = parse_error("SEND\nk:v\\\n\n\0"s);
    CHECK_THAT(trailing.text, Catch::Contains("undefined escape '\\'"));
  }
}

TEST_CASE("STOMP bodies with and without content-length", "[protocol][stomp-frame]") {
  SECTION("content-length: binary, NUL inside") {
    auto p = parse("SEND\ncontent-length:7\n\na\0b\0\xff\0c\0"s);
    REQUIRE(!p.error);
    REQUIRE(p.frames.size() == 1);
    CHECK(p.frames[0].body == "a\0b\0\xff\0c"s);
    CHECK(p.frames[0].has_content_length);
  }
  SECTION("content-length 0") {
    auto p = parse("SEND\ncontent-length:0\n\n\0SEND\n\n\0"s);
    REQUIRE(p.frames.size() == 2);
    CHECK(p.frames[0].body.empty());
    CHECK(p.frames[0].has_content_length);
    CHECK_FALSE(p.frames[1].has_content_length);
  }
  SECTION("without content-length, up to the NUL") {
    auto p = parse("SEND\n\nline one\nline two\0"s);
    REQUIRE(p.frames.size() == 1);
    CHECK(p.frames[0].body == "line one\nline two");
  }
}

TEST_CASE("many STOMP frames in one read", "[protocol][stomp-frame]") {
  std::string bytes;
  for (int i = 0; i < 2000; ++i)
    bytes += "SEND\nn:" + std::to_string(i) + "\n\nbody " + std::to_string(i) + '\0' + "\n";
  stomp_parser parser;
  parser.feed(bytes.data(), bytes.size());
  stomp_frame f;
  int n = 0;
  while (true) {
    auto r = parser.next(f);
    REQUIRE(r.ok());
    if (!*r)
      break;
    CHECK(*f.header("n") == std::to_string(n));
    CHECK(f.body == "body " + std::to_string(n));
    ++n;
  }
  CHECK(n == 2000);
  CHECK(parser.buffered() == 0);
  parser.release_memory();
  CHECK(parser.buffered() == 0);
}

TEST_CASE("malformed STOMP frames name the problem", "[protocol][stomp-frame]") {
  SECTION("a frame without a command") {
    auto p = parse_error("destination:/queue/a\n\nbody\0"s);
    CHECK(p.error == codec_errc::unknown_command);
    CHECK_THAT(p.text, Catch::Contains("without a command") &&
                           Catch::Contains("'destination:/queue/a' is a header"));
  }
  SECTION("an unknown command, before its body arrives") {
    auto p = parse_error("FOO\n");
    CHECK(p.error == codec_errc::unknown_command);
    CHECK_THAT(p.text, Catch::Contains("unknown command 'FOO'"));
    auto http = parse_error("GET / HTTP/1.1\r\nHost: x\r\n\r\n");
    CHECK_THAT(http.text, Catch::Contains("unknown command 'GET / HTTP/1.1'"));
  }
  SECTION("a header line without a colon") {
    auto p = parse_error("SEND\ndestination /queue/a\n\n\0"s);
    CHECK(p.error == codec_errc::malformed);
    CHECK_THAT(p.text, Catch::Contains("'destination /queue/a'") && Catch::Contains("no colon"));
  }
  SECTION("a header line without a name") {
    auto p = parse_error("SEND\n:value\n\n\0"s);
    CHECK_THAT(p.text, Catch::Contains("no name"));
  }
  SECTION("a content-length that is not a number") {
    for (auto bad : {"-1", "abc", "+5", " 5", "5 ", "1e3", ""}) {
      auto p = parse_error("SEND\ncontent-length:"s + bad + "\n\nx\0"s);
      CHECK(p.error == codec_errc::malformed);
      CHECK_THAT(p.text, Catch::Contains("content-length '"s + bad + "'") &&
                             Catch::Contains("is not a number"));
    }
  }
  SECTION("a content-length too short") {
    auto p = parse_error("SEND\ncontent-length:3\n\nhello\0"s);
    CHECK(p.error == codec_errc::malformed);
    CHECK_THAT(p.text, Catch::Contains("not followed by its NUL"));
  }
  SECTION("a content-length too long: the next frame's bytes are not the NUL") {
    auto p = parse_error("SEND\ncontent-length:10\n\nhello\0SEND\n\nnext\0"s);
    CHECK(p.error == codec_errc::malformed);
    CHECK_THAT(p.text, Catch::Contains("the content-length does not match the body"));
  }
  SECTION("a content-length too long with nothing after waits for the rest") {
    auto p = parse("SEND\ncontent-length:10\n\nhello\0"s);
    CHECK(!p.error);
    CHECK(p.frames.empty());
    CHECK(p.buffered > 0);
  }
  SECTION("a frame without the empty line after its headers") {
    auto p = parse_error("DISCONNECT\nreceipt:1\n\0"s);
    CHECK(p.error == codec_errc::malformed);
    CHECK_THAT(p.text, Catch::Contains("a NUL in the headers of a DISCONNECT frame"));
    auto bare = parse_error("DISCONNECT\0"s);
    CHECK_THAT(bare.text, Catch::Contains("a NUL in the command line 'DISCONNECT'"));
  }
  SECTION("a failed parser stays failed and holds nothing") {
    stomp_parser parser;
    parser.feed("BAD\n", 4);
    stomp_frame f;
    CHECK_FALSE(parser.next(f).ok());
    parser.feed("SEND\n\n\0", 7);
    auto again = parser.next(f);
    REQUIRE_FALSE(again.ok());
    CHECK_THAT(again.message(), Catch::Contains("unknown command 'BAD'"));
    CHECK(parser.buffered() == 0);
  }
}

TEST_CASE("STOMP frame limits", "[protocol][stomp-frame]") {
  stomp_frame_limits limits;
  limits.max_frame_bytes = 64;
  limits.max_headers = 3;
  limits.max_header_line_bytes = 24;
  SECTION("a frame at the limit passes") {
    std::string frame = "SEND\n\n" + std::string(57, 'x') + '\0';
    REQUIRE(frame.size() == 64);
    auto p = parse(frame, limits);
    CHECK(!p.error);
    CHECK(p.frames.size() == 1);
  }
  SECTION("a body without content-length over the limit, before its NUL arrives") {
    auto p = parse_error("SEND\n\n" + std::string(100, 'x'), limits);
    CHECK(p.error == codec_errc::frame_too_large);
    CHECK_THAT(p.text, Catch::Contains("over the frame limit of 64 bytes"));
  }
  SECTION("a content-length over the limit, before the body arrives") {
    auto p = parse_error("SEND\ncontent-length:59\n\n", limits);
    CHECK(p.error == codec_errc::frame_too_large);
    CHECK_THAT(p.text, Catch::Contains("content-length of 59 bytes") &&
                           Catch::Contains("over the frame limit of 64 bytes"));
    auto huge = parse_error("SEND\ncontent-length:99999999999999999999999\n\n", limits);
    CHECK(huge.error == codec_errc::frame_too_large);
  }
  SECTION("more headers than the limit") {
    auto p = parse_error("SEND\na:1\nb:2\nc:3\nd:4\n\n\0"s, limits);
    CHECK(p.error == codec_errc::frame_too_large);
    CHECK_THAT(p.text, Catch::Contains("more than 3 headers"));
  }
  SECTION("a header line over the limit, before its end arrives") {
    auto p = parse_error("SEND\nk:" + std::string(40, 'v'), limits);
    CHECK(p.error == codec_errc::frame_too_large);
    CHECK_THAT(p.text,
               Catch::Contains("a header line over the limit of 24 bytes, starting 'k:vvv"));
    auto whole = parse_error("SEND\nk:" + std::string(30, 'v') + "\n\n" + '\0', limits);
    CHECK_THAT(whole.text, Catch::Contains("a header line over the limit of 24 bytes"));
  }
  SECTION("headers over the frame limit") {
    limits.max_header_line_bytes = 1000;
    limits.max_headers = 1000;
    auto p =
        parse_error("SEND\n" + std::string(10, 'a') + ":" + std::string(80, 'v') + "\n", limits);
    CHECK(p.error == codec_errc::frame_too_large);
    CHECK_THAT(p.text, Catch::Contains("headers of a frame are over the frame limit"));
  }
}

TEST_CASE("STOMP frames serialized", "[protocol][stomp-frame]") {
  stomp_frame f;
  f.command = "MESSAGE";
  f.add("destination", "/queue/a");
  f.add("we:ird", "line\none\rtwo\\three");
  f.add("content-length", "3");
  f.body = "a\0b"s;
  SECTION("1.2 escapes \\r \\n \\c \\\\") {
    std::string out;
    append_stomp_frame(f, stomp_version::v1_2, out);
    CHECK(out == "MESSAGE\ndestination:/queue/a\nwe\\cird:line\\none\\rtwo\\\\three\n"
                 "content-length:3\n\na\0b\0"s);
    auto back = parse(out);
    REQUIRE(back.frames.size() == 1);
    CHECK(back.frames[0].headers[1].name == "we:ird");
    CHECK(back.frames[0].headers[1].value == "line\none\rtwo\\three");
    CHECK(back.frames[0].body == f.body);
  }
  SECTION("1.1 writes a CR as it is") {
    std::string out;
    append_stomp_frame(f, stomp_version::v1_1, out);
    CHECK(out == "MESSAGE\ndestination:/queue/a\nwe\\cird:line\\none\rtwo\\\\three\n"
                 "content-length:3\n\na\0b\0"s);
  }
  SECTION("1.0 cannot escape: a line break becomes a space") {
    std::string out;
    append_stomp_frame(f, stomp_version::v1_0, out);
    CHECK(out == "MESSAGE\ndestination:/queue/a\nwe:ird:line one two\\three\n"
                 "content-length:3\n\na\0b\0"s);
  }
  SECTION("CONNECTED is not escaped") {
    stomp_frame c;
    c.command = "CONNECTED";
    c.add("server", "ActorMQ/1:2");
    std::string out;
    append_stomp_frame(c, stomp_version::v1_2, out);
    CHECK(out == "CONNECTED\nserver:ActorMQ/1:2\n\n\0"s);
  }
}

TEST_CASE("printable shows bytes that do not print", "[protocol][stomp-frame]") {
  CHECK(printable("a\x01\n") == "a\\x01\\x0a");
  CHECK(printable(std::string(70, 'x'), 4) == "xxxx...");
}
