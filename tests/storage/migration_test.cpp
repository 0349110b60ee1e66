// Opening a store written in the schema 1 layout (schema1_writer.hpp): every message, flag,
// count, audit window, sequence and transfer mark must read as before, and the migration must
// be all or nothing.
#include "schema1_writer.hpp"
#include "storage/store.hpp"
#include "test_util.hpp"

#include <catch2/catch.hpp>

#include <lmdb.h>

#include <chrono>
#include <string>
#include <thread>
#include <vector>

namespace actormq::storage::test {
namespace {

const std::string old_store_id = "0f0e0d0c-0b0a-4908-8706-050403020100";

struct old_message {
  uint32_t destination;
  uint64_t sequence;
  std::string payload;
  int32_t priority;
  int64_t expiration_ms;
  uint32_t flags;
  uint32_t delivery_count;
};

std::vector<old_message> old_messages() {
  std::vector<old_message> out{
      {1, 3, "first", 4, 0, 0, 0},
      {1, 4, std::string(100'000, 'L'), 9, 1'700'000'000'000, flag_redelivered,
       3},                                 // overflow pages
      {1, 9, "", 0, 0, flag_forwarded, 0}, // empty body
      {2, 1, std::string("bin\0ary", 7), 2, -1, flag_redelivered | flag_forwarded, 1},
  };
  // More than one migration chunk (4096 entries) in destination 3.
  for (uint64_t seq = 1; seq <= 5000; ++seq)
    out.push_back({3, seq, "m" + std::to_string(seq), static_cast<int32_t>(seq % 10), 0,
                   static_cast<uint32_t>(seq % 2), static_cast<uint32_t>(seq % 4)});
  return out;
}

// A schema 1 store as the release before this one wrote it.
void write_old_store(const std::filesystem::path& directory, uint64_t map_size = 64ull << 20) {
  schema1_writer w(directory, old_store_id, map_size);
  w.destination(1, "queue://orders", 12, 9, 2);
  w.destination(2, "queue://bridged", 5, 4, 0);
  w.destination(3, "queue://many", 5000, 0, 0);
  w.last_destination_id(4); // destination 4 was removed
  for (const auto& m : old_messages())
    w.message(m.destination, m.sequence, m.payload, m.priority, m.expiration_ms, m.flags,
              m.delivery_count);
  w.message(2, 7, "lost", 4, 0, 0, 0, false); // an index entry whose body was missing
  w.last_sequence(1, 11);
  w.last_sequence(2, 7);
  w.last_sequence(3, 5000);
  // Producer p stored 100, 98 and 97 (not 99) on destination 1; q is an 8-byte high-water mark.
  w.audit_window("p", 1, 100, {0, 2, 3});
  w.audit_high_water("q", 2, 50);
  w.transfer("link-a", 1, 1, 3);
  w.transfer("link-a", 2, 2, 1);
  w.transfer("link-b", 5, 1, 99); // its message is gone
  w.link_sequence("link-a", 2);
  w.link_sequence("link-b", 6);
  w.commit();
}

// The schema number in meta, read with raw LMDB (0 if the store cannot be read).
uint32_t raw_schema(const std::filesystem::path& directory, bool& has_old_bodies) {
  MDB_env* env = nullptr;
  REQUIRE(mdb_env_create(&env) == 0);
  REQUIRE(mdb_env_set_maxdbs(env, 16) == 0);
  REQUIRE(mdb_env_open(env, directory.c_str(), MDB_RDONLY, 0644) == 0);
  MDB_txn* txn = nullptr;
  REQUIRE(mdb_txn_begin(env, nullptr, MDB_RDONLY, &txn) == 0);
  MDB_dbi meta;
  REQUIRE(mdb_dbi_open(txn, "meta", 0, &meta) == 0);
  char key[] = "schema";
  MDB_val k{6, key};
  MDB_val v;
  REQUIRE(mdb_get(txn, meta, &k, &v) == 0);
  REQUIRE(v.mv_size == 4);
  auto* b = static_cast<unsigned char*>(v.mv_data);
  uint32_t schema = b[0] | b[1] << 8 | b[2] << 16 | static_cast<uint32_t>(b[3]) << 24;
  MDB_dbi bodies;
  has_old_bodies = mdb_dbi_open(txn, "bodies", 0, &bodies) == 0;
  mdb_txn_abort(txn);
  mdb_env_close(env);
  return schema;
}

void check_old_data(store& s) {
  auto records = s.destinations();
  REQUIRE(records.ok());
  REQUIRE(records->size() == 3);
  CHECK((*records)[0].name == "queue://orders");
  CHECK((*records)[0].enqueued == 12);
  CHECK((*records)[0].dequeued == 9);
  CHECK((*records)[0].duplicates == 2);
  CHECK((*records)[1].name == "queue://bridged");
  CHECK((*records)[2].enqueued == 5000);
  CHECK(*s.last_sequence(1) == 11);
  CHECK(*s.last_sequence(2) == 7);
  CHECK(*s.last_sequence(3) == 5000);

  uint64_t previous_body = 0;
  for (const auto& m : old_messages()) {
    INFO("message " << m.destination << "/" << m.sequence);
    auto entry = s.read_entry(m.destination, m.sequence);
    REQUIRE(entry.ok());
    CHECK(entry->sequence == m.sequence);
    CHECK(entry->size == m.payload.size());
    CHECK(entry->priority == m.priority);
    CHECK(entry->expiration_ms == m.expiration_ms);
    CHECK(entry->flags == m.flags);
    CHECK(entry->delivery_count == m.delivery_count);
    auto payload = s.read_payload(m.destination, m.sequence);
    REQUIRE(payload.ok());
    CHECK(*payload == m.payload);
    auto body = s.read_body(m.destination, m.sequence);
    REQUIRE(body.ok());
    CHECK(body->references == 1);
    CHECK(body->size == m.payload.size());
    CHECK(body->id > previous_body); // migrated in key order, one id each
    previous_body = body->id;
  }
  CHECK(s.recover(1)->size() == 3);
  CHECK(s.recover(2)->size() == 2);
  CHECK(s.recover(3)->size() == 5000);
  // The entry that had no body still has none: never an empty payload in its place.
  auto lost = s.read_entry(2, 7);
  REQUIRE(lost.ok());
  CHECK(lost->size == 4);
  CHECK(s.read_payload(2, 7).code() == store_errc::not_found);
  CHECK(s.read_body(2, 7).code() == store_errc::not_found);
  CHECK(s.bodies()->size() == old_messages().size());

  auto marks = s.all_transfers();
  REQUIRE(marks.ok());
  REQUIRE(marks->size() == 3);
  CHECK((*marks)[0].first == "link-a");
  CHECK((*marks)[0].second.destination_id == 1);
  CHECK((*marks)[0].second.sequence == 3);
  CHECK((*marks)[1].second.link_sequence == 2);
  CHECK((*marks)[2].first == "link-b");
  CHECK((*marks)[2].second.sequence == 99);
  CHECK(*s.last_link_sequence("link-a") == 2);
  CHECK(*s.last_link_sequence("link-b") == 6);
}

} // namespace

TEST_CASE("a schema 1 store is migrated on open and reads as it did", "[store][migration]") {
  temp_dir dir;
  write_old_store(dir.store_dir());
  auto opts = options_for(dir);
  {
    auto s = open_store(opts);
    CHECK(s->info().schema == schema_version);
    CHECK(s->info().migrated_from == 1);
    CHECK(s->info().store_id == old_store_id);
    CHECK_FALSE(s->info().created);
    check_old_data(*s);
  }
  bool has_old_bodies = true;
  CHECK(raw_schema(opts.directory, has_old_bodies) == schema_version);
  CHECK_FALSE(has_old_bodies);

  auto s = open_store(opts);
  CHECK(s->info().migrated_from == 0); // once only
  check_old_data(*s);

  // The audit windows: p's 100, 98 and 97 are resends, its 99 a late first send; q's
  // high-water mark makes everything up to 50 a resend.
  std::vector<operation> puts{make_put(1, 20, "r", "p", 98), make_put(1, 21, "late", "p", 99),
                              make_put(1, 22, "r", "p", 100), make_put(2, 20, "r", "q", 50),
                              make_put(2, 21, "new", "q", 51)};
  auto r = s->apply(puts);
  CHECK(r[0].duplicate);
  CHECK_FALSE(r[1].duplicate);
  CHECK(r[2].duplicate);
  CHECK(r[3].duplicate);
  CHECK_FALSE(r[4].duplicate);
  // New bodies get ids above the migrated ones; destination ids stay above the removed 4.
  auto migrated_bodies = old_messages().size();
  CHECK(s->read_body(1, 21)->id == migrated_bodies + 1);
  CHECK(s->read_body(2, 21)->id == migrated_bodies + 2);
  CHECK(create_destination(*s, "queue://new") == 5);
  // Acknowledging a migrated message deletes its body; clearing a mark deletes its message.
  apply_ok(*s, {delete_op{1, 4}, clear_transfer_op{"link-a", 2, true}, delete_op{2, 7}});
  CHECK(s->bodies()->size() == migrated_bodies + 2 - 2);
  CHECK(s->read_payload(2, 1).code() == store_errc::not_found);
}

TEST_CASE("a migration without room fails whole and leaves the schema 1 store as it was",
          "[store][migration]") {
  temp_dir dir;
  // About 6 MiB of bodies: the migration writes them again before the old ones are freed.
  {
    schema1_writer w(dir.store_dir(), old_store_id);
    w.destination(1, "queue://big", 60, 0, 0);
    for (uint64_t seq = 1; seq <= 60; ++seq)
      w.message(1, seq, std::string(100'000, static_cast<char>('a' + seq % 26)), 4, 0, 0, 0);
    w.last_sequence(1, 60);
    w.commit();
  }
  auto opts = options_for(dir);
  opts.max_size_bytes = 8ull << 20;
  auto refused = store::open(opts);
  REQUIRE_FALSE(refused.ok());
  CHECK(refused.code() == store_errc::store_full);
  CHECK(refused.message().find("the store is unchanged") != std::string::npos);
  CHECK(refused.message().find("raise store.max_size_mb") != std::string::npos);
  bool has_old_bodies = false;
  CHECK(raw_schema(opts.directory, has_old_bodies) == 1);
  CHECK(has_old_bodies);

  opts.max_size_bytes = 64ull << 20;
  auto s = open_store(opts);
  CHECK(s->info().migrated_from == 1);
  REQUIRE(s->recover(1)->size() == 60);
  for (uint64_t seq = 1; seq <= 60; ++seq)
    CHECK(*s->read_payload(1, seq) == std::string(100'000, static_cast<char>('a' + seq % 26)));
}

TEST_CASE("a process killed during the migration leaves a store that migrates whole later",
          "[store][migration][crash]") {
  int killed_before_done = 0;
  // The kill lands at different points: before, during or after the migration's commit.
  for (int delay_us : {0, 500, 2'000, 5'000, 20'000, 80'000}) {
    INFO("kill " << delay_us << " us after the open began");
    temp_dir dir;
    write_old_store(dir.store_dir());
    auto opts = options_for(dir, true);
    int ready[2];
    REQUIRE(::pipe(ready) == 0);
    pid_t pid = ::fork();
    if (pid == 0) {
      ::close(ready[0]);
      char byte = 1;
      bool told = ::write(ready[1], &byte, 1) == 1;
      auto s = store::open(opts);
      ::_exit(told && s.ok() ? 0 : 1);
    }
    REQUIRE(pid > 0);
    child_process child(pid);
    ::close(ready[1]);
    char byte = 0;
    REQUIRE(::read(ready[0], &byte, 1) == 1);
    ::close(ready[0]);
    std::this_thread::sleep_for(std::chrono::microseconds(delay_us));
    int status = child.kill_and_wait(SIGKILL);
    bool has_old_bodies = false;
    uint32_t schema = raw_schema(opts.directory, has_old_bodies);
    if (WIFSIGNALED(status) && schema == 1)
      ++killed_before_done;
    // Either the old store, whole, or the migrated one: never a mix.
    CHECK(((schema == 1 && has_old_bodies) || (schema == schema_version && !has_old_bodies)));
    auto s = open_store(opts);
    CHECK(s->info().migrated_from == (schema == 1 ? 1u : 0u));
    check_old_data(*s);
  }
  WARN(killed_before_done << " of 6 children were killed before their migration committed");
}

} // namespace actormq::storage::test
