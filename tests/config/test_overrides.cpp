#include "config/loader.hpp"
#include "temp_file.hpp"

#include <catch2/catch.hpp>

using namespace actormq::config;
using actormq::config::test::minimal_conf;
using actormq::config::test::temp_conf;

TEST_CASE("overrides set scalar fields of every supported type", "[config][override]") {
  temp_conf f("name: \"t\"\ndata_dir: \"d\"\nclient { port: 1000 }\n");
  auto r = load(f.path(),
                {"client.port=61700", "store.sync=false", "name=x", "store.max_size_mb=64",
                 "runtime.scheduler_policy=stealing", "client.host=0.0.0.0", "stop_timeout_ms=0"});
  INFO(r.message());
  REQUIRE(r);
  CHECK(r->client().port() == 61700);
  CHECK(r->client().host() == "0.0.0.0");
  CHECK_FALSE(r->store().sync());
  CHECK(r->name() == "x");
  CHECK(r->store().max_size_mb() == 64);
  CHECK(r->runtime().scheduler_policy() == "stealing");
  CHECK(r->stop_timeout_ms() == 0);
}

TEST_CASE("a boolean override reads true or false in any letter case", "[config][override]") {
  temp_conf f(minimal_conf);
  auto r = load(f.path(), {"store.sync=FALSE", "store.persist_redelivered=False"});
  INFO(r.message());
  REQUIRE(r);
  CHECK_FALSE(r->store().sync());
  CHECK_FALSE(r->store().persist_redelivered());
}

TEST_CASE("later overrides win", "[config][override]") {
  temp_conf f(minimal_conf);
  auto r = load(f.path(), {"client.port=1001", "client.port=1002"});
  REQUIRE(r);
  CHECK(r->client().port() == 1002);
}

TEST_CASE("an override value may contain '='", "[config][override]") {
  temp_conf f(minimal_conf);
  auto r = load(f.path(), {"name=a=b"});
  REQUIRE(r);
  CHECK(r->name() == "a=b");
}

TEST_CASE("a repeated scalar override appends", "[config][override]") {
  temp_conf f("name: \"t\"\ndata_dir: \"d\"\nshared_store_uris: \"tcp://h:0\"\n");
  auto r = load(f.path(), {"shared_store_uris=tcp://h:1", "shared_store_uris=tcp://h:2"});
  INFO(r.message());
  REQUIRE(r);
  REQUIRE(r->shared_store_uris_size() == 3);
  CHECK(r->shared_store_uris(0) == "tcp://h:0");
  CHECK(r->shared_store_uris(1) == "tcp://h:1");
  CHECK(r->shared_store_uris(2) == "tcp://h:2");
}

TEST_CASE("overrides can supply required keys", "[config][override]") {
  temp_conf f("");
  auto r = load(f.path(), {"name=n", "data_dir=/srv/n"});
  INFO(r.message());
  REQUIRE(r);
  CHECK(r->name() == "n");
  CHECK(r->data_dir() == "/srv/n");
}

TEST_CASE("a relative data_dir override resolves against the file's folder", "[config][override]") {
  temp_conf f(minimal_conf);
  auto r = load(f.path(), {"data_dir=other"});
  REQUIRE(r);
  CHECK(r->data_dir() == (f.dir() / "other").string());
}

namespace {

void expect_bad(const std::string& item, const std::string& text) {
  temp_conf f(minimal_conf);
  auto r = load(f.path(), {item});
  INFO(item);
  REQUIRE_FALSE(r);
  CHECK(r.code() == config_errc::bad_override);
  INFO(r.message());
  CHECK_THAT(r.message(), Catch::Contains(item));
  CHECK_THAT(r.message(), Catch::Contains(text));
}

} // namespace

TEST_CASE("bad overrides name the key and what was expected", "[config][override]") {
  SECTION("unknown top-level key") {
    expect_bad("clinet.port=1", "unknown key \"clinet\"");
  }
  SECTION("unknown nested key") {
    expect_bad("client.prot=1", "unknown key \"client.prot\"");
  }
  SECTION("no '='") {
    expect_bad("client.port", "key.path=value");
  }
  SECTION("empty key") {
    expect_bad("=1", "key.path=value");
  }
  SECTION("wrong type for an integer") {
    expect_bad("client.port=abc", "client.port expects an unsigned 32-bit integer");
  }
  SECTION("negative for an unsigned integer") {
    expect_bad("client.port=-1", "client.port expects an unsigned 32-bit integer");
  }
  SECTION("empty integer") {
    expect_bad("client.port=", "client.port expects an unsigned 32-bit integer");
  }
  SECTION("trailing junk") {
    expect_bad("client.port=12x", "expects an unsigned 32-bit integer");
  }
  SECTION("integer beyond its type") {
    expect_bad(
        "client.port=4294967296",
        "client.port: 4294967296 is out of range for an unsigned 32-bit integer (0..4294967295)");
  }
  SECTION("wrong type for a bool") {
    expect_bad("store.sync=yes", "store.sync expects a boolean (true or false)");
  }
  SECTION("a message, not a field") {
    expect_bad("client=1", "client is a group of settings");
  }
  SECTION("a path through a scalar") {
    expect_bad("name.x=1", "name is not a group of settings");
  }
  SECTION("a field inside a repeated message") {
    expect_bad("network_connectors.uri=static:(tcp://h:1)", "network_connectors is a list");
  }
}

TEST_CASE("an override out of the documented range fails validation", "[config][override]") {
  temp_conf f(minimal_conf);
  auto r = load(f.path(), {"client.port=70000"});
  REQUIRE_FALSE(r);
  CHECK(r.code() == config_errc::out_of_range);
  CHECK_THAT(r.message(), Catch::Contains("client.port: 70000 is out of range (1..65535)"));
}
