// Crash safety: child processes that die inside write transactions or while reading.
#include "storage/store.hpp"
#include "test_util.hpp"

#include <lmdb.h>

#include <set>

using namespace actormq::storage;
using namespace actormq::storage::test;

namespace {

// Runs body in a forked child that never returns into Catch2.
template <class F> pid_t fork_child(F body) {
  pid_t pid = ::fork();
  if (pid == 0) {
    int code = 0;
    try {
      code = body();
    } catch (...) {
      code = 99;
    }
    ::_exit(code);
  }
  return pid;
}

bool write_all(int fd, const void* data, size_t n) {
  return ::write(fd, data, n) == static_cast<ssize_t>(n);
}

std::string big_endian_key(uint32_t dest, uint64_t seq) {
  std::string k;
  for (int i = 3; i >= 0; --i)
    k.push_back(static_cast<char>((dest >> (8 * i)) & 0xff));
  for (int i = 7; i >= 0; --i)
    k.push_back(static_cast<char>((seq >> (8 * i)) & 0xff));
  return k;
}

} // namespace

TEST_CASE("a child dying inside an open write transaction loses only that transaction",
          "[store][crash]") {
  temp_dir dir;
  auto opts = options_for(dir, true);
  uint32_t q = 0;
  {
    auto s = open_store(opts);
    q = create_destination(*s, "queue://crash");
  }
  pid_t pid = fork_child([&] {
    {
      auto s = store::open(opts);
      if (!s)
        return 1;
      for (uint64_t b = 0; b < 5; ++b) {
        std::vector<operation> batch;
        for (uint64_t j = 1; j <= 10; ++j)
          batch.push_back(make_put(q, b * 10 + j, "committed", "producer", b * 10 + j));
        for (auto& r : (*s)->apply(batch))
          if (r.error)
            return 2;
      }
    }
    // Open a write transaction with raw LMDB, write into it and die without committing.
    MDB_env* env = nullptr;
    MDB_txn* txn = nullptr;
    MDB_dbi index;
    MDB_dbi bodies;
    if (mdb_env_create(&env) || mdb_env_set_maxdbs(env, 16) ||
        mdb_env_set_mapsize(env, opts.max_size_bytes) ||
        mdb_env_open(env, opts.directory.c_str(), 0, 0644) ||
        mdb_txn_begin(env, nullptr, 0, &txn) || mdb_dbi_open(txn, "index", 0, &index) ||
        mdb_dbi_open(txn, "message_bodies", 0, &bodies))
      return 3;
    for (uint64_t seq = 51; seq <= 200; ++seq) {
      std::string key = big_endian_key(q, seq);
      std::string body_key = big_endian_key(0, 1000 + seq).substr(4); // an unused body id
      std::string value(40, '\0');
      std::string body(3000, 'u');
      MDB_val k{key.size(), key.data()};
      MDB_val v{value.size(), value.data()};
      MDB_val bk{body_key.size(), body_key.data()};
      MDB_val bv{body.size(), body.data()};
      if (mdb_put(txn, index, &k, &v, 0) || mdb_put(txn, bodies, &bk, &bv, 0))
        return 4;
    }
    ::_exit(0); // in the middle of the transaction
  });
  REQUIRE(pid > 0);
  child_process child(pid);
  int status = child.kill_and_wait(0);
  REQUIRE(WIFEXITED(status));
  REQUIRE(WEXITSTATUS(status) == 0);

  auto s = open_store(opts);
  auto seqs = sequences_of(*s, q);
  REQUIRE(seqs.size() == 50);
  CHECK(seqs.front() == 1);
  CHECK(seqs.back() == 50);
  CHECK(s->read_payload(q, 51).code() == store_errc::not_found);
  CHECK(*s->read_payload(q, 50) == "committed");
  CHECK(*s->last_sequence(q) == 50);
  CHECK((*s->destinations())[0].enqueued == 50);
  // The next writer starts at once and the audit remembers the committed producer sequence.
  std::vector<operation> resend{make_put(q, 60, "resend", "producer", 50),
                                make_put(q, 61, "new", "producer", 51)};
  auto r = s->apply(resend);
  CHECK(r[0].duplicate);
  CHECK_FALSE(r[1].duplicate);
  CHECK_FALSE(r[1].error);
}

TEST_CASE("a writer killed with SIGKILL leaves exactly its committed batches", "[store][crash]") {
  temp_dir dir;
  auto opts = options_for(dir, true);
  uint32_t q = 0;
  {
    auto s = open_store(opts);
    q = create_destination(*s, "queue://killed");
  }
  constexpr uint64_t per_batch = 20;
  int reports[2];
  REQUIRE(::pipe(reports) == 0);
  pid_t pid = fork_child([&] {
    ::close(reports[0]);
    auto s = store::open(opts);
    if (!s)
      return 1;
    for (uint64_t b = 0;; ++b) {
      std::vector<operation> batch;
      for (uint64_t j = 1; j <= per_batch; ++j) {
        uint64_t seq = b * per_batch + j;
        batch.push_back(make_put(q, seq, std::string(500, 'k'), "producer", seq));
      }
      batch.push_back(delete_op{q, 1000000}); // not found, never fails the batch
      auto results = (*s)->apply(batch);
      for (size_t i = 0; i < per_batch; ++i)
        if (results[i].error)
          return 2;
      if (!write_all(reports[1], &b, sizeof b))
        return 3;
    }
  });
  REQUIRE(pid > 0);
  child_process child(pid);
  ::close(reports[1]);
  uint64_t reported = 0;
  uint64_t b = 0;
  while (reported < 30 && ::read(reports[0], &b, sizeof b) == sizeof b)
    reported = b + 1;
  REQUIRE(reported == 30);
  int status = child.kill_and_wait(SIGKILL);
  REQUIRE(WIFSIGNALED(status));
  while (::read(reports[0], &b, sizeof b) == sizeof b) // reports still in the pipe
    reported = b + 1;
  ::close(reports[0]);

  auto s = open_store(opts);
  auto seqs = sequences_of(*s, q);
  // Whole batches only: every reported batch, plus at most one committed but not reported.
  REQUIRE(seqs.size() % per_batch == 0);
  uint64_t batches = seqs.size() / per_batch;
  CHECK(batches >= reported);
  CHECK(batches <= reported + 1);
  for (size_t i = 0; i < seqs.size(); ++i)
    REQUIRE(seqs[i] == i + 1);
  CHECK(*s->last_sequence(q) == seqs.size());
  auto dest = (*s->destinations())[0];
  CHECK(dest.enqueued == seqs.size());
  CHECK(dest.dequeued == 0);
  std::vector<operation> resend{make_put(q, seqs.size() + 1, "x", "producer", seqs.size())};
  CHECK(s->apply(resend)[0].duplicate);
}

TEST_CASE("reader slots of a killed process are cleared", "[store][crash]") {
  temp_dir dir;
  auto opts = options_for(dir);
  auto s = open_store(opts);
  int ready[2];
  REQUIRE(::pipe(ready) == 0);
  pid_t pid = fork_child([&] {
    ::close(ready[0]);
    MDB_env* env = nullptr;
    MDB_txn* txn = nullptr;
    if (mdb_env_create(&env) || mdb_env_set_maxdbs(env, 16) ||
        mdb_env_open(env, opts.directory.c_str(), MDB_RDONLY, 0644) ||
        mdb_txn_begin(env, nullptr, MDB_RDONLY, &txn))
      return 1;
    char c = 'y';
    if (!write_all(ready[1], &c, 1))
      return 2;
    for (;;)
      ::pause(); // holds the read transaction until SIGKILL
  });
  REQUIRE(pid > 0);
  child_process child(pid);
  ::close(ready[1]);
  char c = 0;
  REQUIRE(::read(ready[0], &c, 1) == 1);
  ::close(ready[0]);
  child.kill_and_wait(SIGKILL);
  CHECK(s->clear_stale_readers() == 1);
  CHECK(s->clear_stale_readers() == 0);
  CHECK(s->stats().stale_readers_cleared == 1);
}
