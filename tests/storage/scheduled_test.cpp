// Scheduled messages in the store ("scheduled", docs/scheduled.md): stored, replaced, removed,
// kept across a reopen and a crash of a journaled store; the memory backend does the same.
#include "storage/memory_backend.hpp"
#include "storage/store.hpp"
#include "test_util.hpp"

#include <catch2/catch.hpp>

using namespace actormq;
using namespace actormq::storage;
using namespace actormq::storage::test;

namespace {

scheduled_entry entry(uint64_t id, int64_t next_ms, std::string payload) {
  scheduled_entry e;
  e.id = id;
  e.destination = "queue://later";
  e.next_ms = next_ms;
  e.period_ms = 250;
  e.repeats_left = 3;
  e.payload = std::move(payload);
  return e;
}

// A reschedule (no producer): the scheduler's own writes.
schedule_op sched(scheduled_entry e) {
  return schedule_op{std::move(e), {}, 0};
}

void exercise(backend& b) {
  std::vector<operation> batch{sched(entry(7, 1000, "seven")),
                               sched(entry(3, 2000, std::string("th\0ree", 6))),
                               sched(entry(0, 5, "zero")), unschedule_op{99}};
  auto r = b.apply(batch);
  REQUIRE(r.size() == 4);
  CHECK_FALSE(r[0].error);
  CHECK_FALSE(r[1].error);
  CHECK(r[2].error == store_errc::io_error);
  CHECK(r[3].error == store_errc::not_found);
  auto listed = b.scheduled();
  REQUIRE(listed.ok());
  REQUIRE(listed->size() == 2);
  CHECK((*listed)[0].id == 3); // by id
  CHECK((*listed)[0].payload == std::string("th\0ree", 6));
  CHECK((*listed)[1].id == 7);
  CHECK((*listed)[1].next_ms == 1000);
  CHECK((*listed)[1].repeats_left == 3);

  // Replaced with its next time, then removed.
  auto next = entry(7, 1250, "seven");
  next.repeats_left = -1;
  next.cron = "*/5 * * * *";
  next.delivered = 1;
  std::vector<operation> update{sched(next), unschedule_op{3}};
  auto u = b.apply(update);
  CHECK_FALSE(u[0].error);
  CHECK_FALSE(u[1].error);
  listed = b.scheduled();
  REQUIRE(listed.ok());
  REQUIRE(listed->size() == 1);
  auto& only = (*listed)[0];
  CHECK(only.id == 7);
  CHECK(only.next_ms == 1250);
  CHECK(only.repeats_left == -1);
  CHECK(only.cron == "*/5 * * * *");
  CHECK(only.delivered == 1);
  CHECK(only.destination == "queue://later");
}

// A producer's scheduled send that comes again (a resend after a failover) is a duplicate;
// the same sequence from another producer, and a reschedule without producer, are not.
void audit(backend& b) {
  auto send = [](uint64_t id, std::string producer, uint64_t sequence) {
    schedule_op op{entry(id, 1000, "p"), std::move(producer), sequence};
    return op;
  };
  std::vector<operation> first{send(21, "producer-a", 5), send(22, "producer-b", 5)};
  auto r = b.apply(first);
  CHECK_FALSE(r[0].error);
  CHECK_FALSE(r[0].duplicate);
  CHECK_FALSE(r[1].duplicate);
  std::vector<operation> again{send(23, "producer-a", 5), send(24, "producer-a", 6),
                               sched(entry(21, 2000, "p"))};
  auto a = b.apply(again);
  CHECK_FALSE(a[0].error);
  CHECK(a[0].duplicate);
  CHECK_FALSE(a[1].duplicate);
  CHECK_FALSE(a[2].duplicate);
  auto listed = b.scheduled();
  REQUIRE(listed.ok());
  std::vector<uint64_t> ids;
  for (auto& e : *listed)
    ids.push_back(e.id);
  CHECK(ids == std::vector<uint64_t>{21, 22, 24});
}

} // namespace

TEST_CASE("a resent scheduled send is stored once", "[scheduled][audit]") {
  SECTION("LMDB") {
    temp_dir dir;
    auto o = options_for(dir);
    {
      auto s = open_store(o);
      audit(*s);
    }
    // The window is stored: after a reopen (a takeover) the resend is still recognised.
    auto again = open_store(o);
    std::vector<operation> resend{schedule_op{entry(25, 1000, "p"), "producer-b", 5}};
    CHECK(again->apply(resend)[0].duplicate);
  }
  SECTION("memory") {
    memory_backend m;
    audit(m);
  }
}

TEST_CASE("scheduled messages are stored, replaced and removed", "[scheduled]") {
  SECTION("LMDB") {
    temp_dir dir;
    auto o = options_for(dir);
    {
      auto s = open_store(o);
      exercise(*s);
    }
    auto again = open_store(o);
    auto listed = again->scheduled();
    REQUIRE(listed.ok());
    REQUIRE(listed->size() == 1);
    CHECK((*listed)[0].next_ms == 1250);
  }
  SECTION("memory") {
    memory_backend m;
    exercise(m);
  }
}

TEST_CASE("a journaled store that dies keeps its scheduled messages", "[scheduled][journal]") {
  temp_dir dir;
  auto o = options_for(dir, true);
  o.journal = true;
  child_process child(::fork());
  if (child.pid() == 0) {
    int code = 0;
    {
      auto s = store::open(o);
      if (!s)
        ::_exit(1);
      std::vector<operation> batch{sched(entry(11, 500, "a")), sched(entry(12, 600, "b"))};
      for (auto& r : (*s)->apply(batch))
        if (r.error)
          code = 2;
      std::vector<operation> removal{unschedule_op{11}};
      if ((*s)->apply(removal)[0].error)
        code = 3;
      // Dies with the batches in the journal only.
      ::_exit(code);
    }
  }
  int status = child.kill_and_wait(0);
  REQUIRE(WIFEXITED(status));
  REQUIRE(WEXITSTATUS(status) == 0);
  auto s = open_store(o);
  s->set_checkpoint_requester([p = s.get()] { (void)p->checkpoint(); });
  auto listed = s->scheduled();
  REQUIRE(listed.ok());
  REQUIRE(listed->size() == 1);
  CHECK((*listed)[0].id == 12);
  CHECK((*listed)[0].payload == "b");
}
