#include "actors/destination_history.hpp"

#include <catch2/catch.hpp>

using namespace actormq::actors;

namespace {

history_sample at(int64_t t, uint64_t enqueued) {
  return history_sample{t, enqueued, enqueued / 2, enqueued - enqueued / 2};
}

} // namespace

TEST_CASE("destination history keeps the newest samples per destination", "[history]") {
  destination_history h(3, 10);
  for (int64_t t = 1; t <= 5; ++t)
    h.record({{"queue://a", at(t * 1000, static_cast<uint64_t>(t) * 10)}});
  auto s = h.series("queue://a");
  REQUIRE(s.size() == 3);
  CHECK(s.front().time_ms == 3000);
  CHECK(s.back().time_ms == 5000);
  CHECK(s.back().enqueued == 50);
  CHECK(s.back().dequeued == 25);
  CHECK(h.series("queue://b").empty());
}

TEST_CASE("destination history forgets a destination that is gone", "[history]") {
  destination_history h(5, 10);
  h.record({{"queue://a", at(1000, 1)}, {"topic://t", at(1000, 2)}});
  h.record({{"topic://t", at(2000, 3)}});
  CHECK(h.series("queue://a").empty());
  CHECK(h.series("topic://t").size() == 2);
  // Back again: it starts afresh.
  h.record({{"queue://a", at(3000, 7)}, {"topic://t", at(3000, 4)}});
  REQUIRE(h.series("queue://a").size() == 1);
  CHECK(h.series("queue://a").front().enqueued == 7);
}

TEST_CASE("destination history follows at most max_destinations, the first by name", "[history]") {
  destination_history h(4, 2);
  h.record({{"queue://c", at(1000, 1)}, {"queue://a", at(1000, 1)}, {"queue://b", at(1000, 1)}});
  CHECK(h.series("queue://a").size() == 1);
  CHECK(h.series("queue://b").size() == 1);
  CHECK(h.series("queue://c").empty());
}
