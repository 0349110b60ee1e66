#include "config/defaults.hpp"
#include "config/loader.hpp"
#include "temp_file.hpp"

#include <catch2/catch.hpp>
#include <google/protobuf/util/message_differencer.h>

using namespace actormq::config;
using actormq::config::test::minimal_conf;
using actormq::config::test::temp_conf;

TEST_CASE("defaults fill every optional scalar", "[config]") {
  NodeConfig d = defaults();
  CHECK_FALSE(d.has_name());
  CHECK_FALSE(d.has_data_dir());
  CHECK(d.client().host() == "127.0.0.1");
  CHECK(d.client().port() == 61616);
  CHECK(d.cluster().host() == "127.0.0.1");
  CHECK(d.cluster().port() == 62616);
  CHECK(d.console().host() == "127.0.0.1");
  CHECK(d.console().port() == 8161);
  CHECK(d.store().max_size_mb() == 1024);
  CHECK(d.store().has_sync());
  CHECK(d.store().sync());
  CHECK(d.store().max_batch() == 1024);
  CHECK(d.store().reader_check_interval_ms() == 10000);
  CHECK(d.limits().max_frame_bytes() == 4u * 1024 * 1024);
  CHECK(d.limits().max_connections() == 1000);
  CHECK(d.limits().max_consumers_per_connection() == 1000);
  CHECK(d.limits().max_destinations() == 10000);
  CHECK(d.limits().destination_memory_bytes() == 64ull * 1024 * 1024);
  CHECK(d.limits().default_prefetch() == 1000);
  CHECK(d.limits().browse_max_messages() == 1000);
  CHECK(d.limits().topic_subscriber_pending_messages() == 10000);
  CHECK(d.limits().slow_topic_subscriber() == "block");
  CHECK(d.heartbeats().interval_ms() == 10000);
  CHECK(d.heartbeats().inactivity_timeout_ms() == 30000);
  CHECK(d.runtime().scheduler_policy() == "sharing");
  CHECK(d.runtime().scheduler_max_threads() == 2);
  CHECK(d.runtime().middleman_heartbeat_ms() == 500);
  CHECK(d.runtime().middleman_connection_timeout_ms() == 2000);
  CHECK(d.logging().level() == "info");
  CHECK_FALSE(d.logging().has_file());
  CHECK(d.stop_timeout_ms() == 5000);
  CHECK(d.shared_store_uris_size() == 0);
  CHECK(d.network_connectors_size() == 0);
}

TEST_CASE("a destination policy takes ActiveMQ's defaults for what it leaves out", "[config]") {
  temp_conf conf(std::string(minimal_conf) + "destination_policies { queue: \">\" }\n");
  auto c = load(conf.path());
  REQUIRE(c);
  REQUIRE(c->destination_policies_size() == 1);
  auto& p = c->destination_policies(0);
  CHECK(p.maximum_redeliveries() == 6);
  CHECK(p.initial_redelivery_delay_ms() == 1000);
  CHECK(p.redelivery_delay_ms() == 1000);
  CHECK_FALSE(p.use_exponential_back_off());
  CHECK(p.back_off_multiplier() == 5);
  CHECK(p.maximum_redelivery_delay_ms() == -1);
  CHECK(p.dead_letter_strategy() == "shared");
  CHECK(p.dead_letter_queue() == "ActiveMQ.DLQ");
  CHECK(p.queue_prefix() == "DLQ.");
  CHECK(p.process_expired());
  CHECK_FALSE(p.process_non_persistent());
  CHECK(p.expire_messages_period_ms() == 30000);
}

TEST_CASE("defaults plus name and data_dir validate", "[config]") {
  NodeConfig d = defaults();
  d.set_name("x");
  d.set_data_dir("/tmp/x");
  auto ok = validate(d);
  INFO(ok.message());
  CHECK(ok);
}

TEST_CASE("an unreadable file names the file and the reason", "[config]") {
  auto r = load("/nonexistent/actormq/node.conf");
  REQUIRE_FALSE(r);
  CHECK(r.code() == config_errc::unreadable);
  CHECK_THAT(r.message(), Catch::Contains("/nonexistent/actormq/node.conf"));
  CHECK_THAT(r.message(), Catch::Contains("No such file or directory"));

  temp_conf dir_as_file(minimal_conf);
  auto d = load(dir_as_file.dir());
  REQUIRE_FALSE(d);
  CHECK(d.code() == config_errc::unreadable);
  CHECK_THAT(d.message(), Catch::Contains("Is a directory"));
}

TEST_CASE("an unknown key is a syntax error with line, column and key", "[config]") {
  temp_conf f("name: \"t\"\ndata_dir: \"d\"\nclient {\n  prot: 1\n}\n");
  auto r = load(f.path());
  REQUIRE_FALSE(r);
  CHECK(r.code() == config_errc::syntax);
  INFO(r.message());
  CHECK_THAT(r.message(), Catch::StartsWith(f.path().string() + ":4:3: "));
  CHECK_THAT(r.message(), Catch::Contains("prot"));
}

TEST_CASE("an unknown top-level key", "[config]") {
  temp_conf f("name: \"t\"\nnmae: \"t\"\n");
  auto r = load(f.path());
  REQUIRE_FALSE(r);
  CHECK(r.code() == config_errc::syntax);
  INFO(r.message());
  CHECK_THAT(r.message(), Catch::StartsWith(f.path().string() + ":2:1: "));
  CHECK_THAT(r.message(), Catch::Contains("nmae"));
}

TEST_CASE("a type error is a syntax error", "[config]") {
  temp_conf f("name: \"t\"\ndata_dir: \"d\"\nclient { port: \"abc\" }\n");
  auto r = load(f.path());
  REQUIRE_FALSE(r);
  CHECK(r.code() == config_errc::syntax);
  INFO(r.message());
  CHECK_THAT(r.message(), Catch::StartsWith(f.path().string() + ":3:16: "));
  CHECK_THAT(r.message(), Catch::Contains("integer"));
  CHECK_THAT(r.message(), Catch::Contains("abc"));
  CHECK_THAT(r.message(), Catch::Contains("port takes an unsigned 32-bit integer, 0..4294967295"));
}

TEST_CASE("a column after a tab counts the tab as the tokenizer does", "[config]") {
  // "client {" fills columns 1..8; the tab runs to column 16; prot starts at 17.
  temp_conf f("client {\tprot: 1 }\n");
  auto r = load(f.path());
  REQUIRE_FALSE(r);
  CHECK_THAT(r.message(), Catch::StartsWith(f.path().string() + ":1:17: "));
  CHECK_THAT(r.message(), Catch::Contains("prot"));
}

TEST_CASE("a file that ends inside a block says so", "[config]") {
  temp_conf f("name: \"t\"\nclient {\n  port: 1\n");
  auto r = load(f.path());
  REQUIRE_FALSE(r);
  CHECK(r.code() == config_errc::syntax);
  CHECK_THAT(r.message(), Catch::StartsWith(f.path().string() + ":4:1: "));
  CHECK_THAT(r.message(), Catch::Contains("end of the file"));
}

TEST_CASE("a bool given as a string is a syntax error", "[config]") {
  temp_conf f("name: \"t\"\ndata_dir: \"d\"\nstore { sync: maybe }\n");
  auto r = load(f.path());
  REQUIRE_FALSE(r);
  CHECK(r.code() == config_errc::syntax);
  INFO(r.message());
  CHECK_THAT(r.message(), Catch::StartsWith(f.path().string() + ":3:15: "));
  CHECK_THAT(r.message(), Catch::Contains("maybe"));
}

TEST_CASE("an integer beyond its type is a syntax error", "[config]") {
  temp_conf f("name: \"t\"\ndata_dir: \"d\"\nclient { port: 99999999999 }\n");
  auto r = load(f.path());
  REQUIRE_FALSE(r);
  CHECK(r.code() == config_errc::syntax);
  INFO(r.message());
  CHECK_THAT(r.message(), Catch::StartsWith(f.path().string() + ":3:"));
  CHECK_THAT(r.message(), Catch::Contains("99999999999"));
  CHECK_THAT(r.message(), Catch::Contains("out of range"));
  CHECK_THAT(r.message(), Catch::Contains("port takes an unsigned 32-bit integer"));
}

TEST_CASE("a negative number for an unsigned field is a syntax error", "[config]") {
  temp_conf f("name: \"t\"\ndata_dir: \"d\"\nclient { port: -1 }\n");
  auto r = load(f.path());
  REQUIRE_FALSE(r);
  CHECK(r.code() == config_errc::syntax);
  INFO(r.message());
  CHECK_THAT(r.message(), Catch::StartsWith(f.path().string() + ":3:16: "));
  CHECK_THAT(r.message(), Catch::Contains("negative"));
}

TEST_CASE("a key given twice is a syntax error", "[config]") {
  temp_conf f("name: \"t\"\nname: \"u\"\ndata_dir: \"d\"\n");
  auto r = load(f.path());
  REQUIRE_FALSE(r);
  CHECK(r.code() == config_errc::syntax);
  INFO(r.message());
  CHECK_THAT(r.message(), Catch::StartsWith(f.path().string() + ":2:"));
  CHECK_THAT(r.message(), Catch::Contains("name"));
}

TEST_CASE("a port out of range names key, value and range", "[config]") {
  temp_conf f("name: \"t\"\ndata_dir: \"d\"\nclient { port: 70000 }\n");
  auto r = load(f.path());
  REQUIRE_FALSE(r);
  CHECK(r.code() == config_errc::out_of_range);
  CHECK_THAT(r.message(), Catch::Contains("client.port: 70000 is out of range (1..65535)"));
  CHECK_THAT(r.message(), Catch::Contains(f.path().string()));
}

TEST_CASE("port zero is out of range", "[config]") {
  temp_conf f("name: \"t\"\ndata_dir: \"d\"\nconsole { port: 0 }\n");
  auto r = load(f.path());
  REQUIRE_FALSE(r);
  CHECK(r.code() == config_errc::out_of_range);
  CHECK_THAT(r.message(), Catch::Contains("console.port: 0 is out of range (1..65535)"));
}

TEST_CASE("missing name and data_dir", "[config]") {
  SECTION("name") {
    temp_conf f("data_dir: \"d\"\n");
    auto r = load(f.path());
    REQUIRE_FALSE(r);
    CHECK(r.code() == config_errc::missing);
    CHECK_THAT(r.message(), Catch::Contains("name"));
  }
  SECTION("data_dir") {
    temp_conf f("name: \"t\"\n");
    auto r = load(f.path());
    REQUIRE_FALSE(r);
    CHECK(r.code() == config_errc::missing);
    CHECK_THAT(r.message(), Catch::Contains("data_dir"));
  }
  SECTION("empty name") {
    temp_conf f("name: \"\"\ndata_dir: \"d\"\n");
    auto r = load(f.path());
    REQUIRE_FALSE(r);
    CHECK(r.code() == config_errc::missing);
    CHECK_THAT(r.message(), Catch::Contains("name"));
  }
}

TEST_CASE("validate checks every documented range", "[config]") {
  NodeConfig c = defaults();
  c.set_name("x");
  c.set_data_dir("/d");
  auto expect = [&](config_errc code, const std::string& text) {
    auto r = validate(c);
    REQUIRE_FALSE(r);
    CHECK(r.code() == code);
    CHECK_THAT(r.message(), Catch::Contains(text));
  };
  SECTION("max_frame_bytes low") {
    c.mutable_limits()->set_max_frame_bytes(63);
    expect(config_errc::out_of_range, "limits.max_frame_bytes: 63 is out of range (64..268435456)");
  }
  SECTION("max_frame_bytes high") {
    c.mutable_limits()->set_max_frame_bytes(268435457);
    expect(config_errc::out_of_range, "limits.max_frame_bytes: 268435457");
  }
  SECTION("max_frame_bytes at the bounds") {
    c.mutable_limits()->set_max_frame_bytes(64);
    CHECK(validate(c));
    c.mutable_limits()->set_max_frame_bytes(268435456);
    CHECK(validate(c));
  }
  SECTION("virtual topics") {
    CHECK(c.virtual_topics().name() == "VirtualTopic.>");
    CHECK(c.virtual_topics().consumer_prefix() == "Consumer.*.");
    c.mutable_virtual_topics()->set_name("VT.>.x");
    expect(config_errc::out_of_range, "virtual_topics.name: bad wildcard");
    c.mutable_virtual_topics()->set_name("");
    CHECK(validate(c)); // no virtual topics
    c.mutable_virtual_topics()->set_name("Orders.*");
    c.mutable_virtual_topics()->set_consumer_prefix("Consumer.*");
    expect(config_errc::out_of_range, "virtual_topics.consumer_prefix: \"Consumer.*\" must be");
    c.mutable_virtual_topics()->set_consumer_prefix("Consumer.>.");
    expect(config_errc::out_of_range, "virtual_topics.consumer_prefix");
    c.mutable_virtual_topics()->set_consumer_prefix("Group.*.x.");
    CHECK(validate(c));
  }
  SECTION("topic subscriber pending messages") {
    c.mutable_limits()->set_topic_subscriber_pending_messages(0);
    expect(config_errc::out_of_range,
           "limits.topic_subscriber_pending_messages: 0 is out of range (at least 1)");
  }
  SECTION("slow topic subscriber") {
    c.mutable_limits()->set_slow_topic_subscriber("drop_newest");
    expect(config_errc::out_of_range,
           "limits.slow_topic_subscriber: \"drop_newest\" is not one of (block, drop_oldest)");
    c.mutable_limits()->set_slow_topic_subscriber("drop_oldest");
    CHECK(validate(c));
  }
  SECTION("scheduler policy") {
    c.mutable_runtime()->set_scheduler_policy("random");
    expect(config_errc::out_of_range, "runtime.scheduler_policy: \"random\" is not one of");
  }
  SECTION("scheduler threads") {
    c.mutable_runtime()->set_scheduler_max_threads(0);
    expect(config_errc::out_of_range, "runtime.scheduler_max_threads: 0 is out of range (1..64)");
    c.mutable_runtime()->set_scheduler_max_threads(65);
    expect(config_errc::out_of_range, "runtime.scheduler_max_threads: 65 is out of range (1..64)");
  }
  SECTION("logging level") {
    c.mutable_logging()->set_level("verbose");
    expect(config_errc::out_of_range, "logging.level: \"verbose\" is not one of");
    for (const char* level : {"trace", "debug", "info", "warn", "error"}) {
      c.mutable_logging()->set_level(level);
      CHECK(validate(c));
    }
  }
  SECTION("store") {
    c.mutable_store()->set_max_size_mb(0);
    expect(config_errc::out_of_range, "store.max_size_mb: 0");
    c.mutable_store()->set_max_size_mb(1);
    c.mutable_store()->set_max_batch(0);
    expect(config_errc::out_of_range, "store.max_batch: 0");
    c.mutable_store()->set_max_batch(1);
    c.mutable_store()->set_auto_ack_delay_ms(60001);
    expect(config_errc::out_of_range, "store.auto_ack_delay_ms: 60001 is out of range (0..60000)");
    c.mutable_store()->set_auto_ack_delay_ms(0);
    CHECK(validate(c));
  }
  SECTION("connector options this node cannot honour") {
    auto* nc = c.add_network_connectors();
    nc->set_uri("static:(tcp://127.0.0.1:1)");
    nc->set_duplex(true);
    expect(config_errc::out_of_range, "network_connectors[0].duplex: true is not supported");
    nc->set_duplex(false);
    nc->set_network_ttl(2);
    expect(config_errc::out_of_range, "network_connectors[0].network_ttl: 2 is not supported");
    nc->set_network_ttl(1);
    nc->set_conduit_subscriptions(false);
    expect(config_errc::out_of_range, "network_connectors[0].conduit_subscriptions: false");
    nc->set_conduit_subscriptions(true);
    CHECK(validate(c));
    auto* second = c.add_network_connectors();
    second->set_uri("static:(tcp://127.0.0.1:2)");
    second->set_replay_delay_ms(nc->replay_delay_ms() + 1);
    expect(config_errc::out_of_range,
           "network_connectors[1].replay_when_no_consumers and replay_delay_ms must be the same");
    second->set_replay_delay_ms(nc->replay_delay_ms());
    CHECK(validate(c));
  }
  SECTION("destination policies") {
    auto* p = c.add_destination_policies();
    expect(config_errc::missing, "destination_policies[0].queue: required key is not set");
    p->set_queue("orders.>");
    p->set_back_off_multiplier(5);
    p->set_dead_letter_strategy("shared");
    p->set_dead_letter_queue("ActiveMQ.DLQ");
    p->set_queue_prefix("DLQ.");
    CHECK(validate(c));
    p->set_redelivery_delay_ms(-5);
    expect(config_errc::out_of_range,
           "destination_policies[0].redelivery_delay_ms: -5 is negative");
    p->set_redelivery_delay_ms(0);
    p->set_initial_redelivery_delay_ms(-1);
    expect(config_errc::out_of_range, "destination_policies[0].initial_redelivery_delay_ms: -1");
    p->set_initial_redelivery_delay_ms(0);
    p->set_maximum_redeliveries(-2);
    expect(config_errc::out_of_range, "destination_policies[0].maximum_redeliveries: -2");
    p->set_maximum_redeliveries(-1);
    p->set_back_off_multiplier(0.5);
    expect(config_errc::out_of_range, "destination_policies[0].back_off_multiplier");
    p->set_back_off_multiplier(1);
    p->set_maximum_redelivery_delay_ms(-7);
    expect(config_errc::out_of_range, "destination_policies[0].maximum_redelivery_delay_ms: -7");
    p->set_maximum_redelivery_delay_ms(-1);
    p->set_dead_letter_strategy("each");
    expect(config_errc::out_of_range, "destination_policies[0].dead_letter_strategy");
    p->set_dead_letter_strategy("individual");
    p->set_queue("topic://prices");
    expect(config_errc::out_of_range, "destination_policies[0].queue: \"topic://prices\"");
    p->set_queue(">");
    p->set_dead_letter_queue("bad name");
    expect(config_errc::out_of_range, "destination_policies[0].dead_letter_queue");
    p->set_dead_letter_queue("ActiveMQ.DLQ");
    CHECK(validate(c));
  }
  SECTION("connector destination patterns") {
    auto* nc = c.add_network_connectors();
    nc->set_uri("static:(tcp://127.0.0.1:1)");
    nc->add_statically_included_destinations("orders.>");
    nc->add_excluded_destinations("queue://*.secret");
    CHECK(validate(c));
    nc->add_excluded_destinations("orders>");
    expect(config_errc::out_of_range,
           "network_connectors[0].excluded_destinations[1]: bad wildcard in destination pattern");
    nc->mutable_excluded_destinations()->RemoveLast();
    nc->add_statically_included_destinations("a.>.b");
    expect(config_errc::out_of_range, "network_connectors[0].statically_included_destinations[1]");
  }
  SECTION("connector uri") {
    c.add_network_connectors()->set_uri("tcp://127.0.0.1:1");
    expect(config_errc::out_of_range, "network_connectors[0].uri: \"tcp://127.0.0.1:1\"");
    c.mutable_network_connectors(0)->clear_uri();
    expect(config_errc::missing, "network_connectors[0].uri");
    c.mutable_network_connectors(0)->set_uri("static:(tcp://127.0.0.1:1)");
    CHECK(validate(c));
  }
  SECTION("ports must differ") {
    c.mutable_console()->set_port(61616);
    expect(config_errc::out_of_range, "console.port: 61616 is already client.port");
  }
  SECTION("empty host") {
    c.mutable_cluster()->set_host("");
    expect(config_errc::out_of_range, "cluster.host");
  }
}

TEST_CASE("the client listener's protocol: known names only, client listener only", "[config]") {
  SECTION("the default") {
    temp_conf f("name: \"t\"\ndata_dir: \"d\"\nclient { port: 61700 }\n");
    auto r = load(f.path());
    INFO(r.message());
    REQUIRE(r);
    CHECK(r->client().protocol() == "actormq");
  }
  SECTION("an unknown protocol") {
    temp_conf f("name: \"t\"\ndata_dir: \"d\"\nclient { protocol: \"amqp\" }\n");
    auto r = load(f.path());
    REQUIRE_FALSE(r);
    CHECK(r.code() == config_errc::out_of_range);
    CHECK_THAT(r.message(), Catch::Contains("client.protocol: \"amqp\" is not a protocol of this "
                                            "node (known: \"actormq\", \"stomp\", \"stomp-ws\")"));
  }
  SECTION("on another listener") {
    temp_conf f("name: \"t\"\ndata_dir: \"d\"\ncluster { protocol: \"actormq\" }\n");
    auto r = load(f.path());
    REQUIRE_FALSE(r);
    CHECK_THAT(r.message(),
               Catch::Contains("cluster.protocol: only the client listener takes a protocol"));
  }
}

TEST_CASE("the stomp listener: off without its block, defaults inside it", "[config]") {
  SECTION("absent") {
    temp_conf f("name: \"t\"\ndata_dir: \"d\"\n");
    auto r = load(f.path());
    REQUIRE(r);
    CHECK_FALSE(r->has_stomp());
  }
  SECTION("an empty block takes ActiveMQ's port") {
    temp_conf f("name: \"t\"\ndata_dir: \"d\"\nstomp { }\n");
    auto r = load(f.path());
    INFO(r.message());
    REQUIRE(r);
    REQUIRE(r->has_stomp());
    CHECK(r->stomp().host() == "127.0.0.1");
    CHECK(r->stomp().port() == 61613);
  }
  SECTION("an override turns it on") {
    temp_conf f("name: \"t\"\ndata_dir: \"d\"\n");
    auto r = load(f.path(), {"stomp.port=61700"});
    INFO(r.message());
    REQUIRE(r);
    CHECK(r->stomp().port() == 61700);
    CHECK(r->stomp().host() == "127.0.0.1");
  }
  SECTION("its port must differ from the others") {
    temp_conf f("name: \"t\"\ndata_dir: \"d\"\nstomp { port: 8161 }\n");
    auto r = load(f.path());
    REQUIRE_FALSE(r);
    CHECK_THAT(r.message(), Catch::Contains("stomp.port: 8161 is already console.port"));
  }
  SECTION("it takes no protocol") {
    temp_conf f("name: \"t\"\ndata_dir: \"d\"\nstomp { protocol: \"stomp\" }\n");
    auto r = load(f.path());
    REQUIRE_FALSE(r);
    CHECK_THAT(r.message(),
               Catch::Contains("stomp.protocol: only the client listener takes a protocol"));
  }
}

TEST_CASE("the replication block: off without it, defaults inside it, checked", "[config]") {
  const std::string base = "name: \"t\"\ndata_dir: \"d\"\n";
  SECTION("absent") {
    temp_conf f(base);
    auto r = load(f.path());
    REQUIRE(r);
    CHECK_FALSE(r->has_replication());
  }
  SECTION("a block with its address takes the defaults") {
    temp_conf f(base + "replication { zk_address: \"127.0.0.1:2181\" }\n");
    auto r = load(f.path());
    INFO(r.message());
    REQUIRE(r);
    REQUIRE(r->has_replication());
    CHECK(r->replication().zk_address() == "127.0.0.1:2181");
    CHECK(r->replication().zk_path() == "/actormq/replicated");
    CHECK(r->replication().replicas() == 3);
    CHECK(r->replication().zk_session_timeout_ms() == 2000);
  }
  SECTION("an override turns it on") {
    temp_conf f(base);
    auto r = load(f.path(), {"replication.zk_address=zk1:2181,zk2:2181"});
    INFO(r.message());
    REQUIRE(r);
    CHECK(r->replication().zk_address() == "zk1:2181,zk2:2181");
    CHECK(r->replication().replicas() == 3);
  }
  auto refused = [&](const std::string& block, const std::string& text) {
    temp_conf f(base + block + "\n");
    auto r = load(f.path());
    REQUIRE_FALSE(r);
    CHECK_THAT(r.message(), Catch::Contains(text));
  };
  SECTION("refused values") {
    refused("replication { }", "replication.zk_address: required key is not set");
    refused("replication { zk_address: \"h:1\" zk_path: \"relative\" }",
            "replication.zk_path: \"relative\" must be an absolute ZooKeeper path");
    refused("replication { zk_address: \"h:1\" zk_path: \"/a/\" }", "replication.zk_path");
    refused("replication { zk_address: \"h:1\" zk_path: \"/a//b\" }", "replication.zk_path");
    refused("replication { zk_address: \"h:1\" zk_path: \"/\" }", "replication.zk_path");
    refused("replication { zk_address: \"h:1\" replicas: 0 }", "replication.replicas: 0");
    refused("replication { zk_address: \"h:1\" replicas: 16 }", "replication.replicas: 16");
    refused("replication { zk_address: \"h:1\" zk_session_timeout_ms: 999 }",
            "replication.zk_session_timeout_ms: 999");
    refused("replication { zk_address: \"h:1\" }\nstandby: true", "replication and standby");
  }
}

TEST_CASE("the ws listener: off without its block, defaults inside it", "[config]") {
  SECTION("absent") {
    temp_conf f("name: \"t\"\ndata_dir: \"d\"\n");
    auto r = load(f.path());
    REQUIRE(r);
    CHECK_FALSE(r->has_ws());
  }
  SECTION("an empty block takes ActiveMQ's port") {
    temp_conf f("name: \"t\"\ndata_dir: \"d\"\nws { }\n");
    auto r = load(f.path());
    INFO(r.message());
    REQUIRE(r);
    REQUIRE(r->has_ws());
    CHECK(r->ws().host() == "127.0.0.1");
    CHECK(r->ws().port() == 61614);
  }
  SECTION("its port must differ from the stomp port") {
    temp_conf f("name: \"t\"\ndata_dir: \"d\"\nstomp { port: 61700 }\nws { port: 61700 }\n");
    auto r = load(f.path());
    REQUIRE_FALSE(r);
    CHECK_THAT(r.message(), Catch::Contains("ws.port: 61700 is already stomp.port"));
  }
  SECTION("it takes no protocol") {
    temp_conf f("name: \"t\"\ndata_dir: \"d\"\nws { protocol: \"stomp\" }\n");
    auto r = load(f.path());
    REQUIRE_FALSE(r);
    CHECK_THAT(r.message(),
               Catch::Contains("ws.protocol: only the client listener takes a protocol"));
  }
}

TEST_CASE("users: none by default, each named once with a password", "[config]") {
  SECTION("none") {
    temp_conf f("name: \"t\"\ndata_dir: \"d\"\n");
    auto r = load(f.path());
    REQUIRE(r);
    CHECK(r->users_size() == 0);
  }
  SECTION("two users") {
    temp_conf f(
        "name: \"t\"\ndata_dir: \"d\"\nusers { username: \"system\" password: \"manager\" }\n"
        "users { username: \"guest\" password: \"\" }\n");
    auto r = load(f.path());
    INFO(r.message());
    REQUIRE(r);
    REQUIRE(r->users_size() == 2);
    CHECK(r->users(0).username() == "system");
    CHECK(r->users(0).password() == "manager");
  }
  SECTION("a user without a name") {
    temp_conf f("name: \"t\"\ndata_dir: \"d\"\nusers { password: \"x\" }\n");
    auto r = load(f.path());
    REQUIRE_FALSE(r);
    CHECK_THAT(r.message(), Catch::Contains("users[0].username: required key is not set"));
  }
  SECTION("a user without a password") {
    temp_conf f("name: \"t\"\ndata_dir: \"d\"\nusers { username: \"x\" }\n");
    auto r = load(f.path());
    REQUIRE_FALSE(r);
    CHECK_THAT(r.message(), Catch::Contains("users[0].password: required key is not set"));
  }
  SECTION("a user listed twice") {
    temp_conf f("name: \"t\"\ndata_dir: \"d\"\nusers { username: \"x\" password: \"a\" }\n"
                "users { username: \"x\" password: \"b\" }\n");
    auto r = load(f.path());
    REQUIRE_FALSE(r);
    CHECK_THAT(r.message(), Catch::Contains("users[1].username: \"x\" is listed twice"));
  }
}

TEST_CASE("a file setting only client.port keeps client.host's default", "[config]") {
  temp_conf f("name: \"t\"\ndata_dir: \"d\"\nclient { port: 61700 }\nstore { sync: false }\n");
  auto r = load(f.path());
  INFO(r.message());
  REQUIRE(r);
  CHECK(r->client().port() == 61700);
  CHECK(r->client().host() == "127.0.0.1");
  CHECK(r->cluster().port() == 62616);
  CHECK_FALSE(r->store().sync());
  CHECK(r->store().max_size_mb() == 1024);
  CHECK(r->store().max_batch() == 1024);
}

TEST_CASE("a file setting a value to zero keeps the zero", "[config]") {
  temp_conf f("name: \"t\"\ndata_dir: \"d\"\nheartbeats { interval_ms: 0 }\n");
  auto r = load(f.path());
  INFO(r.message());
  REQUIRE(r);
  CHECK(r->heartbeats().has_interval_ms());
  CHECK(r->heartbeats().interval_ms() == 0);
  CHECK(r->heartbeats().inactivity_timeout_ms() == 30000);
}

TEST_CASE("network connectors get ActiveMQ's defaults and a name", "[config]") {
  temp_conf f("name: \"t\"\ndata_dir: \"d\"\n"
              "network_connectors { uri: \"static:(tcp://127.0.0.1:1)\" }\n"
              "network_connectors { name: \"x\" uri: \"static:(tcp://127.0.0.1:2)\" "
              "prefetch_size: 7 }\n");
  auto r = load(f.path());
  INFO(r.message());
  REQUIRE(r);
  REQUIRE(r->network_connectors_size() == 2);
  const auto& c0 = r->network_connectors(0);
  CHECK(c0.name() == "connector0");
  CHECK(c0.network_ttl() == default_network_ttl);
  CHECK(c0.duplex() == default_duplex);
  CHECK(c0.decrease_network_consumer_priority());
  CHECK(c0.prefetch_size() == 1000);
  CHECK(c0.replay_when_no_consumers());
  CHECK(c0.replay_delay_ms() == 5000);
  CHECK_FALSE(c0.dynamic_only());
  CHECK(c0.conduit_subscriptions());
  CHECK(c0.max_reconnect_delay_ms() == 1000);
  const auto& c1 = r->network_connectors(1);
  CHECK(c1.name() == "x");
  CHECK(c1.network_ttl() == default_network_ttl);
  CHECK(c1.prefetch_size() == 7);
}

TEST_CASE("a file asking for duplex or a longer network TTL is refused", "[config]") {
  temp_conf f("name: \"t\"\ndata_dir: \"d\"\n"
              "network_connectors { uri: \"static:(tcp://127.0.0.1:2)\" duplex: true }\n");
  auto r = load(f.path());
  REQUIRE_FALSE(r);
  CHECK(r.code() == config_errc::out_of_range);
  CHECK_THAT(r.message(), Catch::Contains("network_connectors[0].duplex: true is not supported"));
  temp_conf g("name: \"t\"\ndata_dir: \"d\"\n"
              "network_connectors { uri: \"static:(tcp://127.0.0.1:2)\" network_ttl: 3 }\n");
  auto s = load(g.path());
  REQUIRE_FALSE(s);
  CHECK_THAT(s.message(), Catch::Contains("network_connectors[0].network_ttl: 3 is not supported"));
}

TEST_CASE("relative paths resolve against the file's folder", "[config]") {
  temp_conf f("name: \"t\"\ndata_dir: \"../data/./x\"\nlogging { file: \"logs/node.log\" }\n");
  auto r = load(f.path());
  INFO(r.message());
  REQUIRE(r);
  const auto base = f.dir();
  CHECK(r->data_dir() == (base.parent_path() / "data" / "x").string());
  CHECK(r->logging().file() == (base / "logs" / "node.log").string());
  CHECK(std::filesystem::path(r->data_dir()).is_absolute());
}

TEST_CASE("absolute paths are kept", "[config]") {
  temp_conf f("name: \"t\"\ndata_dir: \"/var/lib/actormq//a/\"\n");
  auto r = load(f.path());
  INFO(r.message());
  REQUIRE(r);
  CHECK(r->data_dir() == "/var/lib/actormq/a/");
  CHECK_FALSE(r->logging().has_file());
}

TEST_CASE("a relative config path resolves against the working directory", "[config]") {
  temp_conf f(minimal_conf);
  const auto cwd = std::filesystem::current_path();
  std::filesystem::current_path(f.dir().parent_path());
  auto r = load(f.dir().filename() / f.path().filename());
  std::filesystem::current_path(cwd);
  INFO(r.message());
  REQUIRE(r);
  CHECK(r->data_dir() == (f.dir() / "data").string());
}

TEST_CASE("dump loads back to an equal configuration", "[config]") {
  temp_conf f("name: \"t\"\ndata_dir: \"d\"\nclient { port: 1234 }\n"
              "shared_store_uris: \"tcp://127.0.0.1:1234\"\n"
              "shared_store_uris: \"tcp://127.0.0.1:1235\"\n"
              "logging { level: \"debug\" file: \"n.log\" }\n"
              "network_connectors { uri: \"static:(tcp://127.0.0.1:1)\" excluded_destinations: "
              "\"q.>\" }\n");
  auto first = load(f.path(), {"store.sync=false", "limits.max_connections=7"});
  INFO(first.message());
  REQUIRE(first);
  const std::string text = dump(*first);
  CHECK_THAT(text, Catch::Contains("max_connections: 7"));
  temp_conf dumped(text, "dumped.conf");
  auto second = load(dumped.path());
  INFO(second.message());
  REQUIRE(second);
  CHECK(google::protobuf::util::MessageDifferencer::Equals(*first, *second));
  CHECK(dump(*second) == text);
}

TEST_CASE("dump of the defaults prints every default", "[config]") {
  const std::string text = dump(defaults());
  CHECK_THAT(text, Catch::Contains("port: 61616"));
  CHECK_THAT(text, Catch::Contains("sync: true"));
  CHECK_THAT(text, Catch::Contains("scheduler_policy: \"sharing\""));
  CHECK_THAT(text, Catch::Contains("stop_timeout_ms: 5000"));
}

TEST_CASE("error codes have a category and messages", "[config]") {
  std::error_code ec = config_errc::syntax;
  CHECK(ec.category() == config_category());
  CHECK(std::string(ec.category().name()) == "actormq.config");
  CHECK_FALSE(ec.message().empty());
  CHECK(ec.value() == 2);
}
