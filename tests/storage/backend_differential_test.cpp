// The LMDB store and the in-memory backend driven with the same seeded random batches (puts,
// puts shared by several destinations, moves, deletes, purges, removals, ...): every
// operation's result and everything the reads can see must be the same after every batch. The
// LMDB store is also closed and opened again between some batches (what a crash leaves: the
// object dropped, the folder opened anew) and must come back with the same state.
//
// The map is large (64 MiB): the memory backend does not model LMDB's pages, so store_full is
// outside this test (store_full_test.cpp covers it); a store_full here fails the comparison.
#include "storage/memory_backend.hpp"
#include "storage/store.hpp"
#include "test_util.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <cstdint>
#include <map>
#include <memory>
#include <random>
#include <sstream>
#include <string>
#include <vector>

namespace actormq::storage::test {
namespace {

constexpr uint64_t max_message_sequence = 200; // small, so that operations meet stored messages

const std::vector<std::string> destination_names = {
    "queue://q0", "queue://q1", "queue://q2", "queue://q3", "topic://t0", "topic://t1",
};
const std::vector<std::string> producer_ids = {"p1", "p2", "p3"};
// Valid link ids, and ones the store refuses (empty, over 200 bytes, holding a '\0').
const std::vector<std::string> link_ids = {"link-a", "link-b", "lb", "link-a2"};
const std::vector<std::string> invalid_link_ids = {"", std::string(201, 'l'),
                                                   std::string("x\0y", 3)};

// Makes random batches. What it picks (ids, stored sequences, marks) it reads from the memory
// backend, which the comparison has just found equal to the LMDB store.
class generator {
public:
  explicit generator(uint64_t seed) : rng_(seed) {}

  std::vector<operation> batch(const backend& model) {
    auto records = model.destinations();
    REQUIRE(records.ok());
    live_ = *records;
    auto marks = model.all_transfers();
    REQUIRE(marks.ok());
    marks_ = *marks;
    std::vector<operation> out;
    size_t size = 1 + below(40);
    for (size_t i = 0; i < size; ++i)
      out.push_back(op(model));
    return out;
  }

private:
  uint64_t below(uint64_t n) { return std::uniform_int_distribution<uint64_t>(0, n - 1)(rng_); }
  bool chance(unsigned percent) { return below(100) < percent; }

  operation op(const backend& model) {
    if (chance(6))
      return scheduled();
    uint64_t roll = below(100);
    if (roll < 46) {
      uint64_t kind = below(100);
      if (kind < 70)
        return put();
      if (kind < 88)
        return shared_put();
      return move(model);
    }
    if (roll < 70 && roll >= 64)
      return create_destination_op{name()};
    if (roll < 86 && roll >= 72)
      return mark(model);
    if (roll >= 86)
      return clear();
    uint32_t id = destination();
    if (roll < 52)
      return delete_op{id, sequence(model, id)};
    if (roll < 58)
      return set_flags_op{id, sequence(model, id), static_cast<uint32_t>(below(8))};
    if (roll < 64)
      return record_delivery_op{id, sequence(model, id), static_cast<uint32_t>(below(5))};
    if (roll < 71)
      return purge_op{id};
    return remove_destination_op{id};
  }

  // Scheduled messages: a few ids (0 is refused), stored, replaced and removed.
  operation scheduled() {
    uint64_t id = below(6);
    if (chance(35))
      return unschedule_op{id};
    schedule_op s;
    s.entry.id = id;
    s.entry.destination = destination_names[below(destination_names.size())];
    s.entry.next_ms = static_cast<int64_t>(below(1'000'000'000));
    s.entry.period_ms = static_cast<int64_t>(below(10'000));
    s.entry.repeats_left = static_cast<int32_t>(below(5)) - 1;
    s.entry.cron = chance(30) ? "*/5 * * * *" : "";
    s.entry.delivered = static_cast<uint32_t>(below(4));
    s.entry.payload.resize(below(200));
    for (auto& c : s.entry.payload)
      c = static_cast<char>(below(256));
    if (chance(40)) {
      s.producer_id = chance(50) ? "p1" : "p2";
      s.producer_sequence = below(8);
    }
    return s;
  }

  std::string name() {
    uint64_t roll = below(100);
    if (roll < 2)
      return {};
    if (roll < 3)
      return std::string(512, 'n'); // one byte over LMDB's key size
    if (roll < 4)
      return std::string(511, 'n'); // the longest name that fits
    return destination_names[below(destination_names.size())];
  }

  // Mostly a live destination; sometimes a removed, never created or zero id.
  uint32_t destination() {
    uint32_t highest = 0;
    for (const auto& r : live_)
      highest = std::max(highest, r.id);
    if (!live_.empty() && chance(85))
      return live_[below(live_.size())].id;
    return static_cast<uint32_t>(below(highest + 3));
  }

  // Mostly a stored message's sequence, else any in range.
  uint64_t sequence(const backend& model, uint32_t destination_id) {
    if (chance(70)) {
      auto entries = model.recover(destination_id);
      REQUIRE(entries.ok());
      if (!entries->empty())
        return (*entries)[below(entries->size())].sequence;
    }
    return 1 + below(max_message_sequence);
  }

  // One body for several destinations (a topic's subscriptions): 0 to 4 targets, sometimes
  // one named twice, with the audit of put().
  shared_put_op shared_put() {
    put_op single = put();
    shared_put_op p;
    p.audit_destination_id = single.destination_id;
    p.payload = single.payload;
    p.producer_id = single.producer_id;
    p.producer_sequence = single.producer_sequence;
    size_t targets = below(5);
    for (size_t i = 0; i < targets; ++i) {
      shared_put_target t;
      t.destination_id = destination();
      t.entry = single.entry;
      t.entry.sequence = 1 + below(max_message_sequence);
      if (i > 0 && chance(10))
        t = p.targets[below(i)];
      p.targets.push_back(t);
    }
    return p;
  }

  // Mostly a stored message to a live destination, sometimes onto a stored one.
  move_op move(const backend& model) {
    move_op m;
    m.from_destination_id = destination();
    m.from_sequence = sequence(model, m.from_destination_id);
    m.to_destination_id = destination();
    m.to_sequence =
        chance(30) ? sequence(model, m.to_destination_id) : 1 + below(max_message_sequence);
    return m;
  }

  put_op put() {
    put_op p;
    p.destination_id = destination();
    p.entry.sequence = 1 + below(max_message_sequence);
    p.entry.priority = static_cast<int32_t>(below(10));
    p.entry.expiration_ms = chance(20) ? static_cast<int64_t>(below(1'000'000'000)) : 0;
    p.entry.flags = static_cast<uint32_t>(below(8));
    p.entry.delivery_count = static_cast<uint32_t>(below(3));
    p.entry.size = 12345; // the store sets it to the payload's size
    p.payload.resize(below(200));
    for (auto& c : p.payload)
      c = static_cast<char>(below(256));
    uint64_t roll = below(100);
    if (roll < 40)
      return p;
    if (roll < 41) {
      p.producer_id = std::string(507, 'p'); // key one byte over LMDB's key size
    } else if (roll < 42) {
      p.producer_id = std::string(506, 'p'); // the longest that fits
    } else {
      p.producer_id = producer_ids[below(producer_ids.size())];
    }
    uint64_t& last = producer_last_[p.producer_id];
    roll = below(100);
    if (roll < 15)
      p.producer_sequence = last > 5 ? last - below(6) : last; // a resend (or a late send)
    else if (roll < 20)
      p.producer_sequence = last += 1000 + below(500); // a jump past the window
    else if (roll < 25)
      p.producer_sequence = last > 1030 ? last - 1030 : 0; // below the window: a resend
    else
      p.producer_sequence = ++last;
    return p;
  }

  mark_transfer_op mark(const backend& model) {
    mark_transfer_op m;
    m.link_id = chance(3) ? invalid_link_ids[below(invalid_link_ids.size())]
                          : link_ids[below(link_ids.size())];
    m.destination_id = destination();
    m.sequence = sequence(model, m.destination_id);
    uint64_t& last = link_last_[m.link_id];
    m.link_sequence = chance(10) && last > 0 ? 1 + below(last) : ++last; // sometimes replaces
    return m;
  }

  clear_transfer_op clear() {
    clear_transfer_op c;
    c.delete_message = chance(70);
    if (!marks_.empty() && chance(75)) {
      const auto& mark = marks_[below(marks_.size())];
      c.link_id = mark.first;
      c.link_sequence = mark.second.link_sequence;
      return c;
    }
    c.link_id = chance(10) ? invalid_link_ids[below(invalid_link_ids.size())]
                           : link_ids[below(link_ids.size())];
    c.link_sequence = below(link_last_[c.link_id] + 2);
    return c;
  }

  std::mt19937_64 rng_;
  std::vector<destination_record> live_;
  std::vector<std::pair<std::string, transfer_record>> marks_;
  std::map<std::string, uint64_t> producer_last_;
  std::map<std::string, uint64_t> link_last_;
};

// A link id or name for the failure message: its size and first bytes, '\0' and other
// unprintable bytes as '?'.
std::string shown(const std::string& s) {
  std::string out = std::to_string(s.size()) + ":";
  for (char c : s.substr(0, 16))
    out.push_back(c >= 0x20 && c < 0x7f ? c : '?');
  return out;
}

std::string text(const index_entry& e) {
  std::ostringstream out;
  out << "seq=" << e.sequence << " size=" << e.size << " prio=" << e.priority
      << " exp=" << e.expiration_ms << " flags=" << e.flags << " deliveries=" << e.delivery_count;
  return out.str();
}

std::string text(const body_record& b) {
  return "body=" + std::to_string(b.id) + " refs=" + std::to_string(b.references) +
         " size=" + std::to_string(b.size);
}

std::string text(const transfer_record& t) {
  return "link_seq=" + std::to_string(t.link_sequence) +
         " dest=" + std::to_string(t.destination_id) + " seq=" + std::to_string(t.sequence);
}

std::string error_text(std::error_code code) {
  return code ? "error " + std::string(code.category().name()) + ":" + std::to_string(code.value())
              : std::string("ok");
}

template <class T> std::string failed_or(const result<T>& r) {
  return r.ok() ? std::string() : error_text(r.code());
}

// Everything the reads can see, one fact a line. Payloads are compared byte for byte (as
// their size and a hash of the bytes, to keep failure messages short).
std::string observe(const backend& b) {
  std::ostringstream out;
  auto records = b.destinations();
  out << "destinations " << failed_or(records) << "\n";
  uint32_t highest = 0;
  if (records) {
    for (const auto& r : *records) {
      out << "  " << r.id << " " << shown(r.name) << " enq=" << r.enqueued << " deq=" << r.dequeued
          << " dup=" << r.duplicates << "\n";
      highest = std::max(highest, r.id);
    }
  }
  for (uint32_t id = 0; id <= highest + 2; ++id) {
    auto last = b.last_sequence(id);
    out << "last_sequence " << id << " " << failed_or(last) << (last ? *last : 0) << "\n";
    auto entries = b.recover(id);
    out << "recover " << id << " " << failed_or(entries) << "\n";
    std::vector<uint64_t> probe;
    if (entries) {
      for (const auto& e : *entries) {
        out << "  " << text(e) << "\n";
        probe.push_back(e.sequence);
      }
    }
    probe.push_back(0);
    probe.push_back(max_message_sequence + 1);
    for (uint64_t seq : probe) {
      auto entry = b.read_entry(id, seq);
      out << "read_entry " << id << "/" << seq << " " << failed_or(entry)
          << (entry ? text(*entry) : "") << "\n";
      auto payload = b.read_payload(id, seq);
      out << "read_payload " << id << "/" << seq << " " << failed_or(payload);
      if (payload)
        out << payload->size() << " bytes hash " << std::hash<std::string>{}(*payload);
      out << "\n";
      auto body = b.read_body(id, seq);
      out << "read_body " << id << "/" << seq << " " << failed_or(body) << (body ? text(*body) : "")
          << "\n";
    }
  }
  auto links = link_ids;
  links.insert(links.end(), invalid_link_ids.begin(), invalid_link_ids.end());
  for (const auto& link : links) {
    auto marks = b.transfers(link);
    out << "transfers " << shown(link) << " " << failed_or(marks) << "\n";
    if (marks)
      for (const auto& t : *marks)
        out << "  " << text(t) << "\n";
    auto last = b.last_link_sequence(link);
    out << "last_link_sequence " << failed_or(last) << (last ? *last : 0) << "\n";
  }
  auto bodies = b.bodies();
  out << "bodies " << failed_or(bodies) << "\n";
  if (bodies)
    for (const auto& body : *bodies)
      out << "  " << text(body) << "\n";
  auto all = b.all_transfers();
  out << "all_transfers " << failed_or(all) << "\n";
  if (all)
    for (const auto& [link, t] : *all)
      out << "  " << shown(link) << " " << text(t) << "\n";
  auto scheduled = b.scheduled();
  out << "scheduled " << failed_or(scheduled) << "\n";
  if (scheduled)
    for (const auto& s : *scheduled)
      out << "  " << s.id << " " << s.destination << " " << s.next_ms << " " << s.period_ms << " "
          << s.repeats_left << " " << s.cron << " " << s.delivered << " "
          << std::hash<std::string>{}(s.payload) << "\n";
  return out.str();
}

std::string results_text(const std::vector<operation>& batch,
                         const std::vector<op_result>& results) {
  std::ostringstream out;
  out << results.size() << " results\n";
  for (size_t i = 0; i < results.size(); ++i) {
    const auto& r = results[i];
    out << i << ": op " << (i < batch.size() ? batch[i].index() : 99) << " " << error_text(r.error)
        << " dup=" << r.duplicate << " count=" << r.count << " dest=" << r.destination_id;
    if (i < batch.size()) {
      if (const auto* p = std::get_if<put_op>(&batch[i])) {
        out << " size=" << p->entry.size;
      } else if (const auto* shared = std::get_if<shared_put_op>(&batch[i])) {
        for (const auto& t : shared->targets)
          out << " size=" << t.entry.size;
      }
    }
    out << "\n";
  }
  return out.str();
}

// The first line where two texts differ, with its number, for the failure message.
std::string first_difference(const std::string& a, const std::string& b) {
  std::istringstream ia(a);
  std::istringstream ib(b);
  std::string la;
  std::string lb;
  for (int line = 1;; ++line) {
    bool more_a = static_cast<bool>(std::getline(ia, la));
    bool more_b = static_cast<bool>(std::getline(ib, lb));
    if (!more_a && !more_b)
      return {};
    if (!more_a || !more_b || la != lb)
      return "line " + std::to_string(line) + ": lmdb [" + (more_a ? la : "<end>") + "] memory [" +
             (more_b ? lb : "<end>") + "]";
  }
}

struct run_counts {
  uint64_t operations = 0;
  uint64_t batches = 0;
  uint64_t reopens = 0;
  uint64_t duplicates = 0;
  uint64_t errors = 0;
  uint64_t peak_stored = 0; // the most messages stored after a batch
  uint64_t shared_puts = 0; // shared puts that stored a body for two or more entries
  uint64_t moves = 0;       // moves that succeeded
  uint32_t peak_references = 0;
};

uint64_t stored_messages(const backend& b) {
  auto records = b.destinations();
  REQUIRE(records.ok());
  uint64_t stored = 0;
  for (const auto& record : *records) {
    auto entries = b.recover(record.id);
    REQUIRE(entries.ok());
    stored += entries->size();
  }
  return stored;
}

// With the journal, the tests' reads checkpoint on their own thread when they need to.
std::unique_ptr<backend> open_lmdb(const store_options& options) {
  auto s = open_store(options);
  s->set_checkpoint_requester([p = s.get()] { (void)p->checkpoint(); });
  return s;
}

run_counts run_seed(uint64_t seed, size_t batches, bool journal = false) {
  temp_dir dir;
  auto options = options_for(dir, journal);
  options.journal = journal;
  std::unique_ptr<backend> lmdb = open_lmdb(options);
  std::unique_ptr<backend> memory = std::make_unique<memory_backend>();
  generator gen(seed);
  std::mt19937_64 crash_rng(seed ^ 0x5eedull);
  run_counts counts;
  for (size_t n = 0; n < batches; ++n) {
    INFO("seed " << seed << " batch " << n);
    auto batch = gen.batch(*memory);
    auto lmdb_batch = batch;
    auto lmdb_results = lmdb->apply(lmdb_batch);
    auto memory_results = memory->apply(batch);
    std::string lmdb_text = results_text(lmdb_batch, lmdb_results);
    std::string memory_text = results_text(batch, memory_results);
    INFO(first_difference(lmdb_text, memory_text));
    REQUIRE(lmdb_text == memory_text);
    for (size_t i = 0; i < batch.size(); ++i) {
      const auto& r = memory_results[i];
      if (r.error || r.duplicate)
        continue;
      if (const auto* shared = std::get_if<shared_put_op>(&batch[i]))
        counts.shared_puts += shared->targets.size() >= 2 ? 1 : 0;
      counts.moves += std::holds_alternative<move_op>(batch[i]) ? 1 : 0;
    }
    for (const auto& r : memory_results) {
      counts.duplicates += r.duplicate;
      counts.errors += r.error ? 1 : 0;
      REQUIRE(r.error != store_errc::store_full);
    }
    counts.operations += batch.size();
    ++counts.batches;

    if (std::uniform_int_distribution<int>(0, 7)(crash_rng) == 0) {
      // A crash: the store object is gone without anything else; the folder is opened again.
      // (With the journal, the batches since the last checkpoint are replayed.)
      // The memory backend is handed over unchanged to a new owner.
      lmdb.reset();
      lmdb = open_lmdb(options);
      std::unique_ptr<backend> owner = std::move(memory);
      memory = std::move(owner);
      ++counts.reopens;
    }

    std::string lmdb_state = observe(*lmdb);
    std::string memory_state = observe(*memory);
    INFO(first_difference(lmdb_state, memory_state));
    REQUIRE(lmdb_state == memory_state);
    counts.peak_stored = std::max(counts.peak_stored, stored_messages(*memory));
    auto bodies = memory->bodies();
    REQUIRE(bodies.ok());
    for (const auto& body : *bodies)
      counts.peak_references = std::max(counts.peak_references, body.references);
  }
  return counts;
}

} // namespace

TEST_CASE("LMDB and memory backends agree on random batches, across reopens",
          "[storage][backend]") {
  const uint64_t seed = GENERATE(1ull, 2ull, 3ull, 42ull, 20261206ull);
  auto counts = run_seed(seed, 400);
  // The sequences must reach what they are meant to test, or agreement proves little.
  CHECK(counts.operations > 6000);
  CHECK(counts.reopens > 20);
  CHECK(counts.duplicates > 40);
  CHECK(counts.errors > 100);
  CHECK(counts.peak_stored > 100);
  CHECK(counts.shared_puts > 100);
  CHECK(counts.moves > 100);
  CHECK(counts.peak_references >= 3);
  WARN("seed " << seed << ": " << counts.operations << " operations in " << counts.batches
               << " batches, " << counts.reopens << " reopens, " << counts.duplicates
               << " duplicates, " << counts.errors << " failed operations, " << counts.peak_stored
               << " messages stored at most, " << counts.shared_puts << " shared puts, "
               << counts.moves << " moves, " << counts.peak_references
               << " references to one body at most");
}

TEST_CASE("LMDB with its journal and the memory backend agree, across crashes that replay it",
          "[storage][backend][journal]") {
  const uint64_t seed = GENERATE(7ull, 20261207ull);
  auto counts = run_seed(seed, 300, true);
  CHECK(counts.operations > 4000);
  CHECK(counts.reopens > 15);
  CHECK(counts.shared_puts > 50);
  CHECK(counts.moves > 50);
}

TEST_CASE("The memory backend refuses what LMDB refuses and never reuses ids",
          "[storage][backend]") {
  memory_backend mem("fixed-id");
  CHECK(mem.info().store_id == "fixed-id");
  std::vector<operation> batch{create_destination_op{"queue://a"}, create_destination_op{""},
                               create_destination_op{std::string(512, 'x')}};
  auto r = mem.apply(batch);
  REQUIRE(r.size() == 3);
  CHECK(r[0].destination_id == 1);
  CHECK(r[1].error == store_errc::io_error);
  CHECK(r[2].error == store_errc::io_error);
  std::vector<operation> remove{remove_destination_op{1}, create_destination_op{"queue://a"}};
  r = mem.apply(remove);
  CHECK_FALSE(r[0].error);
  CHECK(r[1].destination_id == 2);
  // The audit's exact window: 1024 below the highest is a resend, 1023 below is stored.
  std::vector<operation> puts{make_put(2, 1, "a", "p", 2000), make_put(2, 2, "b", "p", 976),
                              make_put(2, 3, "c", "p", 977), make_put(2, 4, "d", "p", 977)};
  r = mem.apply(puts);
  CHECK_FALSE(r[0].duplicate);
  CHECK(r[1].duplicate);
  CHECK_FALSE(r[2].duplicate);
  CHECK(r[3].duplicate);
  CHECK(mem.stats().commits == 3);
  CHECK(mem.stats().used_bytes == 0);
}

} // namespace actormq::storage::test
