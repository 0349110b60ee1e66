// The LMDB store's commits leave their meta page unflushed (MDB_NOMETASYNC): the next commit that
// writes, or flush(), makes them durable. What the store says about that is what the store actor
// relies on before it answers a write (tests/integration/test_power_cut.py checks it on disk).
#include "storage/store.hpp"
#include "test_util.hpp"

using namespace actormq::storage;
using namespace actormq::storage::test;

TEST_CASE("flush() flushes a synced store and does nothing for one opened without sync",
          "[store]") {
  temp_dir dir;
  temp_dir unsynced;
  auto s = open_store(options_for(dir, true));
  auto u = open_store(options_for(unsynced, false));
  CHECK(s->flush().ok());
  CHECK(s->stats().flushes == 1);
  CHECK(u->flush().ok());
  CHECK(u->stats().flushes == 0);
}

TEST_CASE("an apply that wrote flushed the commits before it; one that changed nothing did not",
          "[store]") {
  temp_dir dir;
  auto s = open_store(options_for(dir, true));
  auto q = create_destination(*s, "queue://f");
  CHECK(s->last_apply_flushed());

  std::vector<operation> put{make_put(q, 1, "one")};
  s->apply(put);
  CHECK(s->last_apply_flushed());

  // A delete of a message that is not there changes nothing: LMDB commits without a flush.
  std::vector<operation> nothing{delete_op{q, 99}};
  auto r = s->apply(nothing);
  REQUIRE(r.size() == 1);
  CHECK(r.front().error == store_errc::not_found);
  CHECK_FALSE(s->last_apply_flushed());

  auto before = s->stats().flushes;
  REQUIRE(s->flush().ok());
  CHECK(s->stats().flushes == before + 1);

  std::vector<operation> del{delete_op{q, 1}};
  s->apply(del);
  CHECK(s->last_apply_flushed());
}
