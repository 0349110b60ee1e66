// The queue actor with a real store actor on the in-memory storage backend.
#include "actors/queue.hpp"
#include "actors/store_actor.hpp"
#include "storage/memory_backend.hpp"

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/scoped_actor.hpp>
#include <catch2/catch.hpp>

#include <chrono>
#include <memory>
#include <string>
#include <vector>

using namespace actormq;
using namespace actormq::actors;

TEST_CASE("a queue answers a subscription before it dispatches on it") {
  std::shared_ptr<storage::backend> db = std::make_shared<storage::memory_backend>();
  std::vector<storage::operation> create{storage::create_destination_op{"queue://t"}};
  auto created = db->apply(create);
  REQUIRE_FALSE(created.front().error);
  storage::destination_record record;
  record.id = created.front().destination_id;
  record.name = "queue://t";

  caf::actor_system_config cfg;
  caf::actor_system sys{cfg};
  auto store =
      sys.spawn<caf::detached>(store_behavior, db, size_t{1024}, std::chrono::milliseconds(0),
                               std::chrono::milliseconds(500), store_flow_settings{});
  queue_settings settings;
  settings.name = record.name;
  settings.destination_id = record.id;
  auto queue = sys.spawn(queue_behavior, settings, db, store, record);
  caf::scoped_actor self{sys};
  for (int i = 0; i < 2; ++i) {
    incoming_message m;
    m.persistent = false;
    m.payload = "m" + std::to_string(i);
    self->request(queue, std::chrono::seconds(10), send_atom::value, std::move(m))
        .receive([](send_result&) {}, [](caf::error& err) { FAIL(caf::to_string(err)); });
  }
  // Sent, not requested: the answer arrives as an ordinary message, in order with deliveries.
  self->send(queue, subscribe_atom::value, caf::actor_cast<consumer_actor>(self),
             subscription{1, 10, 0, false, {}, false});
  std::vector<std::string> seen;
  for (int i = 0; i < 3; ++i)
    self->receive([&](uint64_t) { seen.emplace_back("answer"); },
                  [&](dispatch_atom, delivery&) { seen.emplace_back("delivery"); },
                  caf::after(std::chrono::seconds(10)) >> [&] { seen.emplace_back("nothing"); });
  CHECK(seen == std::vector<std::string>{"answer", "delivery", "delivery"});
  self->send_exit(queue, caf::exit_reason::user_shutdown);
  self->send(store, stop_atom::value);
}
