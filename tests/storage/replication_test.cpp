// The replication stream (storage/replication.hpp): frames and their decoder, a master store
// shipping its commits to a replica store, the replica's refusals (older epoch, a batch that
// does not follow its position), its position across reopen, and the master's log of recent
// batches.
#include "storage/replication.hpp"
#include "storage/store.hpp"
#include "test_util.hpp"

#include <catch2/catch.hpp>

#include <sstream>

using namespace actormq;
using namespace actormq::storage;
using namespace actormq::storage::test;

namespace {

replicated_batch sample_batch(uint64_t epoch, uint64_t sequence, uint64_t previous_epoch) {
  std::vector<operation> ops{create_destination_op{"queue://q"}, make_put(1, 1, "hello", "p1", 7),
                             delete_op{1, 1}};
  auto batch =
      make_replicated_batch(ops, 0, ops.size(), false, {previous_epoch, sequence - 1}, epoch);
  REQUIRE(batch.sequence == sequence);
  return batch;
}

// Everything a store holds that recovery reads: destinations with counts, each message's entry
// and payload, the bodies, the transfer marks, the scheduled messages.
std::string state_of(store& s) {
  std::ostringstream out;
  auto dests = s.destinations();
  REQUIRE(dests.ok());
  for (auto& d : *dests) {
    out << "dest " << d.id << " " << d.name << " " << d.enqueued << "/" << d.dequeued << "/"
        << d.duplicates << " last " << *s.last_sequence(d.id) << "\n";
    auto entries = s.recover(d.id);
    REQUIRE(entries.ok());
    for (auto& e : *entries)
      out << "  " << e.sequence << " p" << e.priority << " f" << e.flags << " d" << e.delivery_count
          << " s" << e.size << " " << *s.read_payload(d.id, e.sequence) << "\n";
  }
  auto bodies = s.bodies();
  REQUIRE(bodies.ok());
  for (auto& b : *bodies)
    out << "body " << b.id << " refs " << b.references << " size " << b.size << "\n";
  auto marks = s.all_transfers();
  REQUIRE(marks.ok());
  for (auto& [link, m] : *marks)
    out << "mark " << link << " " << m.link_sequence << " " << m.destination_id << "/" << m.sequence
        << "\n";
  auto scheduled = s.scheduled();
  REQUIRE(scheduled.ok());
  for (auto& e : *scheduled)
    out << "scheduled " << e.id << " " << e.destination << " " << e.payload << "\n";
  return out.str();
}

// A master store whose shipped batches land in `shipped`.
struct shipping_master {
  temp_dir dir;
  std::unique_ptr<store> s;
  std::vector<replicated_batch> shipped;

  explicit shipping_master(uint64_t epoch) : s(open_store(options_for(dir))) {
    REQUIRE(
        s->start_shipping(epoch, [this](const replicated_batch& b) { shipped.push_back(b); }).ok());
  }
};

// A batch of every kind of operation, built on what the earlier ones made.
void run_workload(store& s) {
  uint32_t q = create_destination(s, "queue://orders");
  uint32_t t = create_destination(s, "queue://other");
  apply_ok(s, {make_put(q, 1, "one", "prod", 1), make_put(q, 2, "two", "prod", 2),
               make_put(q, 3, "three")});
  // A resend: a duplicate on the master, and so on the replica.
  std::vector<operation> resend{make_put(q, 4, "one again", "prod", 1)};
  REQUIRE(s.apply(resend)[0].duplicate);
  shared_put_op shared;
  shared.audit_destination_id = q;
  shared.payload = "shared";
  shared.targets = {{q, {}}, {t, {}}};
  shared.targets[0].entry.sequence = 5;
  shared.targets[1].entry.sequence = 1;
  apply_ok(s, {shared});
  apply_ok(s, {delete_op{q, 1}, set_flags_op{q, 2, flag_redelivered}, record_delivery_op{q, 3, 2},
               move_op{q, 3, t, 2}, mark_transfer_op{"link-a", 1, q, 2}});
  scheduled_entry e;
  e.id = 9;
  e.destination = "queue://orders";
  e.next_ms = 1000;
  e.payload = "later";
  apply_ok(s, {schedule_op{e, "producer-s", 3}, clear_transfer_op{"link-a", 1, false}});
  // A failing operation fails the same way on the replica.
  std::vector<operation> missing{delete_op{q, 99}};
  REQUIRE(s.apply(missing)[0].error == store_errc::not_found);
}

} // namespace

TEST_CASE("replication frames round-trip through the decoder in pieces of any size") {
  auto first = sample_batch(3, 1, 0);
  auto second = sample_batch(3, 2, 3);
  second.flags = 1;
  std::string stream = encode_replicated_batch(first) + encode_replicated_batch(second);
  for (size_t piece : {size_t(1), size_t(7), stream.size()}) {
    replication_decoder decoder;
    std::vector<replicated_batch> out;
    for (size_t at = 0; at < stream.size(); at += piece) {
      decoder.feed(std::string_view(stream).substr(at, piece));
      while (true) {
        auto next = decoder.next();
        REQUIRE(next.ok());
        if (!*next)
          break;
        out.push_back(std::move(**next));
      }
    }
    REQUIRE(out.size() == 2);
    CHECK(out[0].epoch == 3);
    CHECK(out[0].sequence == 1);
    CHECK(out[0].previous_epoch == 0);
    CHECK(out[0].operations == first.operations);
    CHECK(out[1].position() == replication_position{3, 2});
    CHECK(out[1].previous() == replication_position{3, 1});
    CHECK(out[1].flags == 1);
    CHECK(decoder.buffered() == 0);
    auto ops = decode_replicated_operations(out[0]);
    REQUIRE(ops.ok());
    REQUIRE(ops->size() == 3);
    CHECK(std::get<put_op>((*ops)[1]).payload == "hello");
  }
}

TEST_CASE("the replication decoder refuses damaged frames and stays broken") {
  std::string good = encode_replicated_batch(sample_batch(2, 5, 1));
  auto refused = [](std::string frame, size_t max_frame = replication_decoder::default_max_frame) {
    replication_decoder decoder(max_frame);
    decoder.feed(frame);
    auto next = decoder.next();
    if (next.ok())
      return false;
    CHECK(next.code() == store_errc::corrupt);
    // Once broken, always broken, even with good bytes behind.
    decoder.feed(encode_replicated_batch(sample_batch(2, 6, 2)));
    return !decoder.next().ok();
  };
  CHECK_FALSE(refused(good));
  std::string flipped = good;
  flipped.back() = static_cast<char>(flipped.back() ^ 1);
  CHECK(refused(flipped));
  CHECK(refused(good, good.size() - replication_frame_head - 1));
  std::string tiny(8, '\0'); // a body smaller than its fixed fields
  CHECK(refused(tiny));
  auto with = [](uint64_t epoch, uint64_t sequence, uint64_t previous, uint8_t flags) {
    replicated_batch b;
    b.epoch = epoch;
    b.sequence = sequence;
    b.previous_epoch = previous;
    b.flags = flags;
    return encode_replicated_batch(b);
  };
  CHECK_FALSE(refused(with(1, 1, 0, 1)));
  CHECK(refused(with(0, 1, 0, 0))); // epoch 0
  CHECK(refused(with(1, 0, 0, 0))); // sequence 0
  CHECK(refused(with(1, 2, 2, 0))); // a previous epoch above the epoch
  CHECK(refused(with(1, 1, 0, 4))); // an unknown flag
  std::string version = with(1, 1, 0, 0);
  version[replication_frame_head] = 2;
  CHECK(refused(version)); // (its CRC fails too; either refuses)

  // A frame that is not yet whole waits for more bytes.
  replication_decoder decoder;
  decoder.feed(std::string_view(good).substr(0, good.size() - 1));
  auto next = decoder.next();
  REQUIRE(next.ok());
  CHECK_FALSE(*next);
}

TEST_CASE("a replica applying the master's shipped batches holds what the master holds") {
  shipping_master master(1);
  run_workload(*master.s);
  REQUIRE(master.shipped.size() >= 8);
  for (size_t i = 0; i < master.shipped.size(); ++i) {
    CHECK(master.shipped[i].sequence == i + 1);
    CHECK(master.shipped[i].epoch == 1);
  }
  temp_dir replica_dir;
  auto replica = open_store(options_for(replica_dir));
  for (auto& b : master.shipped) {
    // Through the wire format, as a replica gets it.
    replication_decoder decoder;
    decoder.feed(encode_replicated_batch(b));
    auto decoded = decoder.next();
    REQUIRE(decoded.ok());
    REQUIRE(*decoded);
    auto applied = replica->apply_replicated(**decoded);
    INFO(applied.message());
    REQUIRE(applied.ok());
  }
  CHECK(state_of(*replica) == state_of(*master.s));
  auto master_at = master.s->log_position();
  auto replica_at = replica->log_position();
  REQUIRE(master_at.ok());
  REQUIRE(replica_at.ok());
  CHECK(*master_at == replication_position{1, master.shipped.size()});
  CHECK(*replica_at == *master_at);
}

TEST_CASE("a replica refuses batches of older epochs and batches that do not follow it") {
  shipping_master master(4);
  run_workload(*master.s);
  temp_dir replica_dir;
  auto replica = open_store(options_for(replica_dir));
  auto& b = master.shipped;
  REQUIRE(replica->apply_replicated(b[0]).ok());
  std::string before = state_of(*replica);
  bool fenced = false;

  SECTION("a gap") {
    auto r = replica->apply_replicated(b[2]);
    CHECK(r.code() == store_errc::out_of_order);
  }
  SECTION("the same batch again") {
    auto r = replica->apply_replicated(b[0]);
    CHECK(r.code() == store_errc::out_of_order);
  }
  SECTION("a batch that follows another master's batch at the replica's position") {
    auto other = b[1];
    other.epoch = 5;
    other.previous_epoch = 3; // the replica's batch 1 is of epoch 4
    auto r = replica->apply_replicated(other);
    CHECK(r.code() == store_errc::out_of_order);
  }
  SECTION("an older epoch than the replica's position") {
    auto old = b[1];
    old.epoch = 3;
    old.previous_epoch = 3;
    CHECK(replica->apply_replicated(old).code() == store_errc::stale_epoch);
  }
  SECTION("an epoch below the fence") {
    replica->fence(5);
    replica->fence(2); // never lowers it
    CHECK(replica->apply_replicated(b[1]).code() == store_errc::stale_epoch);
    fenced = true;
  }
  SECTION("operations that do not decode") {
    auto broken = b[1];
    broken.operations = "garbage";
    CHECK(replica->apply_replicated(broken).code() == store_errc::corrupt);
  }
  CHECK(state_of(*replica) == before);
  CHECK(*replica->log_position() == replication_position{4, 1});
  if (fenced)
    return;
  // The batch that follows still goes in.
  CHECK(replica->apply_replicated(b[1]).ok());
  CHECK(*replica->log_position() == replication_position{4, 2});
}

TEST_CASE("positions survive reopen, and a replica becomes the next epoch's master") {
  temp_dir a_dir, b_dir;
  std::vector<replicated_batch> shipped;
  {
    auto a = open_store(options_for(a_dir, true));
    REQUIRE(a->start_shipping(1, [&](const replicated_batch& b) { shipped.push_back(b); }).ok());
    uint32_t q = create_destination(*a, "queue://q");
    apply_ok(*a, {make_put(q, 1, "x")});
  }
  {
    auto b = open_store(options_for(b_dir, true));
    for (auto& batch : shipped)
      REQUIRE(b->apply_replicated(batch).ok());
  }
  auto a = open_store(options_for(a_dir, true));
  auto b = open_store(options_for(b_dir, true));
  CHECK(*a->log_position() == replication_position{1, 2});
  CHECK(*b->log_position() == replication_position{1, 2});
  CHECK(state_of(*a) == state_of(*b));

  // b is elected with epoch 2 and ships; a follows it.
  std::vector<replicated_batch> from_b;
  CHECK(b->start_shipping(0, nullptr).code() == store_errc::stale_epoch);
  REQUIRE(b->start_shipping(2, [&](const replicated_batch& x) { from_b.push_back(x); }).ok());
  apply_ok(*b, {make_put(1, 2, "y"), delete_op{1, 1}});
  REQUIRE(from_b.size() == 1);
  CHECK(from_b[0].previous() == replication_position{1, 2});
  CHECK(from_b[0].position() == replication_position{2, 3});
  a->fence(2);
  REQUIRE(a->apply_replicated(from_b[0]).ok());
  CHECK(state_of(*a) == state_of(*b));
  // a, demoted, can no longer ship in the old epoch.
  CHECK(a->start_shipping(1, nullptr).code() == store_errc::stale_epoch);
}

TEST_CASE("a replica with the journal applies batches outside it, after a checkpoint") {
  shipping_master master(1);
  run_workload(*master.s);
  temp_dir replica_dir;
  auto o = options_for(replica_dir, true);
  o.journal = true;
  {
    auto replica = open_store(o);
    replica->set_checkpoint_requester([p = replica.get()] { (void)p->checkpoint(); });
    for (auto& b : master.shipped)
      REQUIRE(replica->apply_replicated(b).ok());
    CHECK(state_of(*replica) == state_of(*master.s));
    // A master does not ship through the journal (not supported yet).
    CHECK(replica->start_shipping(2, nullptr).code() == store_errc::io_error);
  }
  auto reopened = open_store(o);
  CHECK(*reopened->log_position() == replication_position{1, master.shipped.size()});
}

TEST_CASE("the master's log hands a lagging replica what it misses, or says why not") {
  replication_log log({2, 10}, 3, 100);
  CHECK(log.epoch() == 3);
  auto& first = log.append(0, std::string(40, 'a'));
  CHECK(first.position() == replication_position{3, 11});
  CHECK(first.previous() == replication_position{2, 10});
  log.append(0, std::string(40, 'b'));
  log.append(0, std::string(40, 'c')); // 120 bytes: batch 11 is dropped
  CHECK(log.position() == replication_position{3, 13});

  std::vector<const replicated_batch*> out;
  CHECK(log.since({3, 13}, out) == replication_log::catch_up::batches);
  CHECK(out.empty());
  CHECK(log.since({3, 11}, out) == replication_log::catch_up::batches);
  REQUIRE(out.size() == 2);
  CHECK(out[0]->sequence == 12);
  CHECK(out[1]->sequence == 13);
  CHECK(log.since({2, 10}, out) == replication_log::catch_up::too_far_behind);
  CHECK(log.since({2, 11}, out) == replication_log::catch_up::diverged); // not the 11 kept
  CHECK(log.since({3, 14}, out) == replication_log::catch_up::diverged); // ahead of the log
  CHECK(log.since({2, 13}, out) == replication_log::catch_up::diverged);

  // A batch that does not follow the log is not kept.
  replicated_batch stray;
  stray.epoch = 3;
  stray.sequence = 15;
  stray.previous_epoch = 3;
  CHECK_FALSE(log.append(stray));
  stray.sequence = 14;
  CHECK(log.append(stray));
  CHECK(log.position() == replication_position{3, 14});
}
