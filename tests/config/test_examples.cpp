// Every example file in config/ loads and validates, so they cannot drift from the schema.
#include "config/loader.hpp"

#include <catch2/catch.hpp>

#include <filesystem>
#include <map>

using namespace actormq::config;

namespace {

const std::filesystem::path config_dir = ACTORMQ_CONFIG_DIR;

actormq::result<NodeConfig> load_example(const std::string& name) {
  return load(config_dir / name);
}

} // namespace

TEST_CASE("every .conf file in config/ loads and validates", "[config][examples]") {
  int count = 0;
  for (const auto& entry : std::filesystem::directory_iterator(config_dir)) {
    if (entry.path().extension() != ".conf")
      continue;
    ++count;
    auto r = load(entry.path());
    INFO(entry.path().string() << ": " << r.message());
    CHECK(r);
    if (r)
      CHECK(validate(*r));
  }
  CHECK(count >= 4);
}

TEST_CASE("the replicated examples: three replicas of one group, each its own folder and ports",
          "[config][examples]") {
  const auto data = config_dir.parent_path() / "data" / "replicated";
  for (int n = 1; n <= 3; ++n) {
    auto r = load_example("replicated-" + std::to_string(n) + ".conf");
    INFO(n << ": " << r.message());
    REQUIRE(r);
    CHECK(r->name() == "r" + std::to_string(n));
    CHECK(r->data_dir() == (data / ("r" + std::to_string(n))).lexically_normal().string());
    CHECK(r->client().port() == 61640u + n);
    CHECK(r->cluster().port() == 62640u + n);
    CHECK(r->console().port() == 8170u + n);
    CHECK(r->shared_store_uris_size() == 3);
    REQUIRE(r->has_replication());
    CHECK(r->replication().zk_address() == "127.0.0.1:2191");
    CHECK(r->replication().zk_path() == "/actormq/replicated");
    CHECK(r->replication().replicas() == 3);
  }
}

TEST_CASE("the example nodes have the documented ports and folders", "[config][examples]") {
  const auto data = config_dir.parent_path() / "data";
  struct expected {
    const char* data;
    uint32_t client, cluster, console, stomp, ws;
    int shared, connectors;
  };
  const std::map<std::string, expected> nodes = {
      {"standalone", {"standalone", 61616, 62616, 8161, 61613, 61614, 0, 0}},
      {"a", {"a", 61616, 62616, 8161, 61613, 61614, 0, 1}},
      {"b", {"bc", 61617, 62617, 8162, 61623, 61624, 2, 1}},
      {"c", {"bc", 61618, 62618, 8163, 61633, 61634, 2, 1}},
  };
  for (const auto& [name, e] : nodes) {
    auto r = load_example(name + ".conf");
    INFO(name << ": " << r.message());
    REQUIRE(r);
    CHECK(r->name() == name);
    CHECK(r->data_dir() == (data / e.data).lexically_normal().string());
    CHECK(r->client().host() == "127.0.0.1");
    CHECK(r->client().port() == e.client);
    CHECK(r->cluster().port() == e.cluster);
    CHECK(r->console().port() == e.console);
    REQUIRE(r->has_stomp());
    CHECK(r->stomp().host() == "127.0.0.1");
    CHECK(r->stomp().port() == e.stomp);
    REQUIRE(r->has_ws());
    CHECK(r->ws().host() == "127.0.0.1");
    CHECK(r->ws().port() == e.ws);
    CHECK(r->shared_store_uris_size() == e.shared);
    CHECK(r->network_connectors_size() == e.connectors);
  }
  auto a = load_example("a.conf");
  REQUIRE(a);
  CHECK(a->network_connectors(0).uri() == "static:(tcp://127.0.0.1:62617,tcp://127.0.0.1:62618)");
  for (const char* name : {"b.conf", "c.conf"}) {
    auto r = load_example(name);
    REQUIRE(r);
    CHECK(r->network_connectors(0).uri() == "static:(tcp://127.0.0.1:62616)");
    CHECK(r->shared_store_uris(0) == "tcp://127.0.0.1:61617");
    CHECK(r->shared_store_uris(1) == "tcp://127.0.0.1:61618");
  }
}
