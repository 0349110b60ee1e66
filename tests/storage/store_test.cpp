// The LMDB store: records, counts, the producer audit, sequences, store full and threads.
#include "storage/store.hpp"
#include "test_util.hpp"

#include <lmdb.h>

#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <thread>

using namespace actormq::storage;
using namespace actormq::storage::test;

TEST_CASE("a store is created once and reopened with the same id and schema", "[store]") {
  temp_dir dir;
  std::string id;
  {
    auto s = open_store(options_for(dir, true));
    CHECK(s->info().created);
    CHECK(s->info().schema == schema_version);
    id = s->info().store_id;
    REQUIRE(id.size() == 36);
    CHECK(id[8] == '-');
    CHECK(id[14] == '4'); // version 4
    CHECK(std::string("89ab").find(id[19]) != std::string::npos);
  }
  auto s = open_store(options_for(dir, true));
  CHECK_FALSE(s->info().created);
  CHECK(s->info().store_id == id);
  CHECK(s->info().schema == schema_version);
  CHECK(s->info().stale_readers_cleared == 0);

  temp_dir other;
  auto t = open_store(options_for(other));
  CHECK(t->info().store_id != id);

  // One environment per folder and process: a second open is refused, not corrupted.
  auto twice = store::open(options_for(dir, true));
  REQUIRE_FALSE(twice.ok());
  CHECK(twice.code() == store_errc::io_error);
  CHECK(twice.message().find("already open in this process") != std::string::npos);
  CHECK(s->info().store_id == id);
}

TEST_CASE("error codes have a category and a message", "[store]") {
  std::error_code ec = store_errc::store_full;
  CHECK(ec.category().name() == std::string("actormq.storage"));
  CHECK(ec.value() == 1);
  CHECK(ec.message().find("full") != std::string::npos);
  CHECK(make_error_code(store_errc::readers_full).value() == 8);
  CHECK(make_error_code(store_errc::schema_mismatch).message().find("schema") != std::string::npos);
}

TEST_CASE("destinations are created idempotently with ids from 1", "[store]") {
  temp_dir dir;
  auto s = open_store(options_for(dir));
  std::vector<operation> batch{create_destination_op{"queue://a"},
                               create_destination_op{"queue://b"},
                               create_destination_op{"queue://a"}};
  auto r = apply_ok(*s, batch);
  CHECK(r[0].destination_id == 1);
  CHECK(r[1].destination_id == 2);
  CHECK(r[2].destination_id == 1);
  CHECK(create_destination(*s, "topic://c") == 3);
  CHECK(create_destination(*s, "queue://b") == 2);
  auto all = s->destinations();
  REQUIRE(all.ok());
  REQUIRE(all->size() == 3);
  CHECK((*all)[0].name == "queue://a");
  CHECK((*all)[1].name == "queue://b");
  CHECK((*all)[2].name == "topic://c");
  CHECK((*all)[2].id == 3);
}

TEST_CASE("messages are put, recovered, read, flagged, deleted and purged", "[store]") {
  temp_dir dir;
  auto opts = options_for(dir, true);
  uint32_t q = 0;
  {
    auto s = open_store(opts);
    q = create_destination(*s, "queue://orders");
    put_op p1 = make_put(q, 1, "one");
    p1.entry.priority = 9;
    p1.entry.expiration_ms = -5; // signed fields survive the encoding
    p1.entry.delivery_count = 3;
    apply_ok(*s, {p1, make_put(q, 2, "two"), make_put(q, 3, std::string(5000, 'x')),
                  make_put(q, 300, "")});
    auto entries = s->recover(q);
    REQUIRE(entries.ok());
    REQUIRE(entries->size() == 4);
    CHECK((*entries)[0].sequence == 1);
    CHECK((*entries)[0].priority == 9);
    CHECK((*entries)[0].expiration_ms == -5);
    CHECK((*entries)[0].delivery_count == 3);
    CHECK((*entries)[0].size == 3);
    CHECK((*entries)[2].size == 5000);
    CHECK((*entries)[3].sequence == 300); // big-endian keys: numeric order
    CHECK(*s->read_payload(q, 2) == "two");
    CHECK(*s->read_payload(q, 3) == std::string(5000, 'x'));
    CHECK(s->read_payload(q, 300)->empty());
    CHECK(s->read_payload(q, 4).code() == store_errc::not_found);
    CHECK(s->read_payload(q + 1, 1).code() == store_errc::not_found);

    std::vector<operation> batch{set_flags_op{q, 2, flag_redelivered}, delete_op{q, 1},
                                 delete_op{q, 77}, set_flags_op{q, 78, 0}};
    auto r = s->apply(batch);
    CHECK_FALSE(r[0].error);
    CHECK_FALSE(r[1].error);
    CHECK(r[2].error == store_errc::not_found); // the batch continues
    CHECK(r[3].error == store_errc::not_found);
    CHECK(sequences_of(*s, q) == std::vector<uint64_t>{2, 3, 300});
    CHECK(s->read_payload(q, 1).code() == store_errc::not_found);
    CHECK((*s->recover(q))[0].flags == flag_redelivered);
  }
  auto s = open_store(opts);
  CHECK(sequences_of(*s, q) == std::vector<uint64_t>{2, 3, 300});
  auto all = s->destinations();
  REQUIRE(all->size() == 1);
  CHECK((*all)[0].enqueued == 4);
  CHECK((*all)[0].dequeued == 1);

  uint32_t other = create_destination(*s, "queue://other");
  apply_ok(*s, {make_put(other, 1, "kept")});
  std::vector<operation> purge{purge_op{q}, purge_op{999}};
  auto r = s->apply(purge);
  CHECK_FALSE(r[0].error);
  CHECK(r[0].count == 3);
  CHECK(r[1].error == store_errc::not_found);
  CHECK(s->recover(q)->empty());
  CHECK(sequences_of(*s, other) == std::vector<uint64_t>{1});
  CHECK(*s->read_payload(other, 1) == "kept");
  all = s->destinations();
  CHECK((*all)[0].dequeued == 4);
  CHECK((*all)[0].enqueued == 4);
}

TEST_CASE("puts to an unknown destination fail with not_found", "[store]") {
  temp_dir dir;
  auto s = open_store(options_for(dir));
  std::vector<operation> batch{make_put(5, 1, "x"), delete_op{5, 1}};
  auto r = s->apply(batch);
  CHECK(r[0].error == store_errc::not_found);
  CHECK(r[1].error == store_errc::not_found);
  CHECK(s->recover(5)->empty());
}

TEST_CASE("the producer audit drops resends", "[store][audit]") {
  temp_dir dir;
  auto opts = options_for(dir, true);
  uint32_t a = 0;
  uint32_t b = 0;
  uint64_t stored_sequence = 0; // a producer sequence of "prod" stored on queue://a
  {
    auto s = open_store(opts);
    a = create_destination(*s, "queue://a");
    b = create_destination(*s, "queue://b");

    SECTION("within one batch") {
      std::vector<operation> batch{make_put(a, 1, "p1", "prod", 1), make_put(a, 2, "p2", "prod", 2),
                                   make_put(a, 3, "p2 again", "prod", 2),
                                   make_put(a, 4, "p1 again", "prod", 1)};
      auto r = s->apply(batch);
      CHECK_FALSE(r[0].duplicate);
      CHECK_FALSE(r[1].duplicate);
      CHECK(r[2].duplicate);
      CHECK(r[3].duplicate);
      CHECK_FALSE(r[2].error);
      CHECK(sequences_of(*s, a) == std::vector<uint64_t>{1, 2});
      stored_sequence = 2;
    }
    SECTION("across batches and destinations") {
      apply_ok(*s, {make_put(a, 1, "p1", "prod", 10)});
      std::vector<operation> batch{make_put(a, 2, "resend", "prod", 10),
                                   make_put(b, 1, "same producer, other queue", "prod", 10),
                                   make_put(a, 3, "next", "prod", 11),
                                   make_put(a, 4, "other producer", "prod2", 1),
                                   make_put(a, 5, "no producer id"),
                                   make_put(a, 6, "no producer id")};
      auto r = s->apply(batch);
      CHECK(r[0].duplicate);
      CHECK_FALSE(r[1].duplicate);
      CHECK_FALSE(r[2].duplicate);
      CHECK_FALSE(r[3].duplicate);
      CHECK_FALSE(r[4].duplicate);
      CHECK_FALSE(r[5].duplicate);
      CHECK(sequences_of(*s, a) == std::vector<uint64_t>{1, 3, 4, 5, 6});
      CHECK(sequences_of(*s, b) == std::vector<uint64_t>{1});
      stored_sequence = 11;
    }
  }
  // Across a reopen: the audit window of (prod, a) is persisted.
  auto s = open_store(opts);
  std::vector<operation> batch{make_put(a, 50, "old", "prod", stored_sequence),
                               make_put(a, 51, "new", "prod", 1000)};
  auto r = s->apply(batch);
  CHECK(r[0].duplicate);
  CHECK_FALSE(r[1].duplicate);
  auto all = s->destinations();
  REQUIRE(all.ok());
  CHECK((*all)[0].duplicates >= 1);
  CHECK(s->read_payload(a, 50).code() == store_errc::not_found);
  CHECK(*s->read_payload(a, 51) == "new");
}

TEST_CASE("duplicates are counted per destination", "[store][audit]") {
  temp_dir dir;
  auto s = open_store(options_for(dir));
  uint32_t a = create_destination(*s, "queue://a");
  uint32_t b = create_destination(*s, "queue://b");
  apply_ok(*s, {make_put(a, 1, "x", "p", 1), make_put(a, 2, "x", "p", 1),
                make_put(a, 3, "x", "p", 1), make_put(b, 1, "x", "p", 1)});
  auto all = s->destinations();
  CHECK((*all)[0].enqueued == 1);
  CHECK((*all)[0].duplicates == 2);
  CHECK((*all)[1].enqueued == 1);
  CHECK((*all)[1].duplicates == 0);
}

TEST_CASE("last_sequence survives deleting everything and reopening", "[store]") {
  temp_dir dir;
  auto opts = options_for(dir, true);
  uint32_t q = 0;
  {
    auto s = open_store(opts);
    q = create_destination(*s, "queue://q");
    CHECK(*s->last_sequence(q) == 0);
    apply_ok(*s, {make_put(q, 7, "a"), make_put(q, 9, "b"), make_put(q, 8, "c")});
    CHECK(*s->last_sequence(q) == 9);
    apply_ok(*s, {delete_op{q, 9}, delete_op{q, 8}});
    std::vector<operation> purge{purge_op{q}};
    CHECK(s->apply(purge)[0].count == 1);
    CHECK(s->recover(q)->empty());
    CHECK(*s->last_sequence(q) == 9);
  }
  auto s = open_store(opts);
  CHECK(*s->last_sequence(q) == 9);
  CHECK(*s->last_sequence(q + 1) == 0);
}

TEST_CASE("a store of a newer schema version is refused, saying what to do", "[store]") {
  temp_dir dir;
  auto opts = options_for(dir);
  { open_store(opts); }
  // Rewrite meta/schema with raw LMDB: the value is a 4-byte little-endian integer.
  MDB_env* env = nullptr;
  REQUIRE(mdb_env_create(&env) == 0);
  REQUIRE(mdb_env_set_maxdbs(env, 16) == 0);
  REQUIRE(mdb_env_open(env, opts.directory.c_str(), 0, 0644) == 0);
  MDB_txn* txn = nullptr;
  REQUIRE(mdb_txn_begin(env, nullptr, 0, &txn) == 0);
  MDB_dbi meta;
  REQUIRE(mdb_dbi_open(txn, "meta", 0, &meta) == 0);
  char key[] = "schema";
  unsigned char value[] = {schema_version + 1, 0, 0, 0};
  MDB_val k{6, key};
  MDB_val v{4, value};
  REQUIRE(mdb_put(txn, meta, &k, &v, 0) == 0);
  REQUIRE(mdb_txn_commit(txn) == 0);
  mdb_env_close(env);

  auto s = store::open(opts);
  REQUIRE_FALSE(s.ok());
  CHECK(s.code() == store_errc::schema_mismatch);
  CHECK(s.message().find("schema version " + std::to_string(schema_version + 1)) !=
        std::string::npos);
  CHECK(s.message().find("open it with the ActorMQ release that wrote it") != std::string::npos);
  // Refused without a change: still the newer schema, still refused.
  auto again = store::open(opts);
  CHECK(again.code() == store_errc::schema_mismatch);
}

TEST_CASE("a full store refuses puts, keeps what it has and frees space on delete",
          "[store][full]") {
  temp_dir dir;
  auto opts = options_for(dir);
  opts.max_size_bytes = 1ull << 20;
  auto s = open_store(opts);
  uint32_t q = create_destination(*s, "queue://big");
  const std::string body(8000, 'b');
  uint64_t seq = 0;
  bool full = false;
  while (!full) {
    REQUIRE(seq < 1000); // 1 MiB cannot hold 1000 bodies of 8000 bytes
    std::vector<operation> batch{make_put(q, seq + 1, body), create_destination_op{"queue://x"}};
    auto r = s->apply(batch);
    if (r[0].error) {
      CHECK(r[0].error == store_errc::store_full);
      CHECK_FALSE(r[1].error); // the rest of the batch is applied
      CHECK(r[1].destination_id != 0);
      full = true;
    } else {
      ++seq;
    }
  }
  CHECK(seq > 10);
  CHECK(sequences_of(*s, q).size() == seq);
  CHECK(*s->read_payload(q, 1) == body);
  CHECK(*s->read_payload(q, seq) == body);
  CHECK(s->read_payload(q, seq + 1).code() == store_errc::not_found);
  auto stats = s->stats();
  CHECK(stats.map_size == opts.max_size_bytes);
  CHECK(stats.used_bytes > opts.max_size_bytes / 2);

  // Deletes in a batch whose put fails still apply.
  std::vector<operation> mixed{delete_op{q, 1}, make_put(q, seq + 1, body)};
  auto r = s->apply(mixed);
  CHECK_FALSE(r[0].error);
  // Free more room, then puts succeed again (freed pages are reused after the commit).
  std::vector<operation> deletes;
  for (uint64_t i = 2; i <= 20; ++i)
    deletes.push_back(delete_op{q, i});
  apply_ok(*s, deletes);
  apply_ok(*s, {make_put(q, seq + 100, body)});
  apply_ok(*s, {make_put(q, seq + 101, body)});
  CHECK(*s->read_payload(q, seq + 101) == body);
  CHECK(*s->read_payload(q, 21) == body);
}

TEST_CASE("space freed by one commit is usable by the very next one", "[store][full]") {
  // LMDB reuses a freed page only two transactions later; a consumer that empties a full
  // store in one commit must not leave the next producer with "store full".
  temp_dir dir;
  auto opts = options_for(dir);
  opts.max_size_bytes = 1ull << 20;
  auto s = open_store(opts);
  uint32_t q = create_destination(*s, "queue://big");
  const std::string body(65536, 'b');
  uint64_t seq = fill_until_full(*s, q, body, 100); // 1 MiB cannot hold 100 bodies of 64 KiB
  REQUIRE(seq > 2);
  std::vector<operation> deletes;
  for (uint64_t i = 1; i <= seq; ++i)
    deletes.push_back(delete_op{q, i});
  apply_ok(*s, deletes);
  apply_ok(*s, {make_put(q, seq + 1, body)});
  CHECK(*s->read_payload(q, seq + 1) == body);
  CHECK(sequences_of(*s, q) == std::vector<uint64_t>{seq + 1});
}

TEST_CASE("read_payload runs on another thread while apply commits", "[store][threads]") {
  temp_dir dir;
  auto s = open_store(options_for(dir));
  uint32_t q = create_destination(*s, "queue://busy");
  std::vector<operation> fill;
  for (uint64_t i = 1; i <= 100; ++i)
    fill.push_back(make_put(q, i, "stable " + std::to_string(i)));
  apply_ok(*s, fill);

  std::atomic<bool> done{false};
  std::atomic<int> reads{0};
  std::atomic<int> failures{0};
  std::thread reader([&] {
    uint64_t i = 0;
    while (!done.load()) {
      uint64_t seq = 1 + (i++ % 100);
      auto p = s->read_payload(q, seq);
      if (!p.ok() || *p != "stable " + std::to_string(seq))
        ++failures;
      ++reads;
    }
  });
  // The commits below must overlap the reads: wait until the reader runs (on a busy machine it
  // may start after a few hundred fast commits are already done).
  while (reads.load() == 0)
    std::this_thread::yield();
  uint64_t next = 1000;
  int errors = 0;
  for (int round = 0; round < 300; ++round) {
    std::vector<operation> batch;
    for (int j = 0; j < 10; ++j)
      batch.push_back(make_put(q, next + j, std::string(200, 'v')));
    if (round > 0)
      for (int j = 0; j < 10; ++j)
        batch.push_back(delete_op{q, next - 10 + j});
    next += 10;
    for (const auto& r : s->apply(batch))
      errors += r.error ? 1 : 0;
  }
  done = true;
  reader.join();
  CHECK(errors == 0);
  CHECK(failures.load() == 0);
  CHECK(reads.load() > 0);
  auto stats = s->stats();
  CHECK(stats.commits == 302);
  CHECK(stats.max_batch_size == 100);
  CHECK(stats.last_batch_size == 20);
  CHECK(stats.operations == 1 + 100 + 10 + 299 * 20);
  CHECK(stats.mean_batch_size > 19);
  CHECK(stats.readers_in_use >= 1);
  CHECK(sequences_of(*s, q).size() == 110);
}

TEST_CASE("an empty batch commits nothing; stats time the commits", "[store]") {
  temp_dir dir;
  auto s = open_store(options_for(dir, true));
  std::vector<operation> none;
  CHECK(s->apply(none).empty());
  CHECK(s->stats().commits == 0);
  uint32_t q = create_destination(*s, "queue://t");
  apply_ok(*s, {make_put(q, 1, "a"), make_put(q, 2, "b"), delete_op{q, 1}});
  auto st = s->stats();
  CHECK(st.commits == 2);
  CHECK(st.operations == 4);
  CHECK(st.last_batch_size == 3);
  CHECK(st.max_batch_size == 3);
  CHECK(st.mean_batch_size == Approx(2.0));
  CHECK(st.last_commit_ms > 0);
  CHECK(st.map_size == 64ull << 20);
  CHECK(st.used_bytes > 0);
  CHECK(st.used_bytes < st.map_size);
}

TEST_CASE("remove_destination_op removes messages, record and name", "[store]") {
  temp_dir dir;
  auto st = open_store(options_for(dir, true));
  std::vector<operation> ops{create_destination_op{"queue://gone"}};
  auto created = st->apply(ops);
  REQUIRE_FALSE(created[0].error);
  auto id = created[0].destination_id;
  std::vector<operation> puts;
  for (uint64_t i = 1; i <= 3; ++i) {
    put_op p;
    p.destination_id = id;
    p.entry.sequence = i;
    p.payload = "body";
    puts.emplace_back(p);
  }
  st->apply(puts);
  std::vector<operation> remove{remove_destination_op{id}};
  auto removed = st->apply(remove);
  REQUIRE_FALSE(removed[0].error);
  CHECK(removed[0].count == 3);
  auto records = st->destinations();
  REQUIRE(records);
  CHECK(records->empty());
  CHECK(st->recover(id)->empty());
  CHECK_FALSE(st->read_payload(id, 1));
  auto again = st->apply(remove);
  CHECK(again[0].error == store_errc::not_found);
  // The name can be created again, with a new id.
  std::vector<operation> recreate{create_destination_op{"queue://gone"}};
  auto fresh = st->apply(recreate);
  REQUIRE_FALSE(fresh[0].error);
  CHECK(fresh[0].destination_id != id);
}

TEST_CASE("stats name the oldest open reader and how far behind it is", "[store][readers]") {
  temp_dir dir;
  auto opts = options_for(dir);
  auto s = open_store(opts);
  uint32_t q = create_destination(*s, "queue://r");
  CHECK(s->stats().open_readers == 0);
  CHECK(s->stats().oldest_reader_pid == 0);

  // Another process holds a read transaction open, as a stuck reader would.
  int ready[2];
  int release[2];
  REQUIRE(pipe(ready) == 0);
  REQUIRE(pipe(release) == 0);
  pid_t child = fork();
  REQUIRE(child >= 0);
  if (child == 0) {
    MDB_env* env = nullptr;
    MDB_txn* txn = nullptr;
    char byte = 0;
    bool ok = mdb_env_create(&env) == 0 && mdb_env_set_maxdbs(env, 16) == 0 &&
              mdb_env_open(env, opts.directory.c_str(), MDB_RDONLY, 0644) == 0 &&
              mdb_txn_begin(env, nullptr, MDB_RDONLY, &txn) == 0;
    byte = ok ? 'y' : 'n';
    (void)!write(ready[1], &byte, 1);
    (void)!read(release[0], &byte, 1);
    _exit(0);
  }
  char answer = 0;
  REQUIRE(read(ready[0], &answer, 1) == 1);
  REQUIRE(answer == 'y');
  uint64_t before = s->stats().last_txn_id;
  for (uint64_t i = 1; i <= 3; ++i)
    apply_ok(*s, {make_put(q, i, "m")});
  auto held = s->stats();
  CHECK(held.last_txn_id == before + 3);
  CHECK(held.open_readers == 1);
  CHECK(held.oldest_reader_pid == child);
  CHECK(held.oldest_reader_txn == before);
  CHECK(held.oldest_reader_lag == 3);

  char go = 'x';
  REQUIRE(write(release[1], &go, 1) == 1);
  int status = 0;
  REQUIRE(waitpid(child, &status, 0) == child);
  for (int fd : {ready[0], ready[1], release[0], release[1]})
    close(fd);
  // The child exited without closing its transaction: its slot is stale until cleared.
  s->clear_stale_readers();
  auto after = s->stats();
  CHECK(after.open_readers == 0);
  CHECK(after.oldest_reader_pid == 0);
  CHECK(after.oldest_reader_lag == 0);
}

TEST_CASE("a recorded delivery count is raised, never lowered, and survives a reopen", "[store]") {
  temp_dir dir;
  {
    auto s = open_store(options_for(dir, true));
    auto q = create_destination(*s, "queue://r");
    apply_ok(*s, {make_put(q, 1, "one"), make_put(q, 2, "two")});
    std::vector<operation> records{record_delivery_op{q, 1, 2}, record_delivery_op{q, 1, 1},
                                   record_delivery_op{q, 9, 1}};
    auto r = s->apply(records);
    REQUIRE(r.size() == 3);
    CHECK_FALSE(r[0].error);
    CHECK_FALSE(r[1].error);
    CHECK(r[2].error == store_errc::not_found);
  }
  auto s = open_store(options_for(dir, true));
  auto q = create_destination(*s, "queue://r");
  auto entries = s->recover(q);
  REQUIRE(entries.ok());
  REQUIRE(entries->size() == 2);
  CHECK((*entries)[0].delivery_count == 2); // the lower record did not undo the higher one
  CHECK((*entries)[1].delivery_count == 0); // never recorded: never delivered
  auto one = s->read_entry(q, 1);
  REQUIRE(one.ok());
  CHECK(one->delivery_count == 2);
  CHECK(one->sequence == 1);
  CHECK(s->read_entry(q, 9).code() == store_errc::not_found);
}

TEST_CASE("the producer audit is an exact window: a late first send is stored, a resend is not",
          "[store]") {
  temp_dir dir;
  auto s = open_store(options_for(dir));
  auto q = create_destination(*s, "queue://audit");
  auto put = [&](uint64_t seq, uint64_t producer_sequence) {
    std::vector<operation> batch{make_put(q, seq, "m", "p1", producer_sequence)};
    auto r = s->apply(batch);
    REQUIRE(r.size() == 1);
    REQUIRE_FALSE(r[0].error);
    return r[0].duplicate;
  };
  CHECK_FALSE(put(1, 5));
  CHECK_FALSE(put(2, 3)); // overtaken by 5: stored, not taken for a resend
  CHECK(put(3, 3));       // now a resend
  CHECK(put(4, 5));
  CHECK_FALSE(put(5, 4));
  CHECK_FALSE(put(6, 2000));
  CHECK(put(7, 2000 - 1024)); // further back than the window: counted as a resend
  CHECK_FALSE(put(8, 2000 - 1023));
  // The same within one batch, and after a reopen of the window.
  std::vector<operation> batch{make_put(q, 9, "m", "p1", 1990), make_put(q, 10, "m", "p1", 1990),
                               make_put(q, 11, "m", "p1", 2001)};
  auto r = s->apply(batch);
  REQUIRE(r.size() == 3);
  CHECK_FALSE(r[0].duplicate);
  CHECK(r[1].duplicate);
  CHECK_FALSE(r[2].duplicate);
  CHECK(put(12, 1990));
  CHECK_FALSE(put(13, 1991));
  CHECK(sequences_of(*s, q).size() == 8);
}
