// The transaction actor with two queues and a real store actor on the in-memory storage backend:
// a commit's puts and deletes on both queues go to the store as one write (one commit), its
// sends become dispatchable after it, and a commit one of whose queues cannot prepare applies
// nothing.
#include "actors/errors.hpp"
#include "actors/queue.hpp"
#include "actors/store_actor.hpp"
#include "actors/transaction.hpp"
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

namespace {

struct two_queues {
  std::shared_ptr<storage::backend> db = std::make_shared<storage::memory_backend>();
  caf::actor_system_config cfg;
  caf::actor_system sys{cfg};
  store_actor store;
  std::vector<queue_actor> queues;
  std::vector<uint32_t> ids;

  two_queues() {
    store = sys.spawn<caf::detached>(store_behavior, db, size_t{1024}, std::chrono::milliseconds(0),
                                     std::chrono::milliseconds(500), store_flow_settings{});
    for (std::string name : {"queue://a", "queue://b"}) {
      std::vector<storage::operation> create{storage::create_destination_op{name}};
      auto created = db->apply(create);
      REQUIRE_FALSE(created.front().error);
      storage::destination_record record;
      record.id = created.front().destination_id;
      record.name = name;
      queue_settings settings;
      settings.name = name;
      settings.destination_id = record.id;
      queues.push_back(sys.spawn(queue_behavior, settings, db, store, record));
      ids.push_back(record.id);
    }
  }

  ~two_queues() {
    caf::scoped_actor self{sys};
    for (auto& q : queues)
      self->send_exit(q, caf::exit_reason::user_shutdown);
    self->send(store, stop_atom::value);
  }

  uint64_t commits() {
    caf::scoped_actor self{sys};
    uint64_t out = 0;
    self->request(store, std::chrono::seconds(10), snapshot_atom::value)
        .receive([&](store_snapshot& s) { out = s.commits; },
                 [](caf::error& err) { FAIL(caf::to_string(err)); });
    return out;
  }

  size_t stored(size_t queue) {
    auto entries = db->recover(ids[queue]);
    REQUIRE(entries);
    return entries->size();
  }
};

incoming_message message(const std::string& text, uint64_t sequence) {
  incoming_message m;
  m.payload = text;
  m.producer_id = "p1";
  m.producer_sequence = sequence;
  return m;
}

caf::expected<transaction_result> commit(two_queues& t, transaction_plan plan) {
  caf::scoped_actor self{t.sys};
  auto committer = t.sys.spawn(transaction_behavior, std::move(plan), t.store);
  caf::expected<transaction_result> out{caf::error{}};
  self->request(committer, std::chrono::seconds(10), commit_atom::value)
      .receive([&](transaction_result& r) { out = r; }, [&](caf::error& err) { out = err; });
  return out;
}

} // namespace

TEST_CASE("a commit's sends to two queues are one store commit", "[transaction]") {
  two_queues t;
  auto before = t.commits();
  transaction_plan plan;
  plan.sends.push_back({t.queues[0], {message("a1", 1), message("a2", 2)}});
  plan.sends.push_back({t.queues[1], {message("b1", 3)}});
  auto r = commit(t, std::move(plan));
  REQUIRE(r);
  CHECK(r->sends == 3);
  CHECK(r->duplicates == 0);
  CHECK(t.commits() == before + 1);
  CHECK(t.stored(0) == 2);
  CHECK(t.stored(1) == 1);

  // The same (producer, sequence) pairs again: the producer audit recognises every one.
  transaction_plan again;
  again.sends.push_back({t.queues[0], {message("a1", 1), message("a2", 2)}});
  again.sends.push_back({t.queues[1], {message("b1", 3)}});
  auto r2 = commit(t, std::move(again));
  REQUIRE(r2);
  CHECK(r2->duplicates == 3);
  CHECK(t.stored(0) == 2);
  CHECK(t.stored(1) == 1);
}

TEST_CASE("a commit one of whose destinations cannot prepare applies nothing", "[transaction]") {
  two_queues t;
  transaction_plan plan;
  plan.sends.push_back({t.queues[0], {message("a1", 1)}});
  // An acknowledgement of a subscription the queue does not have: its prepare fails.
  plan.acks.push_back({t.queues[1], 99, {1}, false});
  auto r = commit(t, std::move(plan));
  REQUIRE_FALSE(r);
  CHECK(r.error().code() == static_cast<uint8_t>(broker_errc::transaction_rolled_back));
  CHECK(t.stored(0) == 0);
}
