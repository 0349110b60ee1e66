// Transfer marks of the network bridges: marking, clearing, queries, link sequences, reopen.
#include "storage/store.hpp"
#include "test_util.hpp"

#include <lmdb.h>

using namespace actormq::storage;
using namespace actormq::storage::test;

namespace {

std::vector<uint64_t> link_sequences_of(store& s, const std::string& link) {
  auto marks = s.transfers(link);
  INFO(marks.message());
  REQUIRE(marks.ok());
  std::vector<uint64_t> out;
  for (const auto& m : *marks)
    out.push_back(m.link_sequence);
  return out;
}

const destination_record& counts_of(const std::vector<destination_record>& all, uint32_t id) {
  for (const auto& d : all)
    if (d.id == id)
      return d;
  FAIL("no destination " << id);
  return all.front();
}

} // namespace

TEST_CASE("a marked message is listed with its destination and sequence", "[store][transfers]") {
  temp_dir dir;
  auto s = open_store(options_for(dir));
  uint32_t q = create_destination(*s, "queue://out");
  apply_ok(*s, {make_put(q, 1, "one"), make_put(q, 2, "two")});
  CHECK(s->transfers("bridge-a")->empty());
  CHECK(*s->last_link_sequence("bridge-a") == 0);

  apply_ok(*s, {mark_transfer_op{"bridge-a", 7, q, 2}, mark_transfer_op{"bridge-a", 5, q, 1}});
  auto marks = s->transfers("bridge-a");
  REQUIRE(marks.ok());
  REQUIRE(marks->size() == 2);
  CHECK((*marks)[0].link_sequence == 5); // link-sequence order
  CHECK((*marks)[0].destination_id == q);
  CHECK((*marks)[0].sequence == 1);
  CHECK((*marks)[1].link_sequence == 7);
  CHECK((*marks)[1].sequence == 2);
  CHECK(*s->last_link_sequence("bridge-a") == 7);
  // Marking changes nothing about the message itself.
  CHECK(sequences_of(*s, q) == std::vector<uint64_t>{1, 2});
  CHECK((*s->recover(q))[1].flags == 0);
  CHECK(*s->read_payload(q, 2) == "two");
}

TEST_CASE("marking a missing message fails alone with not_found", "[store][transfers]") {
  temp_dir dir;
  auto s = open_store(options_for(dir));
  uint32_t q = create_destination(*s, "queue://out");
  apply_ok(*s, {make_put(q, 1, "one")});
  std::vector<operation> batch{mark_transfer_op{"link", 1, q, 99},
                               mark_transfer_op{"link", 2, q + 1, 1},
                               mark_transfer_op{"link", 3, q, 1}};
  auto r = s->apply(batch);
  REQUIRE(r.size() == 3);
  CHECK(r[0].error == store_errc::not_found);
  CHECK(r[1].error == store_errc::not_found);
  CHECK_FALSE(r[2].error); // the batch continues
  CHECK(link_sequences_of(*s, "link") == std::vector<uint64_t>{3});
  CHECK(*s->last_link_sequence("link") == 3);

  // Link ids that cannot be keys are refused; such links have no marks.
  std::vector<operation> bad{
      mark_transfer_op{"", 4, q, 1}, mark_transfer_op{std::string(201, 'l'), 4, q, 1},
      mark_transfer_op{std::string("a\0b", 3), 4, q, 1}, clear_transfer_op{"", 4, true}};
  r = s->apply(bad);
  CHECK(r[0].error == store_errc::io_error);
  CHECK(r[1].error == store_errc::io_error);
  CHECK(r[2].error == store_errc::io_error);
  CHECK(r[3].error == store_errc::not_found);
  CHECK(s->all_transfers()->size() == 1);
  CHECK(s->transfers("")->empty());
  CHECK(*s->last_link_sequence("") == 0);
  // 200 bytes is still a link id.
  apply_ok(*s, {mark_transfer_op{std::string(200, 'l'), 4, q, 1}});
  CHECK(link_sequences_of(*s, std::string(200, 'l')) == std::vector<uint64_t>{4});
}

TEST_CASE("clearing with delete_message removes the message and counts it dequeued",
          "[store][transfers]") {
  temp_dir dir;
  auto s = open_store(options_for(dir));
  uint32_t q = create_destination(*s, "queue://out");
  apply_ok(*s, {make_put(q, 1, "one"), make_put(q, 2, "two"), make_put(q, 3, "three")});
  apply_ok(*s, {mark_transfer_op{"link", 1, q, 1}, mark_transfer_op{"link", 2, q, 2},
                mark_transfer_op{"link", 3, q, 3}});

  apply_ok(*s, {clear_transfer_op{"link", 1, true}, clear_transfer_op{"link", 3}});
  CHECK(sequences_of(*s, q) == std::vector<uint64_t>{2});
  CHECK(s->read_payload(q, 1).code() == store_errc::not_found);
  CHECK(s->read_payload(q, 3).code() == store_errc::not_found);
  CHECK(link_sequences_of(*s, "link") == std::vector<uint64_t>{2});
  auto all = s->destinations();
  REQUIRE(all.ok());
  CHECK(counts_of(*all, q).enqueued == 3);
  CHECK(counts_of(*all, q).dequeued == 2);

  // A missing mark fails alone; a mark whose message is gone is still removed.
  apply_ok(*s, {delete_op{q, 2}});
  std::vector<operation> batch{clear_transfer_op{"link", 1, true}, clear_transfer_op{"link", 2},
                               clear_transfer_op{"other", 2, false}};
  auto r = s->apply(batch);
  REQUIRE(r.size() == 3);
  CHECK(r[0].error == store_errc::not_found);
  CHECK_FALSE(r[1].error);
  CHECK(r[2].error == store_errc::not_found);
  CHECK(s->transfers("link")->empty());
  all = s->destinations();
  CHECK(counts_of(*all, q).dequeued == 3); // the delete_op, not the clear of a gone message
  CHECK(*s->last_link_sequence("link") == 3);
}

TEST_CASE("clearing without delete_message keeps the message", "[store][transfers]") {
  temp_dir dir;
  auto s = open_store(options_for(dir));
  uint32_t q = create_destination(*s, "queue://out");
  apply_ok(*s, {make_put(q, 1, "one")});
  apply_ok(*s, {mark_transfer_op{"link", 10, q, 1}});
  apply_ok(*s, {clear_transfer_op{"link", 10, false}});
  CHECK(s->transfers("link")->empty());
  CHECK(sequences_of(*s, q) == std::vector<uint64_t>{1});
  CHECK(*s->read_payload(q, 1) == "one");
  CHECK(counts_of(*s->destinations(), q).dequeued == 0);

  // Mark, clear and delete in one batch run in order.
  std::vector<operation> batch{mark_transfer_op{"link", 11, q, 1},
                               clear_transfer_op{"link", 11, true},
                               mark_transfer_op{"link", 12, q, 1}};
  auto r = s->apply(batch);
  CHECK_FALSE(r[0].error);
  CHECK_FALSE(r[1].error);
  CHECK(r[2].error == store_errc::not_found); // deleted by the clear before it
  CHECK(s->recover(q)->empty());
  CHECK(s->transfers("link")->empty());
  CHECK(*s->last_link_sequence("link") == 11);
}

TEST_CASE("marks of two links are kept apart and listed in link order", "[store][transfers]") {
  temp_dir dir;
  auto s = open_store(options_for(dir));
  uint32_t q = create_destination(*s, "queue://a");
  uint32_t t = create_destination(*s, "topic://b");
  std::vector<operation> puts;
  for (uint64_t i = 1; i <= 4; ++i) {
    puts.push_back(make_put(q, i, "q" + std::to_string(i)));
    puts.push_back(make_put(t, i, "t" + std::to_string(i)));
  }
  apply_ok(*s, puts);
  // "ab" would sort between "a"'s marks if the key had no separator.
  apply_ok(*s, {mark_transfer_op{"ab", 1, t, 1}, mark_transfer_op{"a", 300, q, 3},
                mark_transfer_op{"a", 2, q, 2}, mark_transfer_op{"ab", 256, t, 4},
                mark_transfer_op{"a", 1, t, 2}});
  CHECK(link_sequences_of(*s, "a") == std::vector<uint64_t>{1, 2, 300});
  CHECK(link_sequences_of(*s, "ab") == std::vector<uint64_t>{1, 256});
  CHECK(s->transfers("b")->empty());
  CHECK((*s->transfers("a"))[0].destination_id == t);
  CHECK(*s->last_link_sequence("a") == 300);
  CHECK(*s->last_link_sequence("ab") == 256);

  auto all = s->all_transfers();
  REQUIRE(all.ok());
  REQUIRE(all->size() == 5);
  std::vector<std::pair<std::string, uint64_t>> seen;
  for (const auto& [link, mark] : *all)
    seen.emplace_back(link, mark.link_sequence);
  CHECK(seen == std::vector<std::pair<std::string, uint64_t>>{
                    {"a", 1}, {"a", 2}, {"a", 300}, {"ab", 1}, {"ab", 256}});
  CHECK((*all)[4].second.destination_id == t);
  CHECK((*all)[4].second.sequence == 4);
  CHECK((*all)[2].second.destination_id == q);
  CHECK((*all)[2].second.sequence == 3);
}

TEST_CASE("marks and last_link_sequence survive a reopen; the latter survives clearing",
          "[store][transfers]") {
  temp_dir dir;
  auto opts = options_for(dir, true);
  uint32_t q = 0;
  {
    auto s = open_store(opts);
    q = create_destination(*s, "queue://out");
    apply_ok(*s, {make_put(q, 1, "one"), make_put(q, 2, "two")});
    apply_ok(*s, {mark_transfer_op{"link", 40, q, 1}, mark_transfer_op{"link", 41, q, 2},
                  mark_transfer_op{"other", 9, q, 2}});
  }
  {
    auto s = open_store(opts);
    CHECK(link_sequences_of(*s, "link") == std::vector<uint64_t>{40, 41});
    CHECK(s->all_transfers()->size() == 3);
    apply_ok(*s, {clear_transfer_op{"link", 40}, clear_transfer_op{"link", 41},
                  clear_transfer_op{"other", 9, false}});
    CHECK(s->all_transfers()->empty());
    CHECK(s->recover(q)->empty());
    CHECK(*s->last_link_sequence("link") == 41);
  }
  auto s = open_store(opts);
  CHECK(s->all_transfers()->empty());
  CHECK(*s->last_link_sequence("link") == 41);
  CHECK(*s->last_link_sequence("other") == 9);
  // A lower link sequence does not lower the mark.
  apply_ok(*s, {make_put(q, 3, "three"), mark_transfer_op{"link", 5, q, 3}});
  CHECK(*s->last_link_sequence("link") == 41);
  CHECK(counts_of(*s->destinations(), q).dequeued == 2);
}

TEST_CASE("a store created without the transfer databases opens and gets them",
          "[store][transfers]") {
  temp_dir dir;
  auto opts = options_for(dir, true);
  uint32_t q = 0;
  {
    auto s = open_store(opts);
    q = create_destination(*s, "queue://old");
    apply_ok(*s, {make_put(q, 1, "kept")});
  }
  // Remove the new databases, as in a store written before they existed.
  {
    MDB_env* env = nullptr;
    REQUIRE(mdb_env_create(&env) == 0);
    REQUIRE(mdb_env_set_maxdbs(env, 16) == 0);
    REQUIRE(mdb_env_open(env, opts.directory.c_str(), 0, 0644) == 0);
    MDB_txn* txn = nullptr;
    REQUIRE(mdb_txn_begin(env, nullptr, 0, &txn) == 0);
    for (const char* name : {"transfers", "link_sequences"}) {
      MDB_dbi dbi = 0;
      REQUIRE(mdb_dbi_open(txn, name, 0, &dbi) == 0);
      REQUIRE(mdb_drop(txn, dbi, 1) == 0);
      CHECK(mdb_dbi_open(txn, name, 0, &dbi) == MDB_NOTFOUND);
    }
    REQUIRE(mdb_txn_commit(txn) == 0);
    mdb_env_close(env);
  }
  auto s = open_store(opts);
  CHECK_FALSE(s->info().created);
  CHECK(s->info().schema == schema_version);
  CHECK(*s->read_payload(q, 1) == "kept");
  CHECK(s->all_transfers()->empty());
  CHECK(*s->last_link_sequence("link") == 0);
  apply_ok(*s, {mark_transfer_op{"link", 1, q, 1}});
  CHECK(link_sequences_of(*s, "link") == std::vector<uint64_t>{1});
}

TEST_CASE("put stores the flags as given and recover returns them", "[store][transfers]") {
  temp_dir dir;
  auto opts = options_for(dir, true);
  uint32_t q = 0;
  {
    auto s = open_store(opts);
    q = create_destination(*s, "queue://in");
    put_op forwarded = make_put(q, 1, "from node b");
    forwarded.entry.flags = flag_forwarded;
    put_op both = make_put(q, 2, "redelivered from node b");
    both.entry.flags = flag_forwarded | flag_redelivered;
    apply_ok(*s, {forwarded, both, make_put(q, 3, "local")});
    auto entries = s->recover(q);
    REQUIRE(entries->size() == 3);
    CHECK((*entries)[0].flags == flag_forwarded);
  }
  auto s = open_store(opts);
  auto entries = s->recover(q);
  REQUIRE(entries.ok());
  REQUIRE(entries->size() == 3);
  CHECK((*entries)[0].flags == flag_forwarded);
  CHECK((*entries)[1].flags == (flag_forwarded | flag_redelivered));
  CHECK((*entries)[2].flags == 0);
  CHECK(flag_forwarded == 4u);
  CHECK((flag_forwarded & (flag_redelivered | flag_in_transfer)) == 0);
}

TEST_CASE("a full store still applies marks and clears", "[store][transfers]") {
  temp_dir dir;
  auto opts = options_for(dir);
  opts.max_size_bytes = 1ull << 20;
  auto s = open_store(opts);
  uint32_t q = create_destination(*s, "queue://big");
  const std::string body(8000, 'b');
  uint64_t seq = fill_until_full(*s, q, body, 1000);
  REQUIRE(seq > 2);
  std::vector<operation> batch{make_put(q, seq + 1, body), mark_transfer_op{"link", 1, q, 1},
                               mark_transfer_op{"link", 2, q, 2}, clear_transfer_op{"link", 1}};
  auto r = s->apply(batch);
  REQUIRE(r.size() == 4);
  CHECK(r[0].error == store_errc::store_full);
  CHECK_FALSE(r[1].error);
  CHECK_FALSE(r[2].error);
  CHECK_FALSE(r[3].error);
  CHECK(link_sequences_of(*s, "link") == std::vector<uint64_t>{2});
  CHECK(s->read_payload(q, 1).code() == store_errc::not_found);
  CHECK(*s->last_link_sequence("link") == 2);
}
