// The redelivery policy's arithmetic (ActiveMQ's), dead-letter targets, policy entries chosen by
// pattern, client URI options and the dead-letter envelopes.
#include "protocol/dead_letter.hpp"
#include "protocol/envelope.hpp"
#include "protocol/redelivery_policy.hpp"

#include <catch2/catch.hpp>

namespace actormq::protocol {
namespace {

TEST_CASE("the defaults are ActiveMQ's", "[redelivery]") {
  redelivery_policy p;
  CHECK(p.maximum_redeliveries == 6);
  CHECK(p.initial_redelivery_delay_ms == 1000);
  CHECK(p.redelivery_delay_ms == 1000);
  CHECK_FALSE(p.use_exponential_back_off);
  CHECK(p.back_off_multiplier == 5);
  CHECK(p.maximum_redelivery_delay_ms == -1);
  CHECK(p.delay_before(1) == 1000);
  CHECK(p.delay_before(6) == 1000);
}

TEST_CASE("the first redelivery waits the initial delay, later ones the redelivery delay",
          "[redelivery]") {
  redelivery_policy p;
  p.initial_redelivery_delay_ms = 100;
  p.redelivery_delay_ms = 250;
  CHECK(p.delay_before(0) == 100);
  CHECK(p.delay_before(1) == 100);
  CHECK(p.delay_before(2) == 250);
  CHECK(p.delay_before(50) == 250);
}

TEST_CASE("exponential back-off multiplies the previous wait, up to the maximum", "[redelivery]") {
  redelivery_policy p;
  p.initial_redelivery_delay_ms = 10;
  p.use_exponential_back_off = true;
  p.back_off_multiplier = 2;
  CHECK(p.delay_before(1) == 10);
  CHECK(p.delay_before(2) == 20);
  CHECK(p.delay_before(3) == 40);
  CHECK(p.delay_before(5) == 160);
  p.maximum_redelivery_delay_ms = 100;
  CHECK(p.delay_before(4) == 80);
  CHECK(p.delay_before(5) == 1000); // held at max(maximumRedeliveryDelay, redeliveryDelay)
  p.redelivery_delay_ms = 50;
  CHECK(p.delay_before(5) == 100);
  CHECK(p.delay_before(4000000000u) == 100);
  // Without a maximum the wait grows until it saturates, never overflowing.
  p.maximum_redelivery_delay_ms = -1;
  CHECK(p.delay_before(4000000000u) > 0);
  CHECK(p.delay_before(200) >= p.delay_before(100));
  // A multiplier of 1 is no back-off.
  p.back_off_multiplier = 1;
  CHECK(p.delay_before(3) == 50);
  // With an initial delay of 0 the first redelivery is at once, and the growth starts from the
  // redelivery delay.
  p.back_off_multiplier = 3;
  p.initial_redelivery_delay_ms = 0;
  CHECK(p.delay_before(1) == 0);
  CHECK(p.delay_before(2) == 50);
  CHECK(p.delay_before(3) == 150);
}

TEST_CASE("a message is dead once its delivery count exceeds maximumRedeliveries", "[redelivery]") {
  redelivery_policy p;
  CHECK_FALSE(p.exhausted(1));
  CHECK_FALSE(p.exhausted(6));
  CHECK(p.exhausted(7)); // the first delivery and six redeliveries
  p.maximum_redeliveries = 0;
  CHECK(p.exhausted(1));
  p.maximum_redeliveries = -1;
  CHECK_FALSE(p.exhausted(4000000000u));
}

TEST_CASE("the cause names the delivery and the policy in ActiveMQ's words", "[redelivery]") {
  redelivery_policy p;
  CHECK(redelivery_exceeded_cause(7, p) ==
        "Delivery[7] exceeds redelivery policy limit:RedeliveryPolicy {maximumRedeliveries=6, "
        "initialRedeliveryDelay=1000, redeliveryDelay=1000, useExponentialBackOff=false, "
        "backOffMultiplier=5.0, maximumRedeliveryDelay=-1}");
}

TEST_CASE("dead-letter strategies name their queue", "[redelivery]") {
  dead_letter_strategy shared;
  CHECK(shared.target_for("queue://orders") == "queue://ActiveMQ.DLQ");
  dead_letter_strategy individual;
  individual.individual = true;
  CHECK(individual.target_for("queue://orders.eu") == "queue://DLQ.orders.eu");
  individual.queue_prefix = "Dead.";
  CHECK(individual.target_for("queue://orders") == "queue://Dead.orders");
}

destination_policy entry(const std::string& pattern, int32_t max) {
  destination_policy e;
  e.pattern = *parse_destination_pattern(pattern);
  e.redelivery.maximum_redeliveries = max;
  return e;
}

TEST_CASE("the most specific matching policy entry applies", "[redelivery]") {
  std::vector<destination_policy> entries{entry(">", 1), entry("orders.>", 2),
                                          entry("orders.eu", 3), entry("orders.*", 4)};
  CHECK(policy_for(entries, "queue://other")->redelivery.maximum_redeliveries == 1);
  CHECK(policy_for(entries, "queue://orders.eu")->redelivery.maximum_redeliveries == 3);
  // orders.> and orders.* have one literal element each: the first in the file wins.
  CHECK(policy_for(entries, "queue://orders.us")->redelivery.maximum_redeliveries == 2);
  CHECK(policy_for(entries, "queue://orders.us.west")->redelivery.maximum_redeliveries == 2);
  std::vector<destination_policy> none{entry("orders.>", 2)};
  CHECK(policy_for(none, "queue://invoices") == nullptr);
  CHECK(policy_for({}, "queue://invoices") == nullptr);
}

TEST_CASE("client URI options set the policy and refuse what is wrong", "[redelivery]") {
  redelivery_policy p;
  std::string error;
  CHECK(set_redelivery_option(p, "maximumRedeliveries", "3", error));
  CHECK(set_redelivery_option(p, "initialRedeliveryDelay", "20", error));
  CHECK(set_redelivery_option(p, "redeliveryDelay", "30", error));
  CHECK(set_redelivery_option(p, "useExponentialBackOff", "true", error));
  CHECK(set_redelivery_option(p, "backOffMultiplier", "2.5", error));
  CHECK(set_redelivery_option(p, "maximumRedeliveryDelay", "400", error));
  CHECK(p.maximum_redeliveries == 3);
  CHECK(p.initial_redelivery_delay_ms == 20);
  CHECK(p.redelivery_delay_ms == 30);
  CHECK(p.use_exponential_back_off);
  CHECK(p.back_off_multiplier == 2.5);
  CHECK(p.maximum_redelivery_delay_ms == 400);
  auto refused = [&](const std::string& name, const std::string& value) {
    error.clear();
    auto before = p.describe();
    bool ok = set_redelivery_option(p, name, value, error);
    CHECK(p.describe() == before);
    return !ok && !error.empty();
  };
  CHECK(refused("maximumRedeliveries", "-2"));
  CHECK(refused("maximumRedeliveries", "x"));
  CHECK(refused("initialRedeliveryDelay", "-1"));
  CHECK(refused("redeliveryDelay", "-5"));
  CHECK(refused("backOffMultiplier", "0.5"));
  CHECK(refused("backOffMultiplier", "nan"));
  CHECK(refused("useExponentialBackOff", "yes"));
  CHECK(refused("maximumRedeliveryDelay", "-3"));
  CHECK(refused("collisionAvoidanceFactor", "0.1"));
  CHECK(error.find("collisionAvoidanceFactor") != std::string::npos);
}

TEST_CASE("a dead letter keeps its identity, names its cause and where it was, and goes back",
          "[redelivery]") {
  envelope e;
  e.set_destination("queue://orders");
  e.set_body("payload");
  e.set_expiration_ms(1234);
  e.set_origin_store_id("store-1");
  e.set_origin_sequence(17);
  e.set_message_id("ID:1");
  (*e.mutable_properties())["color"] = "red";
  std::string payload;
  encode_envelope(e, payload);

  std::string dead;
  REQUIRE(make_dead_letter(payload, "queue://ActiveMQ.DLQ", "expired", dead));
  envelope d;
  REQUIRE(decode_envelope(dead, d));
  CHECK(d.destination() == "queue://ActiveMQ.DLQ");
  CHECK(d.properties().at("originalDestination") == "queue://orders");
  CHECK(d.properties().at("dlqDeliveryFailureCause") == "expired");
  CHECK(d.properties().at("color") == "red");
  CHECK(d.expiration_ms() == 0);
  CHECK(d.origin_store_id() == "store-1");
  CHECK(d.origin_sequence() == 17);
  CHECK(d.message_id() == "ID:1");
  CHECK(d.body() == "payload");

  std::string back;
  std::string target;
  REQUIRE(make_retry(dead, back, target));
  CHECK(target == "queue://orders");
  envelope r;
  REQUIRE(decode_envelope(back, r));
  CHECK(r.destination() == "queue://orders");
  CHECK(r.properties().count("originalDestination") == 0);
  CHECK(r.properties().count("dlqDeliveryFailureCause") == 0);
  CHECK(r.properties().at("color") == "red");
  CHECK(r.origin_sequence() == 17);

  // Dead twice: the first original destination stays.
  std::string twice;
  REQUIRE(make_dead_letter(dead, "queue://DLQ.ActiveMQ.DLQ", "expired", twice));
  REQUIRE(decode_envelope(twice, d));
  CHECK(d.properties().at("originalDestination") == "queue://orders");

  // Not an envelope, or no original destination: refused.
  CHECK_FALSE(make_dead_letter("\xff\xff", "queue://ActiveMQ.DLQ", "x", dead));
  CHECK_FALSE(make_retry(payload, back, target));
}

} // namespace
} // namespace actormq::protocol
