// A full store: puts stop at the high-water mark so that deletes (acknowledgements) always have
// room, whatever their order and batch size, and nothing deleted comes back after a reopen.
#include "test_util.hpp"

#include <algorithm>
#include <numeric>
#include <random>

using namespace actormq::storage;
using namespace actormq::storage::test;

namespace {

// Deletes `keys` in batches of `batch_size`, each batch also carrying one put (which may fail
// with store_full, as a producer's send beside the acknowledgements would); requires every
// delete to succeed. Returns how many of the puts were stored.
uint64_t delete_in_batches(store& s, uint32_t dest, const std::vector<uint64_t>& keys,
                           size_t batch_size, uint64_t& next_put, const std::string& body) {
  uint64_t stored = 0;
  for (size_t first = 0; first < keys.size(); first += batch_size) {
    std::vector<operation> batch;
    batch.push_back(make_put(dest, next_put, body));
    size_t last = std::min(keys.size(), first + batch_size);
    for (size_t i = first; i < last; ++i)
      batch.push_back(delete_op{dest, keys[i]});
    auto results = s.apply(batch);
    REQUIRE(results.size() == batch.size());
    if (!results[0].error) {
      ++stored;
      ++next_put;
    } else {
      CHECK(results[0].error == store_errc::store_full);
    }
    for (size_t i = 1; i < results.size(); ++i) {
      INFO("delete of message " << keys[first + i - 1] << ": " << results[i].error.message());
      REQUIRE_FALSE(results[i].error);
    }
  }
  return stored;
}

std::vector<uint64_t> one_to(uint64_t n) {
  std::vector<uint64_t> keys(n);
  std::iota(keys.begin(), keys.end(), 1);
  return keys;
}

} // namespace

TEST_CASE("acknowledgements of a full store commit in order, whatever the batch size",
          "[store][full]") {
  temp_dir dir;
  auto opts = options_for(dir);
  opts.max_size_bytes = 4ull << 20;
  const std::string body(1024, 'b'); // three or four bodies to a page: a delete copies pages
  for (size_t batch_size : {size_t{1024}, size_t{100}, size_t{1}}) {
    DYNAMIC_SECTION("batches of " << batch_size) {
      auto s = open_store(opts);
      uint32_t q = create_destination(*s, "queue://full");
      uint64_t n = fill_until_full(*s, q, body, 10000);
      REQUIRE(n > 1000);
      uint64_t next_put = n + 1;
      auto stored = delete_in_batches(*s, q, one_to(n), batch_size, next_put, body);
      // Nothing deleted is left, and a reopen brings nothing back.
      CHECK(sequences_of(*s, q).size() == stored);
      s.reset();
      s = open_store(opts);
      CHECK(sequences_of(*s, q).size() == stored);
    }
  }
}

TEST_CASE("acknowledgements in random order of a full store all commit", "[store][full]") {
  temp_dir dir;
  auto opts = options_for(dir);
  opts.max_size_bytes = 4ull << 20;
  auto s = open_store(opts);
  uint32_t q = create_destination(*s, "queue://full");
  const std::string body(1500, 'r'); // two bodies to a page: each delete touches its own page
  for (int round = 0; round < 3; ++round) {
    INFO("round " << round);
    auto before = sequences_of(*s, q);
    uint64_t first = before.empty() ? 1 : before.back() + 1;
    uint64_t n = 0;
    for (;; ++n) {
      REQUIRE(n < 10000);
      std::vector<operation> batch{make_put(q, first + n, body)};
      if (s->apply(batch)[0].error)
        break;
    }
    auto keys = sequences_of(*s, q);
    REQUIRE(keys.size() > 500);
    std::shuffle(keys.begin(), keys.end(), std::mt19937_64(42 + round));
    uint64_t next_put = first + n + 1;
    auto stored = delete_in_batches(*s, q, keys, 1024, next_put, body);
    CHECK(sequences_of(*s, q).size() == stored);
  }
}

TEST_CASE("a purge of a full store commits", "[store][full]") {
  temp_dir dir;
  auto opts = options_for(dir);
  opts.max_size_bytes = 4ull << 20;
  auto s = open_store(opts);
  uint32_t q = create_destination(*s, "queue://full");
  const std::string body(1024, 'p');
  uint64_t n = fill_until_full(*s, q, body, 10000);
  REQUIRE(n > 1000);
  std::vector<operation> refused{make_put(q, n + 1, body)};
  CHECK(s->apply(refused)[0].error == store_errc::store_full);
  std::vector<operation> batch{purge_op{q}};
  auto r = s->apply(batch);
  REQUIRE_FALSE(r[0].error);
  CHECK(r[0].count == n);
  CHECK(sequences_of(*s, q).empty());
  apply_ok(*s, {make_put(q, n + 2, body)}); // the purge made room
}

TEST_CASE("a batch of deletes larger than the reserve commits in parts", "[store][full]") {
  temp_dir dir;
  auto opts = options_for(dir);
  opts.max_size_bytes = 8ull << 20;
  opts.reserve_bytes = 64ull << 10; // 16 pages: far less than 1024 scattered deletes copy
  auto s = open_store(opts);
  CHECK(s->stats().reserved_bytes == opts.reserve_bytes);
  uint32_t q = create_destination(*s, "queue://full");
  const std::string body(1500, 's');
  uint64_t n = fill_until_full(*s, q, body, 10000);
  REQUIRE(n > 1500);
  auto keys = sequences_of(*s, q);
  std::shuffle(keys.begin(), keys.end(), std::mt19937_64(7));
  keys.resize(1024);
  std::vector<operation> batch;
  for (auto key : keys)
    batch.push_back(delete_op{q, key});
  auto commits = s->stats().commits;
  apply_ok(*s, batch);
  CHECK(s->stats().commits > commits + 1); // it did not fit in one
  CHECK(sequences_of(*s, q).size() == n - 1024);
  s.reset();
  s = open_store(opts);
  CHECK(sequences_of(*s, q).size() == n - 1024);
}

TEST_CASE("the default reserve is a tenth of the map, 2 MiB to a quarter of it", "[store][full]") {
  temp_dir dir;
  auto opts = options_for(dir);
  for (auto [map_mib, reserve_kib] :
       {std::pair<uint64_t, uint64_t>{1, 256}, {4, 1024}, {12, 2048}, {64, 6553}}) {
    INFO(map_mib << " MiB");
    opts.max_size_bytes = map_mib << 20;
    auto s = open_store(opts);
    CHECK(s->stats().reserved_bytes / 4096 == (reserve_kib << 10) / 4096);
  }
}

TEST_CASE("the room for puts shrinks as puts fill the store and comes back with deletes",
          "[store][full]") {
  temp_dir dir;
  auto opts = options_for(dir);
  opts.max_size_bytes = 4ull << 20;
  auto s = open_store(opts);
  uint32_t q = create_destination(*s, "queue://room");
  auto empty = s->room_for_puts();
  CHECK(empty > (1ull << 20));
  CHECK(empty < opts.max_size_bytes);
  const std::string body(1024, 'r');
  uint64_t n = fill_until_full(*s, q, body, 10000);
  REQUIRE(n > 100);
  // Full: a put fails, and the measure says there is no room for its body.
  CHECK(s->room_for_puts() < body.size() * 4);
  std::vector<operation> deletes;
  for (uint64_t key = 1; key <= n / 2; ++key)
    deletes.push_back(delete_op{q, key});
  for (auto& r : s->apply(deletes))
    REQUIRE_FALSE(r.error);
  auto room = s->room_for_puts();
  CHECK(room > (n / 4) * body.size());
  // What the measure promised fits.
  std::vector<operation> puts;
  for (uint64_t i = 0; i < room / (body.size() * 2); ++i)
    puts.push_back(make_put(q, n + 1 + i, body));
  for (auto& r : s->apply(puts))
    CHECK_FALSE(r.error);
}
