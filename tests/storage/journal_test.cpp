// The write-ahead journal: its records, its file, and a store that dies between checkpoints.
#include "storage/journal.hpp"
#include "storage/journal_records.hpp"
#include "storage/store.hpp"
#include "test_util.hpp"

#include <catch2/catch.hpp>

#include <fcntl.h>
#include <unistd.h>

#include <fstream>
#include <sstream>

using namespace actormq;
using namespace actormq::storage;
using namespace actormq::storage::test;

namespace {

store_options journal_options(const temp_dir& dir, uint64_t journal_bytes = 32ull << 20) {
  auto o = options_for(dir, true);
  o.journal = true;
  o.journal_bytes = journal_bytes;
  return o;
}

// Reads checkpoint on the test's own thread.
std::unique_ptr<store> open_journaled(const store_options& o) {
  auto s = open_store(o);
  s->set_checkpoint_requester([p = s.get()] { (void)p->checkpoint(); });
  return s;
}

std::string describe(const std::vector<operation>& ops) {
  std::ostringstream out;
  for (auto& op : ops) {
    out << op.index() << ":";
    std::visit(
        [&](const auto& o) {
          using T = std::decay_t<decltype(o)>;
          if constexpr (std::is_same_v<T, put_op>)
            out << o.destination_id << "/" << o.entry.sequence << "/" << o.entry.priority << "/"
                << o.entry.expiration_ms << "/" << o.entry.flags << "/" << o.entry.delivery_count
                << "/" << o.payload << "/" << o.producer_id << "/" << o.producer_sequence;
          else if constexpr (std::is_same_v<T, shared_put_op>) {
            out << o.audit_destination_id << "/" << o.payload << "/" << o.producer_id << "/"
                << o.producer_sequence;
            for (auto& t : o.targets)
              out << "/" << t.destination_id << "." << t.entry.sequence;
          } else if constexpr (std::is_same_v<T, delete_op>)
            out << o.destination_id << "/" << o.sequence;
          else if constexpr (std::is_same_v<T, purge_op> ||
                             std::is_same_v<T, remove_destination_op>)
            out << o.destination_id;
          else if constexpr (std::is_same_v<T, create_destination_op>)
            out << o.name;
          else if constexpr (std::is_same_v<T, set_flags_op>)
            out << o.destination_id << "/" << o.sequence << "/" << o.flags;
          else if constexpr (std::is_same_v<T, mark_transfer_op>)
            out << o.link_id << "/" << o.link_sequence << "/" << o.destination_id << "/"
                << o.sequence;
          else if constexpr (std::is_same_v<T, clear_transfer_op>)
            out << o.link_id << "/" << o.link_sequence << "/" << o.delete_message;
          else if constexpr (std::is_same_v<T, record_delivery_op>)
            out << o.destination_id << "/" << o.sequence << "/" << o.delivery_count;
          else if constexpr (std::is_same_v<T, move_op>)
            out << o.from_destination_id << "/" << o.from_sequence << "/" << o.to_destination_id
                << "/" << o.to_sequence;
          else if constexpr (std::is_same_v<T, schedule_op>)
            out << o.entry.id << "/" << o.entry.destination << "/" << o.entry.next_ms << "/"
                << o.entry.period_ms << "/" << o.entry.repeats_left << "/" << o.entry.cron << "/"
                << o.entry.delivered << "/" << o.entry.payload << "/" << o.producer_id << "/"
                << o.producer_sequence;
          else if constexpr (std::is_same_v<T, unschedule_op>)
            out << o.id;
          else if constexpr (std::is_same_v<T, relocate_op>)
            out << o.from_destination_id << "/" << o.from_sequence << "/" << o.to_destination_id
                << "/" << o.entry.sequence << "/" << o.entry.expiration_ms << "/" << o.payload;
        },
        op);
    out << ";";
  }
  return out.str();
}

std::vector<operation> every_kind() {
  put_op put = make_put(3, 9, std::string("body\0with nul", 13), "producer-1", 77);
  put.entry.priority = 7;
  put.entry.expiration_ms = 123456789;
  put.entry.flags = 5;
  put.entry.delivery_count = 2;
  shared_put_op shared;
  shared.audit_destination_id = 4;
  shared.targets = {{5, {}}, {6, {}}};
  shared.targets[0].entry.sequence = 11;
  shared.targets[1].entry.sequence = 12;
  shared.payload = "shared";
  shared.producer_id = "p2";
  shared.producer_sequence = 3;
  schedule_op scheduled;
  scheduled.entry = {41,
                     "queue://later",
                     1'800'000'000'000,
                     500,
                     -1,
                     "*/5 * * * *",
                     2,
                     std::string("env\0elope", 9)};
  scheduled.producer_id = "p3";
  scheduled.producer_sequence = 8;
  return {put,
          delete_op{3, 9},
          purge_op{8},
          create_destination_op{"queue://a"},
          set_flags_op{3, 10, 1},
          mark_transfer_op{"link", 4, 3, 11},
          clear_transfer_op{"link", 4, false},
          remove_destination_op{9},
          record_delivery_op{3, 12, 4},
          shared,
          move_op{3, 13, 4, 14},
          scheduled,
          unschedule_op{42},
          relocate_op{3, 15, 4, {16, 0, 4, 99, 0, 0}, "dead"}};
}

} // namespace

TEST_CASE("journal records carry every kind of operation", "[journal]") {
  auto ops = every_kind();
  REQUIRE(ops.size() == std::variant_size_v<operation>);
  std::string payload = detail::encode_operations(ops, 0, ops.size());
  std::vector<operation> back;
  REQUIRE(detail::decode_operations(payload, back));
  CHECK(describe(back) == describe(ops));

  SECTION("a part of a batch") {
    std::vector<operation> part;
    REQUIRE(detail::decode_operations(detail::encode_operations(ops, 2, 5), part));
    CHECK(describe(part) == describe(std::vector<operation>(ops.begin() + 2, ops.begin() + 5)));
  }
  SECTION("every cut short or lengthened record is refused") {
    for (size_t n = 0; n < payload.size(); ++n) {
      std::vector<operation> out;
      INFO("cut at " << n);
      CHECK_FALSE(detail::decode_operations(payload.substr(0, n), out));
    }
    std::vector<operation> out;
    CHECK_FALSE(detail::decode_operations(payload + "x", out));
  }
  SECTION("which parts may be answered before the flush") {
    std::vector<operation> acks{delete_op{1, 1}, clear_transfer_op{"l", 1, true}};
    CHECK(detail::may_answer_unflushed(acks, 0, acks.size()));
    CHECK_FALSE(detail::may_answer_unflushed(ops, 0, 1));
    CHECK(detail::may_answer_unflushed(ops, 1, 2));
    CHECK_FALSE(detail::may_answer_unflushed(ops, 1, 3));
  }
}

TEST_CASE("a journal replays its records in order up to a torn or stale one", "[journal]") {
  temp_dir dir;
  std::filesystem::create_directories(dir.path());
  auto path = dir.path() / "journal";
  auto collect = [&](detail::journal& j, uint64_t applied) {
    std::vector<std::string> seen;
    auto last = j.replay(applied, [&](uint64_t number, uint8_t, std::string_view payload) {
      seen.push_back(std::to_string(number) + "=" + std::string(payload));
      return result<void>{};
    });
    REQUIRE(last.ok());
    return std::make_pair(*last, seen);
  };
  {
    auto j = detail::journal::open(path, "store-a", 1 << 20, false);
    REQUIRE(j.ok());
    REQUIRE((*j)->append(1, 0, "one").ok());
    REQUIRE((*j)->append(2, 0, "two").ok());
    REQUIRE((*j)->append(3, 0, "three").ok());
    REQUIRE((*j)->flush().ok());
  }
  {
    auto j = detail::journal::open(path, "store-a", 1 << 20, false);
    REQUIRE(j.ok());
    auto [last, seen] = collect(**j, 0);
    CHECK(last == 3);
    CHECK(seen == std::vector<std::string>{"1=one", "2=two", "3=three"});
    // After a checkpoint of record 1, record 1 at the start ends the replay.
    CHECK(collect(**j, 1).second.empty());
    // A new round after a checkpoint of 3: 4 overwrites 1; the stale 2 behind it ends it.
    (*j)->restart();
    REQUIRE((*j)->append(4, 0, "ONE").ok());
    auto [last4, seen4] = collect(**j, 3);
    CHECK(last4 == 4);
    CHECK(seen4 == std::vector<std::string>{"4=ONE"});
  }
  SECTION("a damaged byte ends the replay before the damaged record") {
    {
      int fd = ::open(path.c_str(), O_RDWR);
      REQUIRE(fd >= 0);
      // The second record starts behind the header and the first ("ONE", 3 bytes).
      off_t second_payload = detail::journal::header_size + detail::journal::record_overhead + 3 +
                             detail::journal::record_overhead;
      REQUIRE(::pwrite(fd, "X", 1, second_payload) == 1);
      ::close(fd);
    }
    auto j = detail::journal::open(path, "store-a", 1 << 20, false);
    REQUIRE(j.ok());
    // Round 2 holds only record 4; damage in the stale record changes nothing.
    CHECK(collect(**j, 3).first == 4);
  }
  SECTION("a journal of another store is refused, or discarded for a new store") {
    auto refused = detail::journal::open(path, "store-b", 1 << 20, false);
    REQUIRE_FALSE(refused.ok());
    CHECK(refused.code() == store_errc::corrupt);
    auto fresh = detail::journal::open(path, "store-b", 1 << 20, true);
    REQUIRE(fresh.ok());
    CHECK(collect(**fresh, 0).second.empty());
  }
}

TEST_CASE("a store that dies between checkpoints applies its journal when opened again",
          "[journal][store]") {
  temp_dir dir;
  auto o = journal_options(dir);
  uint32_t q = 0;
  {
    auto s = open_journaled(o);
    q = create_destination(*s, "queue://journal");
    REQUIRE(s->checkpoint().ok());
  }
  child_process child(::fork());
  if (child.pid() == 0) {
    int code = 0;
    {
      auto s = store::open(o);
      if (!s)
        ::_exit(1);
      for (uint64_t seq = 1; seq <= 50; ++seq) {
        std::vector<operation> batch{make_put(q, seq, "m" + std::to_string(seq), "p", seq)};
        if ((*s)->apply(batch)[0].error)
          code = 2;
      }
      for (uint64_t seq = 1; seq <= 10; ++seq) {
        std::vector<operation> batch{delete_op{q, seq}};
        if ((*s)->apply(batch)[0].error)
          code = 3;
      }
      if ((*s)->stats().checkpoints != 0)
        code = 4; // the 60 batches were meant to stay in the journal only
      // Dies here, its transaction open: the store file has none of the 60 batches.
      ::_exit(code);
    }
  }
  int status = child.kill_and_wait(0);
  REQUIRE(WIFEXITED(status));
  REQUIRE(WEXITSTATUS(status) == 0);

  auto s = open_journaled(o);
  CHECK(s->info().replayed_records == 60);
  std::vector<uint64_t> expected;
  for (uint64_t seq = 11; seq <= 50; ++seq)
    expected.push_back(seq);
  CHECK(sequences_of(*s, q) == expected);
  auto payload = s->read_payload(q, 50);
  REQUIRE(payload.ok());
  CHECK(*payload == "m50");
  auto records = s->destinations();
  REQUIRE(records.ok());
  REQUIRE(records->size() == 1);
  CHECK((*records)[0].enqueued == 50);
  CHECK((*records)[0].dequeued == 10);
  // The producer audit came back too: a resend is a duplicate.
  std::vector<operation> resend{make_put(q, 51, "again", "p", 50)};
  auto r = s->apply(resend);
  CHECK(r[0].duplicate);
  // Opened again, nothing is applied twice.
  REQUIRE(s->checkpoint().ok());
  s.reset();
  auto again = open_journaled(o);
  CHECK(again->info().replayed_records == 0);
  CHECK(sequences_of(*again, q) == expected);
}

TEST_CASE("a store's readers see its batches through a checkpoint", "[journal][store]") {
  temp_dir dir;
  auto o = journal_options(dir);
  auto s = open_store(o);
  uint32_t q = create_destination(*s, "queue://seen");
  apply_ok(*s, {make_put(q, 1, "one")});
  CHECK(s->checkpoint_due());
  SECTION("without a requester, a read that would miss them fails") {
    auto payload = s->read_payload(q, 1);
    REQUIRE_FALSE(payload.ok());
    CHECK(payload.code() == store_errc::io_error);
    REQUIRE_FALSE(s->destinations().ok());
  }
  SECTION("with one, they are read") {
    int asked = 0;
    s->set_checkpoint_requester([&] {
      ++asked;
      (void)s->checkpoint();
    });
    auto payload = s->read_payload(q, 1);
    REQUIRE(payload.ok());
    CHECK(*payload == "one");
    CHECK(asked == 1);
    CHECK_FALSE(s->checkpoint_due());
    // Checkpointed: reads do not ask again.
    CHECK(sequences_of(*s, q) == std::vector<uint64_t>{1});
    CHECK(asked == 1);
  }
}

TEST_CASE("a full journal checkpoints and starts again; a part larger than it goes straight in",
          "[journal][store]") {
  temp_dir dir;
  auto o = journal_options(dir, 16 * 1024);
  std::vector<uint64_t> expected;
  {
    auto s = open_journaled(o);
    uint32_t q = create_destination(*s, "queue://small");
    for (uint64_t seq = 1; seq <= 40; ++seq) {
      apply_ok(*s, {make_put(q, seq, std::string(1000, 'a'))});
      expected.push_back(seq);
    }
    CHECK(s->stats().checkpoints >= 2);
    apply_ok(*s, {make_put(q, 41, std::string(64 * 1024, 'b'))});
    expected.push_back(41);
    apply_ok(*s, {make_put(q, 42, "after")});
    expected.push_back(42);
    CHECK(sequences_of(*s, q) == expected);
    // The reads above checkpointed 42; dropped without a checkpoint, 43 is in the journal only.
    apply_ok(*s, {make_put(q, 43, "last")});
    expected.push_back(43);
  }
  auto s = open_journaled(o);
  CHECK(s->info().replayed_records == 1);
  CHECK(sequences_of(*s, 1) == expected);
  auto big = s->read_payload(1, 41);
  REQUIRE(big.ok());
  CHECK(big->size() == 64 * 1024);
}

TEST_CASE("a store opened without the journal applies the one it finds, then removes it",
          "[journal][store]") {
  temp_dir dir;
  auto o = journal_options(dir);
  {
    auto s = open_journaled(o);
    uint32_t q = create_destination(*s, "queue://switch");
    apply_ok(*s, {make_put(q, 1, "kept")});
  }
  REQUIRE(std::filesystem::exists(o.directory / "journal"));
  o.journal = false;
  auto s = open_store(o);
  CHECK(s->info().replayed_records == 2);
  CHECK_FALSE(std::filesystem::exists(o.directory / "journal"));
  CHECK(sequences_of(*s, 1) == std::vector<uint64_t>{1});
}
