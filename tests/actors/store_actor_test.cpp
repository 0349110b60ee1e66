// The store actor answers a write only once its commit is durable: after a later commit that
// flushed, or after a flush of its own. Deletes alone are answered when their commit returns.
// A backend that records every commit and flush, around the in-memory backend, shows the order.
#include "actors/store_actor.hpp"
#include "storage/memory_backend.hpp"

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/scoped_actor.hpp>
#include <catch2/catch.hpp>

#include <chrono>
#include <future>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

using namespace actormq;
using namespace actormq::actors;

namespace {

// Commit n is durable once a later apply() flushed or flush() ran.
class recording_backend final : public storage::backend {
public:
  std::vector<storage::op_result> apply(std::vector<storage::operation>& batch) override {
    if (gate_) {
      auto gate = std::move(gate_);
      gate->entered.set_value();
      gate->release.wait();
    }
    auto results = inner_.apply(batch);
    std::lock_guard<std::mutex> lock(mutex_);
    ++commits_;
    if (commits_writing_ > 0) {
      --commits_writing_;
      flushed_ = false; // this commit changed nothing: it flushed nothing either
    } else {
      flushed_ = true;
      durable_ = commits_ - 1;
    }
    return results;
  }
  bool last_apply_flushed() const override {
    std::lock_guard<std::mutex> lock(mutex_);
    return flushed_;
  }
  result<void> flush() override {
    std::lock_guard<std::mutex> lock(mutex_);
    ++flushes_;
    durable_ = commits_;
    return {};
  }
  // The next apply() says it has begun, then waits for `release` (set from the test's thread
  // before the store actor can apply anything).
  struct gate {
    std::promise<void> entered;
    std::shared_future<void> release;
  };
  void hold_next_apply(std::unique_ptr<gate> g) { gate_ = std::move(g); }

  // The next `n` commits write nothing (LMDB skips the flush of such a commit).
  void next_commits_write_nothing(int n) {
    std::lock_guard<std::mutex> lock(mutex_);
    commits_writing_ = n;
  }
  uint64_t commits() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return commits_;
  }
  uint64_t durable() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return durable_;
  }
  uint64_t flushes() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return flushes_;
  }

  const storage::store_info& info() const override { return inner_.info(); }
  result<std::vector<storage::destination_record>> destinations() const override {
    return inner_.destinations();
  }
  result<std::vector<storage::index_entry>> recover(uint32_t id) const override {
    return inner_.recover(id);
  }
  result<uint64_t> last_sequence(uint32_t id) const override { return inner_.last_sequence(id); }
  result<storage::index_entry> read_entry(uint32_t id, uint64_t seq) const override {
    return inner_.read_entry(id, seq);
  }
  result<std::string> read_payload(uint32_t id, uint64_t seq) const override {
    return inner_.read_payload(id, seq);
  }
  result<storage::body_record> read_body(uint32_t id, uint64_t seq) const override {
    return inner_.read_body(id, seq);
  }
  result<std::vector<storage::body_record>> bodies() const override { return inner_.bodies(); }
  result<std::vector<storage::transfer_record>> transfers(const std::string& link) const override {
    return inner_.transfers(link);
  }
  result<std::vector<std::pair<std::string, storage::transfer_record>>>
  all_transfers() const override {
    return inner_.all_transfers();
  }
  result<uint64_t> last_link_sequence(const std::string& link) const override {
    return inner_.last_link_sequence(link);
  }
  int clear_stale_readers() override { return 0; }
  storage::store_stats stats() const override { return inner_.stats(); }

private:
  storage::memory_backend inner_;
  mutable std::mutex mutex_;
  uint64_t commits_ = 0;
  uint64_t durable_ = 0; // commits 1..durable_ survive a power cut
  uint64_t flushes_ = 0;
  int commits_writing_ = 0;
  bool flushed_ = false;
  std::unique_ptr<gate> gate_;
};

struct fixture {
  std::shared_ptr<recording_backend> db = std::make_shared<recording_backend>();
  caf::actor_system_config cfg;
  caf::actor_system sys{cfg};
  store_actor store;
  uint32_t destination = 0;

  fixture() {
    std::vector<storage::operation> create{storage::create_destination_op{"queue://t"}};
    destination = db->apply(create).front().destination_id;
    REQUIRE(db->flush().ok());
    store = sys.spawn<caf::detached>(store_behavior, std::static_pointer_cast<storage::backend>(db),
                                     size_t{1024}, std::chrono::milliseconds(0));
  }
  ~fixture() { caf::anon_send(store, stop_atom::value); }

  op_list put(uint64_t sequence) const {
    storage::put_op p;
    p.destination_id = destination;
    p.entry.sequence = sequence;
    p.payload = "m" + std::to_string(sequence);
    op_list ops;
    ops.emplace_back(std::move(p));
    return ops;
  }
};

} // namespace

TEST_CASE("the store actor answers a put once a flush has covered its commit") {
  fixture f;
  caf::scoped_actor self{f.sys};
  for (uint64_t i = 1; i <= 20; ++i) {
    self->request(f.store, std::chrono::seconds(10), write_atom::value, f.put(i))
        .receive(
            [&](op_result_list& results) {
              REQUIRE(results.size() == 1);
              CHECK_FALSE(results.front().error);
              // Every commit so far, this put's included, survives a power cut.
              CHECK(f.db->durable() == f.db->commits());
            },
            [](caf::error& err) { FAIL(caf::to_string(err)); });
  }
  // A lone writer: each commit needed a flush of its own.
  CHECK(f.db->flushes() >= 20);
}

TEST_CASE("writes that wait behind a commit make it durable: one flush for both commits") {
  fixture f;
  caf::scoped_actor self{f.sys};
  std::promise<void> release;
  auto g = std::make_unique<recording_backend::gate>();
  g->release = release.get_future().share();
  auto entered = g->entered.get_future();
  f.db->hold_next_apply(std::move(g));
  auto commits_before = f.db->commits();
  auto flushes_before = f.db->flushes();
  self->send(f.store, write_atom::value, f.put(1));
  REQUIRE(entered.wait_for(std::chrono::seconds(10)) == std::future_status::ready);
  constexpr uint64_t n = 200;
  for (uint64_t i = 2; i <= n; ++i) // they wait in the mailbox while the first commit runs
    self->send(f.store, write_atom::value, f.put(i));
  release.set_value();
  for (uint64_t i = 1; i <= n; ++i)
    self->receive(
        [&](op_result_list& results) {
          REQUIRE(results.size() == 1);
          CHECK_FALSE(results.front().error);
          CHECK(f.db->durable() >= commits_before + (i == 1 ? 1 : 2));
        },
        caf::after(std::chrono::seconds(10)) >> [] { FAIL("an answer is missing"); });
  // The second commit flushed the first; only the second needed a flush of its own.
  CHECK(f.db->commits() - commits_before == 2);
  CHECK(f.db->flushes() - flushes_before == 1);
}

TEST_CASE("a commit that wrote nothing does not make the one before durable") {
  fixture f;
  caf::scoped_actor self{f.sys};
  f.db->next_commits_write_nothing(1000);
  self->request(f.store, std::chrono::seconds(10), write_atom::value, f.put(1))
      .receive([&](op_result_list&) { CHECK(f.db->durable() == f.db->commits()); },
               [](caf::error& err) { FAIL(caf::to_string(err)); });
}

TEST_CASE("acknowledgements are answered when their commit returns, without a flush") {
  fixture f;
  caf::scoped_actor self{f.sys};
  self->request(f.store, std::chrono::seconds(10), write_atom::value, f.put(1))
      .receive([](op_result_list&) {}, [](caf::error& err) { FAIL(caf::to_string(err)); });
  auto flushes = f.db->flushes();
  op_list del;
  del.emplace_back(storage::delete_op{f.destination, 1});
  self->request(f.store, std::chrono::seconds(10), write_atom::value, std::move(del))
      .receive(
          [&](op_result_list& results) {
            REQUIRE(results.size() == 1);
            CHECK_FALSE(results.front().error);
            CHECK(f.db->flushes() == flushes);
          },
          [](caf::error& err) { FAIL(caf::to_string(err)); });
}
