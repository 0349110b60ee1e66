// Broker URIs (tcp:, failover:, static:) and destination names: every form and every error.
#include "protocol/destination.hpp"
#include "protocol/uri.hpp"

#include <catch2/catch.hpp>

#include <string>

using namespace actormq;
using namespace actormq::protocol;

namespace {

// Checks that parsing failed with `code` and that the message contains `part`.
template <class T> void require_error(const result<T>& r, uri_errc code, const std::string& part) {
  REQUIRE_FALSE(r.ok());
  INFO("message: " << r.message());
  CHECK(r.code() == code);
  CHECK(r.message().find(part) != std::string::npos);
}

} // namespace

TEST_CASE("tcp URIs parse host, port and options", "[protocol][uri]") {
  SECTION("a host name") {
    auto r = parse_tcp_uri("tcp://localhost:61616");
    REQUIRE(r.ok());
    CHECK(r->host == "localhost");
    CHECK(r->port == 61616);
    CHECK(r->options.empty());
    CHECK(r->text() == "tcp://localhost:61616");
  }
  SECTION("an IPv4 address") {
    auto r = parse_tcp_uri("tcp://127.0.0.1:1");
    REQUIRE(r.ok());
    CHECK(r->host == "127.0.0.1");
    CHECK(r->port == 1);
  }
  SECTION("the any address and the highest port") {
    auto r = parse_tcp_uri("tcp://0.0.0.0:65535");
    REQUIRE(r.ok());
    CHECK(r->host == "0.0.0.0");
    CHECK(r->port == 65535);
  }
  SECTION("an IPv6 address in brackets") {
    auto r = parse_tcp_uri("tcp://[::1]:61617");
    REQUIRE(r.ok());
    CHECK(r->host == "::1");
    CHECK(r->port == 61617);
    CHECK(r->text() == "tcp://[::1]:61617");
  }
  SECTION("a longer IPv6 address with an IPv4 tail") {
    auto r = parse_tcp_uri("tcp://[::ffff:10.0.0.1]:5");
    REQUIRE(r.ok());
    CHECK(r->host == "::ffff:10.0.0.1");
  }
  SECTION("a dotted host name with dashes and underscores") {
    auto r = parse_tcp_uri("tcp://broker-a.example_1.org:2000");
    REQUIRE(r.ok());
    CHECK(r->host == "broker-a.example_1.org");
  }
  SECTION("options") {
    auto r = parse_tcp_uri("tcp://h:1?a=1&b=two&c=");
    REQUIRE(r.ok());
    CHECK(r->options.size() == 3);
    CHECK(r->options.at("a") == "1");
    CHECK(r->options.at("b") == "two");
    CHECK(r->options.at("c") == "");
    CHECK(r->text() == "tcp://h:1");
  }
  SECTION("duplicate option names: the last wins") {
    auto r = parse_tcp_uri("tcp://h:1?a=1&a=2");
    REQUIRE(r.ok());
    CHECK(r->options.size() == 1);
    CHECK(r->options.at("a") == "2");
  }
  SECTION("option values are kept as strings, percent-decoded") {
    auto r = parse_tcp_uri("tcp://h:1?wireFormat.maxInactivityDuration=30000&p=a%20b%3D&q=x=y");
    REQUIRE(r.ok());
    CHECK(r->options.at("wireFormat.maxInactivityDuration") == "30000");
    CHECK(r->options.at("p") == "a b=");
    CHECK(r->options.at("q") == "x=y");
  }
  SECTION("an empty query") {
    auto r = parse_tcp_uri("tcp://h:1?");
    REQUIRE(r.ok());
    CHECK(r->options.empty());
  }
  SECTION("surrounding spaces, an upper-case scheme and a trailing slash") {
    auto r = parse_tcp_uri("  TCP://h:1/ ");
    REQUIRE(r.ok());
    CHECK(r->host == "h");
    CHECK(r->port == 1);
  }
}

TEST_CASE("tcp URI errors name the offending text", "[protocol][uri]") {
  require_error(parse_tcp_uri("tcp://h:abc"), uri_errc::bad_port, "bad port 'abc' in tcp://h:abc");
  require_error(parse_tcp_uri("tcp://h:0"), uri_errc::bad_port, "bad port '0'");
  require_error(parse_tcp_uri("tcp://h:65536"), uri_errc::bad_port, "bad port '65536'");
  require_error(parse_tcp_uri("tcp://h:999999999999"), uri_errc::bad_port, "'999999999999'");
  require_error(parse_tcp_uri("tcp://h:-1"), uri_errc::bad_port, "'-1'");
  require_error(parse_tcp_uri("tcp://h:"), uri_errc::bad_port, "bad port '' in tcp://h:");
  require_error(parse_tcp_uri("tcp://h"), uri_errc::bad_port, "missing port in tcp://h");
  require_error(parse_tcp_uri("tcp://[::1]"), uri_errc::bad_port, "missing port");
  require_error(parse_tcp_uri("tcp://[::1]:x"), uri_errc::bad_port, "bad port 'x'");

  require_error(parse_tcp_uri(""), uri_errc::malformed, "empty URI");
  require_error(parse_tcp_uri("   "), uri_errc::malformed, "empty URI");
  require_error(parse_tcp_uri("localhost"), uri_errc::malformed, "missing scheme in 'localhost'");
  require_error(parse_tcp_uri("localhost:61616"), uri_errc::malformed,
                "missing scheme in 'localhost:61616'");
  require_error(parse_tcp_uri("http://h:1"), uri_errc::unknown_scheme,
                "unknown scheme 'http' in http://h:1");
  require_error(parse_tcp_uri("ssl://h:1"), uri_errc::unknown_scheme, "'ssl'");
  require_error(parse_tcp_uri("failover:(tcp://h:1)"), uri_errc::unknown_scheme, "'failover'");
  require_error(parse_tcp_uri("tcp:h:1"), uri_errc::malformed, "missing '//'");
  require_error(parse_tcp_uri("tcp://:1"), uri_errc::malformed, "missing host in tcp://:1");
  require_error(parse_tcp_uri("tcp://h:1/queue"), uri_errc::malformed, "unexpected path");
  require_error(parse_tcp_uri("tcp://h (x):1"), uri_errc::malformed, "parenthesis");
  require_error(parse_tcp_uri("tcp://bad host:1"), uri_errc::malformed, "bad host 'bad host'");
  require_error(parse_tcp_uri("tcp://h<b>:1"), uri_errc::malformed, "bad host 'h<b>'");
  require_error(parse_tcp_uri("tcp://a..b:1"), uri_errc::malformed, "bad host 'a..b'");
  require_error(parse_tcp_uri("tcp://.a:1"), uri_errc::malformed, "bad host '.a'");
  require_error(parse_tcp_uri("tcp://256.0.0.1:1"), uri_errc::malformed, "bad host '256.0.0.1'");
  require_error(parse_tcp_uri("tcp://1.2.3:1"), uri_errc::malformed, "bad host '1.2.3'");
  require_error(parse_tcp_uri("tcp://::1:1"), uri_errc::malformed, "in brackets");
  require_error(parse_tcp_uri("tcp://[::1:1"), uri_errc::malformed, "missing ']'");
  require_error(parse_tcp_uri("tcp://[]:1"), uri_errc::malformed, "bad IPv6 address ''");
  require_error(parse_tcp_uri("tcp://[host]:1"), uri_errc::malformed, "bad IPv6 address 'host'");
  require_error(parse_tcp_uri("tcp://[::1]x:1"), uri_errc::malformed, "unexpected 'x:1'");

  require_error(parse_tcp_uri("tcp://h:1?flag"), uri_errc::bad_option,
                "option 'flag' has no value");
  require_error(parse_tcp_uri("tcp://h:1?=v"), uri_errc::bad_option, "option '=v' has no name");
  require_error(parse_tcp_uri("tcp://h:1?a=1&&b=2"), uri_errc::bad_option, "empty option");
  require_error(parse_tcp_uri("tcp://h:1?a=1&"), uri_errc::bad_option, "empty option");
  require_error(parse_tcp_uri("tcp://h:1?a=%zz"), uri_errc::bad_option, "bad escape");
  require_error(parse_tcp_uri("tcp://h:1?a=%4"), uri_errc::bad_option, "bad escape");
}

TEST_CASE("failover URIs with parentheses", "[protocol][uri]") {
  auto r = parse_composite_uri(
      "failover:(tcp://a:61616,tcp://[::1]:61617?x=y&z=1)?randomize=false&maxReconnectDelay=500");
  REQUIRE(r.ok());
  CHECK(r->scheme == "failover");
  REQUIRE(r->members.size() == 2);
  CHECK(r->members[0].text() == "tcp://a:61616");
  CHECK(r->members[0].options.empty());
  CHECK(r->members[1].host == "::1");
  CHECK(r->members[1].port == 61617);
  CHECK(r->members[1].options.at("x") == "y");
  CHECK(r->members[1].options.at("z") == "1");
  CHECK(r->options.size() == 2);
  CHECK(r->options.at("randomize") == "false");
  CHECK(r->options.at("maxReconnectDelay") == "500");
}

TEST_CASE("failover URIs in other spellings", "[protocol][uri]") {
  SECTION("without parentheses") {
    auto r = parse_composite_uri("failover:tcp://a:1,tcp://b:2");
    REQUIRE(r.ok());
    REQUIRE(r->members.size() == 2);
    CHECK(r->members[1].text() == "tcp://b:2");
    CHECK(r->options.empty());
  }
  SECTION("without parentheses a '?' belongs to the member it follows (as in ActiveMQ)") {
    auto r = parse_composite_uri("failover:tcp://a:1,tcp://b:2?k=v");
    REQUIRE(r.ok());
    CHECK(r->options.empty());
    CHECK(r->members[1].options.at("k") == "v");
  }
  SECTION("one member, spaces around members, '//' after the scheme") {
    auto r = parse_composite_uri(" failover://( tcp://a:1 , tcp://b:2 ) ?timeout=3000 ");
    REQUIRE(r.ok());
    REQUIRE(r->members.size() == 2);
    CHECK(r->options.at("timeout") == "3000");
    auto one = parse_composite_uri("failover:(tcp://a:1)");
    REQUIRE(one.ok());
    CHECK(one->members.size() == 1);
  }
  SECTION("static: for network connectors") {
    auto r = parse_composite_uri("static:(tcp://b:61616,tcp://c:61616)?networkTTL=2");
    REQUIRE(r.ok());
    CHECK(r->scheme == "static");
    CHECK(r->members.size() == 2);
    CHECK(r->options.at("networkTTL") == "2");
  }
  SECTION("an upper-case scheme is read as lower case") {
    auto r = parse_composite_uri("FAILOVER:(tcp://a:1)");
    REQUIRE(r.ok());
    CHECK(r->scheme == "failover");
  }
}

TEST_CASE("composite URI errors name the offending text", "[protocol][uri]") {
  require_error(parse_composite_uri(""), uri_errc::malformed, "empty URI");
  require_error(parse_composite_uri("(tcp://a:1)"), uri_errc::malformed, "missing scheme");
  require_error(parse_composite_uri("tcp://a:1"), uri_errc::unknown_scheme,
                "unknown scheme 'tcp' in tcp://a:1");
  require_error(parse_composite_uri("fail:(tcp://a:1)"), uri_errc::unknown_scheme, "'fail'");
  require_error(parse_composite_uri("failover:"), uri_errc::malformed, "no member URIs");
  require_error(parse_composite_uri("failover:()"), uri_errc::malformed, "no member URIs");
  require_error(parse_composite_uri("failover:(tcp://a:1"), uri_errc::malformed, "missing ')'");
  require_error(parse_composite_uri("failover:tcp://a:1)"), uri_errc::malformed,
                "unbalanced parentheses");
  require_error(parse_composite_uri("failover:(tcp://a:1)x"), uri_errc::malformed,
                "unexpected 'x' after ')'");
  require_error(parse_composite_uri("failover:(tcp://a:1,,tcp://b:2)"), uri_errc::malformed,
                "empty member 2 of failover:(tcp://a:1,,tcp://b:2)");
  require_error(parse_composite_uri("failover:(tcp://a:1,)"), uri_errc::malformed,
                "empty member 2");
  require_error(parse_composite_uri("failover:(tcp://a:1,tcp://h:abc)"), uri_errc::bad_port,
                "bad port 'abc' in tcp://h:abc (expected a number in 1..65535) (member 2 of "
                "failover:(tcp://a:1,tcp://h:abc))");
  require_error(parse_composite_uri("failover:(ssl://a:1)"), uri_errc::unknown_scheme,
                "unknown scheme 'ssl' in ssl://a:1");
  require_error(parse_composite_uri("failover:(tcp://a:1?x)"), uri_errc::bad_option,
                "option 'x' has no value");
  require_error(parse_composite_uri("failover:(failover:(tcp://a:1))"), uri_errc::unknown_scheme,
                "member 1");
  require_error(parse_composite_uri("failover:(tcp://a:1)?randomize"), uri_errc::bad_option,
                "option 'randomize' has no value");
  require_error(parse_composite_uri("static:(tcp://a:1)?=1"), uri_errc::bad_option, "no name");
}

TEST_CASE("parse_broker_url takes either form", "[protocol][uri]") {
  SECTION("a plain tcp URI becomes a one-member composite") {
    auto r = parse_broker_url("tcp://h:1?k=v");
    REQUIRE(r.ok());
    CHECK(r->scheme == "tcp");
    REQUIRE(r->members.size() == 1);
    CHECK(r->members[0].text() == "tcp://h:1");
    CHECK(r->members[0].options.at("k") == "v");
    CHECK(r->options.empty());
  }
  SECTION("failover and static") {
    auto f = parse_broker_url("failover:(tcp://a:1,tcp://b:2)");
    REQUIRE(f.ok());
    CHECK(f->scheme == "failover");
    CHECK(f->members.size() == 2);
    auto s = parse_broker_url("static:(tcp://a:1)");
    REQUIRE(s.ok());
    CHECK(s->scheme == "static");
  }
  SECTION("errors") {
    require_error(parse_broker_url(""), uri_errc::malformed, "empty broker URL");
    require_error(parse_broker_url("localhost:61616"), uri_errc::malformed,
                  "missing scheme in 'localhost:61616'");
    require_error(parse_broker_url("nothing"), uri_errc::malformed, "missing scheme in 'nothing'");
    require_error(parse_broker_url("http://h:1"), uri_errc::unknown_scheme,
                  "unknown scheme 'http' in http://h:1");
    require_error(parse_broker_url("tcp://h:abc"), uri_errc::bad_port, "bad port 'abc'");
    require_error(parse_broker_url("failover:(tcp://h)"), uri_errc::bad_port, "missing port");
  }
}

TEST_CASE("canonical destination names", "[protocol][uri]") {
  CHECK(*canonical_destination("orders") == "queue://orders");
  CHECK(*canonical_destination("queue://orders") == "queue://orders");
  CHECK(*canonical_destination("QUEUE://orders") == "queue://orders");
  CHECK(*canonical_destination("a.b-c_d:e/f09") == "queue://a.b-c_d:e/f09");
  CHECK(*canonical_destination("queue://A.B") == "queue://A.B");
  CHECK(*canonical_destination("topic://prices") == "topic://prices");
  CHECK(*canonical_destination("TOPIC://prices") == "topic://prices");
  CHECK(*canonical_destination("temp-queue://x") == "temp-queue://x");
  CHECK(*canonical_destination("Temp-Topic://y") == "temp-topic://y");
}

TEST_CASE("a destination is a kind and a name", "[protocol][uri]") {
  auto q = parse_destination("orders");
  REQUIRE(q);
  CHECK(q->kind == destination_kind::queue);
  CHECK(q->name == "orders");
  auto t = parse_destination("topic://prices.eu");
  REQUIRE(t);
  CHECK(t->kind == destination_kind::topic);
  CHECK(t->name == "prices.eu");
  CHECK(t->uri() == "topic://prices.eu");
  CHECK(parse_destination("temp-queue://a")->kind == destination_kind::temp_queue);
  CHECK(parse_destination("temp-topic://a")->kind == destination_kind::temp_topic);
  CHECK(*parse_destination("queue://x") != *parse_destination("topic://x"));
  CHECK(*parse_destination("x") == *parse_destination("QUEUE://x"));
  CHECK(to_string(destination_kind::temp_topic) == "temp-topic");
}

TEST_CASE("destination name errors", "[protocol][uri]") {
  require_error(canonical_destination(""), uri_errc::malformed, "empty destination name");
  require_error(canonical_destination("queue://"), uri_errc::malformed,
                "empty queue name in 'queue://'");
  require_error(canonical_destination("topic://"), uri_errc::malformed,
                "empty topic name in 'topic://'");
  require_error(canonical_destination("temporary-queue://x"), uri_errc::malformed,
                "unsupported destination scheme 'temporary-queue'");
  require_error(canonical_destination("my queue"), uri_errc::malformed,
                "bad character ' ' in destination 'my queue'");
  require_error(canonical_destination("queue://<b>"), uri_errc::malformed, "bad character '<'");
  require_error(canonical_destination("a&b"), uri_errc::malformed, "bad character '&'");
  require_error(canonical_destination("topic://prices.>"), uri_errc::malformed,
                "wildcard '>' in destination 'topic://prices.>'");
  require_error(canonical_destination("queue://orders.*"), uri_errc::malformed,
                "wildcard '*' in destination 'queue://orders.*'");
  require_error(canonical_destination("topic://"), uri_errc::malformed,
                "empty topic name in 'topic://'");
  require_error(canonical_destination("tab\there"), uri_errc::malformed, "bad character '\\x09'");
  require_error(canonical_destination("caf\xc3\xa9"), uri_errc::malformed, "'\\xc3'");
}

TEST_CASE("destination names longer than the maximum are refused", "[protocol][uri]") {
  const std::string longest(max_destination_name_bytes, 'n');
  CHECK(*canonical_destination(longest) == "queue://" + longest);
  CHECK(*canonical_destination("queue://" + longest) == "queue://" + longest);
  const std::string over = longest + "n";
  require_error(canonical_destination(over), uri_errc::too_long,
                "destination name of 256 bytes is over the maximum of 255 bytes: 'nnnn");
  require_error(canonical_destination("queue://" + over), uri_errc::too_long,
                "over the maximum of 255 bytes");
  // The scheme does not count, and the message shows only the start of a huge name.
  auto huge = canonical_destination("QUEUE://" + std::string(1 << 20, 'x'));
  require_error(huge, uri_errc::too_long, "destination name of 1048576 bytes");
  CHECK(huge.message().size() < 200);
  // The store's own limit (LMDB keys of 511 bytes for "queue://" + name) is far beyond it.
  CHECK(std::string("queue://").size() + max_destination_name_bytes < 511);
}

TEST_CASE("URI error codes have a category and messages", "[protocol][uri]") {
  std::error_code ec = uri_errc::bad_port;
  CHECK(ec.category() == uri_category());
  CHECK(std::string(uri_category().name()) == "actormq.protocol.uri");
  CHECK(ec.message() == "bad port");
  CHECK(make_error_code(uri_errc::malformed).message() == "malformed URI");
  CHECK(make_error_code(uri_errc::unknown_scheme).message() == "unknown URI scheme");
  CHECK(make_error_code(uri_errc::bad_option).message() == "bad option");
  CHECK(make_error_code(uri_errc::too_long).message() == "destination name too long");
}
