// Bodies stored once and referenced by several destinations: reference counts, shared puts,
// moves and body ids, on both backends (the LMDB store also across a reopen).
#include "storage/memory_backend.hpp"
#include "storage/store.hpp"
#include "test_util.hpp"

#include <catch2/catch.hpp>

#include <lmdb.h>

#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace actormq::storage::test {
namespace {

// One backend of either kind; reopen() is what a restart does to it (LMDB: the folder opened
// again; memory: nothing).
class subject {
public:
  explicit subject(bool lmdb) {
    if (lmdb) {
      dir_.emplace();
      options_ = options_for(*dir_);
      backend_ = open_store(options_);
    } else {
      backend_ = std::make_unique<memory_backend>();
    }
  }

  backend& operator*() { return *backend_; }
  backend* operator->() { return backend_.get(); }

  void reopen() {
    if (!dir_)
      return;
    backend_.reset();
    backend_ = open_store(options_);
  }

  std::vector<op_result> apply_ok(std::vector<operation> batch) {
    auto results = backend_->apply(batch);
    REQUIRE(results.size() == batch.size());
    for (const auto& r : results) {
      INFO(r.error.message());
      REQUIRE_FALSE(r.error);
    }
    return results;
  }

  uint32_t create(const std::string& name) {
    return apply_ok({create_destination_op{name}})[0].destination_id;
  }

  std::vector<body_record> bodies() {
    auto all = backend_->bodies();
    REQUIRE(all.ok());
    return *all;
  }

  body_record body_of(uint32_t destination_id, uint64_t sequence) {
    auto body = backend_->read_body(destination_id, sequence);
    INFO(body.message());
    REQUIRE(body.ok());
    return *body;
  }

  destination_record record(uint32_t id) {
    auto all = backend_->destinations();
    REQUIRE(all.ok());
    for (const auto& r : *all)
      if (r.id == id)
        return r;
    FAIL("no destination " << id);
    return {};
  }

private:
  std::optional<temp_dir> dir_;
  store_options options_;
  std::unique_ptr<backend> backend_;
};

shared_put_op fan_out(uint32_t audit_destination, std::vector<std::pair<uint32_t, uint64_t>> to,
                      std::string payload, std::string producer = {}, uint64_t sequence = 0) {
  shared_put_op op;
  op.audit_destination_id = audit_destination;
  for (auto [destination, seq] : to) {
    shared_put_target target;
    target.destination_id = destination;
    target.entry.sequence = seq;
    op.targets.push_back(target);
  }
  op.payload = std::move(payload);
  op.producer_id = std::move(producer);
  op.producer_sequence = sequence;
  return op;
}

} // namespace

TEST_CASE("a queue put has a body with one reference, deleted with its message", "[bodies]") {
  const bool lmdb = GENERATE(true, false);
  INFO((lmdb ? "lmdb" : "memory"));
  subject s(lmdb);
  uint32_t q = s.create("queue://q");
  s.apply_ok({make_put(q, 1, "one"), make_put(q, 2, "two")});
  auto bodies = s.bodies();
  REQUIRE(bodies.size() == 2);
  CHECK(bodies[0].id == 1);
  CHECK(bodies[0].references == 1);
  CHECK(bodies[0].size == 3);
  CHECK(s.body_of(q, 2).id == 2);
  s.apply_ok({delete_op{q, 1}});
  bodies = s.bodies();
  REQUIRE(bodies.size() == 1);
  CHECK(bodies[0].id == 2);
  // A put over a stored message replaces it and releases its body.
  s.apply_ok({make_put(q, 2, "second two")});
  bodies = s.bodies();
  REQUIRE(bodies.size() == 1);
  CHECK(bodies[0].id == 3);
  CHECK(*s->read_payload(q, 2) == "second two");
  s.apply_ok({purge_op{q}});
  CHECK(s.bodies().empty());
}

TEST_CASE("a shared put stores one body for every destination; the last reference deletes it",
          "[bodies]") {
  const bool lmdb = GENERATE(true, false);
  INFO((lmdb ? "lmdb" : "memory"));
  subject s(lmdb);
  uint32_t topic = s.create("topic://prices");
  uint32_t a = s.create("queue://sub-a");
  uint32_t b = s.create("queue://sub-b");
  uint32_t c = s.create("queue://sub-c");
  auto r = s.apply_ok({fan_out(topic, {{a, 7}, {b, 1}, {c, 40}}, "tick", "producer", 1)});
  CHECK_FALSE(r[0].duplicate);
  auto bodies = s.bodies();
  REQUIRE(bodies.size() == 1);
  CHECK(bodies[0].references == 3);
  for (auto [dest, seq] : {std::pair<uint32_t, uint64_t>{a, 7}, {b, 1}, {c, 40}}) {
    CHECK(*s->read_payload(dest, seq) == "tick");
    CHECK(s->read_entry(dest, seq)->size == 4);
    CHECK(*s->last_sequence(dest) == seq);
    CHECK(s.record(dest).enqueued == 1);
    CHECK(s.body_of(dest, seq).id == bodies[0].id);
  }
  // The audit is applied once, on the destination the producer sent to.
  CHECK(s.record(topic).enqueued == 0);
  r = s.apply_ok({fan_out(topic, {{a, 8}, {b, 2}, {c, 41}}, "tick", "producer", 1)});
  CHECK(r[0].duplicate);
  CHECK(s.record(topic).duplicates == 1);
  CHECK(s.bodies().size() == 1);
  CHECK(s->read_entry(a, 8).code() == store_errc::not_found);

  s.reopen();
  s.apply_ok({delete_op{a, 7}});
  CHECK(s.bodies().at(0).references == 2);
  s.apply_ok({purge_op{b}});
  CHECK(s.bodies().at(0).references == 1);
  CHECK(*s->read_payload(c, 40) == "tick");
  s.reopen();
  auto removed = s.apply_ok({remove_destination_op{c}});
  CHECK(removed[0].count == 1);
  CHECK(s.bodies().empty());
}

TEST_CASE("a shared put names a missing destination: nothing is stored", "[bodies]") {
  const bool lmdb = GENERATE(true, false);
  INFO((lmdb ? "lmdb" : "memory"));
  subject s(lmdb);
  uint32_t topic = s.create("topic://t");
  uint32_t a = s.create("queue://a");
  std::vector<operation> batch{fan_out(topic, {{a, 1}, {a + 5, 1}}, "x", "p", 1),
                               fan_out(a + 6, {{a, 2}}, "y", "p", 2),
                               fan_out(topic, {}, "z", "p", 3), // the audit only
                               fan_out(topic, {{a, 3}}, "w", "p", 3)};
  auto r = s->apply(batch);
  CHECK(r[0].error == store_errc::not_found);
  CHECK(r[1].error == store_errc::not_found);
  CHECK_FALSE(r[2].error);
  CHECK_FALSE(r[2].duplicate);
  CHECK(r[3].duplicate); // sequence 3 was recorded by the put without targets
  CHECK(s.bodies().empty());
  CHECK(s->recover(a)->empty());
  CHECK(s.record(a).enqueued == 0);
  CHECK(*s->last_sequence(a) == 0);
  // A target named twice with one sequence is one entry and one reference.
  s.apply_ok({fan_out(topic, {{a, 9}, {a, 9}, {a, 10}}, "v")});
  auto bodies = s.bodies();
  REQUIRE(bodies.size() == 1);
  CHECK(bodies[0].references == 2);
  CHECK(s->recover(a)->size() == 2);
}

TEST_CASE("a move hands the body to another destination without copying it", "[bodies]") {
  const bool lmdb = GENERATE(true, false);
  INFO((lmdb ? "lmdb" : "memory"));
  subject s(lmdb);
  uint32_t q = s.create("queue://orders");
  uint32_t dlq = s.create("queue://DLQ");
  auto put = make_put(q, 5, "order");
  put.entry.priority = 7;
  put.entry.expiration_ms = 123456;
  s.apply_ok({put, set_flags_op{q, 5, flag_redelivered}, record_delivery_op{q, 5, 6}});
  uint64_t body_id = s.body_of(q, 5).id;
  s.apply_ok({move_op{q, 5, dlq, 100}});
  CHECK(s->read_entry(q, 5).code() == store_errc::not_found);
  auto moved = s->read_entry(dlq, 100);
  REQUIRE(moved.ok());
  CHECK(moved->sequence == 100);
  CHECK(moved->priority == 7);
  CHECK(moved->expiration_ms == 123456);
  CHECK(moved->flags == flag_redelivered);
  CHECK(moved->delivery_count == 6);
  CHECK(moved->size == 5);
  CHECK(*s->read_payload(dlq, 100) == "order");
  CHECK(s.body_of(dlq, 100).id == body_id);
  CHECK(s.body_of(dlq, 100).references == 1);
  CHECK(s.bodies().size() == 1);
  CHECK(s.record(q).dequeued == 1);
  CHECK(s.record(dlq).enqueued == 1);
  CHECK(*s->last_sequence(dlq) == 100);
  s.reopen();
  CHECK(*s->read_payload(dlq, 100) == "order");

  // Missing source message or destinations: not_found, nothing changed.
  std::vector<operation> missing{move_op{q, 5, dlq, 101}, move_op{dlq, 100, dlq + 9, 1},
                                 move_op{dlq + 9, 1, dlq, 102}};
  for (const auto& r : s->apply(missing))
    CHECK(r.error == store_errc::not_found);
  CHECK(s->recover(dlq)->size() == 1);
  CHECK(s.record(dlq).dequeued == 0);

  // Onto a stored message: it is replaced and its body released.
  s.apply_ok({make_put(q, 6, "other")});
  s.apply_ok({move_op{q, 6, dlq, 100}});
  CHECK(*s->read_payload(dlq, 100) == "other");
  CHECK(s.bodies().size() == 1);

  // Onto an entry of the same body (a shared put reached both): the two references are one.
  uint32_t topic = s.create("topic://t");
  s.apply_ok({fan_out(topic, {{q, 20}, {dlq, 20}}, "shared")});
  CHECK(s.body_of(q, 20).references == 2);
  s.apply_ok({move_op{q, 20, dlq, 20}});
  CHECK(s.body_of(dlq, 20).references == 1);
  s.apply_ok({delete_op{dlq, 20}});
  CHECK(s.bodies().size() == 1); // only "other" is left
}

TEST_CASE("a relocation moves a message with a new entry, and a new body if it has one",
          "[bodies]") {
  const bool lmdb = GENERATE(true, false);
  INFO((lmdb ? "lmdb" : "memory"));
  subject s(lmdb);
  uint32_t q = s.create("queue://orders");
  uint32_t dlq = s.create("queue://ActiveMQ.DLQ");
  auto put = make_put(q, 5, "order");
  put.entry.expiration_ms = 123456;
  s.apply_ok({put, record_delivery_op{q, 5, 7}});
  uint64_t old_body = s.body_of(q, 5).id;
  relocate_op dead;
  dead.from_destination_id = q;
  dead.from_sequence = 5;
  dead.to_destination_id = dlq;
  dead.entry.sequence = 40;
  dead.entry.priority = 4;
  dead.payload = "order with a cause";
  s.apply_ok({dead});
  CHECK(s->read_entry(q, 5).code() == store_errc::not_found);
  auto moved = s->read_entry(dlq, 40);
  REQUIRE(moved.ok());
  CHECK(moved->expiration_ms == 0);
  CHECK(moved->delivery_count == 0);
  CHECK(moved->size == 18);
  CHECK(*s->read_payload(dlq, 40) == "order with a cause");
  CHECK(s.body_of(dlq, 40).id != old_body);
  CHECK(s.bodies().size() == 1); // the old body went with its last reference
  CHECK(s.record(q).dequeued == 1);
  CHECK(s.record(dlq).enqueued == 1);
  CHECK(*s->last_sequence(dlq) == 40);
  s.reopen();
  CHECK(*s->read_payload(dlq, 40) == "order with a cause");

  // Without a payload the body is referenced as it is.
  uint64_t body = s.body_of(dlq, 40).id;
  relocate_op back;
  back.from_destination_id = dlq;
  back.from_sequence = 40;
  back.to_destination_id = q;
  back.entry.sequence = 6;
  s.apply_ok({back});
  CHECK(s.body_of(q, 6).id == body);
  CHECK(s->read_entry(q, 6)->size == 18);
  CHECK(s.bodies().size() == 1);

  // A missing source: not_found, nothing changed.
  back.from_sequence = 99;
  std::vector<operation> missing{back};
  CHECK(s->apply(missing)[0].error == store_errc::not_found);
  CHECK(s->recover(q)->size() == 1);
}

TEST_CASE("body ids grow and are never reused, also after a restart", "[bodies]") {
  const bool lmdb = GENERATE(true, false);
  INFO((lmdb ? "lmdb" : "memory"));
  subject s(lmdb);
  uint32_t topic = s.create("topic://t");
  uint32_t a = s.create("queue://a");
  uint32_t b = s.create("queue://b");
  s.apply_ok({fan_out(topic, {{a, 1}, {b, 1}}, "kept")});
  uint64_t kept = s.body_of(a, 1).id;
  uint64_t highest = kept;
  for (uint64_t round = 0; round < 5; ++round) {
    // The newest body goes with its message; its id must not come back.
    s.apply_ok({make_put(a, 10 + round, "short-lived")});
    uint64_t id = s.body_of(a, 10 + round).id;
    CHECK(id > highest);
    highest = id;
    s.apply_ok({delete_op{a, 10 + round}});
    s.reopen();
    CHECK(s.body_of(b, 1).id == kept); // a referenced body keeps its id
  }
  s.apply_ok({delete_op{a, 1}});
  CHECK(s.body_of(b, 1).references == 1);
  s.apply_ok({delete_op{b, 1}});
  CHECK(s.bodies().empty());
  s.reopen();
  s.apply_ok({make_put(a, 1, "after")});
  CHECK(s.body_of(a, 1).id == highest + 1);
}

TEST_CASE("the LMDB store keeps no reference record for a body referenced once", "[bodies]") {
  // Queues pay one body record per message and no reference record: "body_refs" stays empty.
  temp_dir dir;
  auto opts = options_for(dir);
  auto s = open_store(opts);
  uint32_t q = create_destination(*s, "queue://q");
  uint32_t t = create_destination(*s, "topic://t");
  apply_ok(*s, {make_put(q, 1, "a"), make_put(q, 2, "b")});
  shared_put_op shared;
  shared.audit_destination_id = t;
  shared.targets = {shared_put_target{q, {}}, shared_put_target{q, {}}};
  shared.targets[0].entry.sequence = 3;
  shared.targets[1].entry.sequence = 4;
  shared.payload = "c";
  apply_ok(*s, {shared});
  s.reset();
  auto count_refs = [&] {
    MDB_env* env = nullptr;
    REQUIRE(mdb_env_create(&env) == 0);
    REQUIRE(mdb_env_set_maxdbs(env, 16) == 0);
    REQUIRE(mdb_env_open(env, opts.directory.c_str(), MDB_RDONLY, 0644) == 0);
    MDB_txn* txn = nullptr;
    REQUIRE(mdb_txn_begin(env, nullptr, MDB_RDONLY, &txn) == 0);
    MDB_dbi refs;
    REQUIRE(mdb_dbi_open(txn, "body_refs", 0, &refs) == 0);
    MDB_stat stat;
    REQUIRE(mdb_stat(txn, refs, &stat) == 0);
    mdb_txn_abort(txn);
    mdb_env_close(env);
    return stat.ms_entries;
  };
  CHECK(count_refs() == 1); // the shared body only
  s = open_store(opts);
  apply_ok(*s, {delete_op{q, 3}});
  s.reset();
  CHECK(count_refs() == 0);
}

} // namespace actormq::storage::test
