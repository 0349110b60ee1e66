// The typed interfaces that cross the cluster port: every type in the front door's messages,
// typed handles included, is announced (actors/message_types.cpp), so that CAF can carry a
// bridge's link to a peer and the peer's answer back.
#include "actors/front_door.hpp"
#include "actors/message_types.hpp"

#include <caf/actor_system_config.hpp>
#include <catch2/catch.hpp>

#include <typeindex>

using namespace actormq::actors;

TEST_CASE("the front door's link carries announced handle types", "[interfaces]") {
  caf::actor_system_config cfg;
  register_message_types(cfg);
  auto name_of = [&](const std::type_info& t) {
    auto i = cfg.type_names_by_rtti.find(std::type_index(t));
    return i == cfg.type_names_by_rtti.end() ? std::string{} : i->second;
  };
  CHECK(name_of(typeid(bridge_actor)) == "actormq.bridge_actor");
  CHECK(name_of(typeid(inbound_actor)) == "actormq.inbound_actor");
  CHECK_FALSE(name_of(typeid(demand_list)).empty()); // CAF names lists of announced types
  CHECK(name_of(typeid(forwarded_message)) == "actormq.forwarded_message");
  CHECK_FALSE(name_of(typeid(key_list)).empty());
  CHECK(name_of(typeid(inspector_snapshot)) == "actormq.inspector_snapshot");
  // destination_stats is protocol::destination_counts: one type, one name.
  CHECK(name_of(typeid(actormq::protocol::destination_counts)) == "actormq.destination_stats");
}
