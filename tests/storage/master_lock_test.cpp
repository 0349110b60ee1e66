// The master lock: flock semantics within a process and across processes.
#include "storage/master_lock.hpp"
#include "test_util.hpp"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <future>
#include <thread>

using namespace actormq::storage;
using namespace actormq::storage::test;
using namespace std::chrono_literals;

namespace {

std::string file_text(const std::filesystem::path& p) {
  std::ifstream in(p);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

} // namespace

TEST_CASE("the master lock is exclusive between descriptors of one process", "[lock]") {
  temp_dir dir;
  auto data = dir.path() / "data"; // created by try_acquire
  auto first = master_lock::try_acquire(data, "node-a");
  INFO(first.message());
  REQUIRE(first.ok());
  CHECK(first->held());
  auto lock_file = data / "master.lock";
  CHECK(file_text(lock_file) == "node-a " + std::to_string(::getpid()) + "\n");

  auto holder = master_lock::read_holder(data);
  CHECK(holder.node_name == "node-a");
  CHECK(holder.pid == ::getpid());

  // flock locks belong to the open file description: a second open() conflicts.
  auto second = master_lock::try_acquire(data, "node-b");
  REQUIRE_FALSE(second.ok());
  CHECK(second.code() == store_errc::lock_held);
  CHECK(second.message() == "data folder " + data.string() + " is locked by node node-a (pid " +
                                std::to_string(::getpid()) + ")");
  CHECK(file_text(lock_file) == "node-a " + std::to_string(::getpid()) + "\n");

  // Moving keeps the lock; destroying releases it, and the file stays.
  master_lock moved = std::move(*first);
  CHECK(moved.held());
  CHECK_FALSE(first->held());
  CHECK_FALSE(master_lock::try_acquire(data, "node-b").ok());
  moved = master_lock::try_acquire(dir.path() / "elsewhere", "x").value(); // releases data
  auto third = master_lock::try_acquire(data, "node b with spaces");
  REQUIRE(third.ok());
  CHECK(std::filesystem::exists(lock_file));
  holder = master_lock::read_holder(data);
  CHECK(holder.node_name == "node b with spaces");
  CHECK(holder.pid == ::getpid());
}

TEST_CASE("read_holder of a missing or foreign file names nobody", "[lock]") {
  temp_dir dir;
  auto h = master_lock::read_holder(dir.path());
  CHECK(h.node_name.empty());
  CHECK(h.pid == 0);
  std::ofstream(dir.path() / "master.lock") << "garbage";
  h = master_lock::read_holder(dir.path());
  CHECK(h.node_name.empty());
  CHECK(h.pid == 0);
}

TEST_CASE("acquire waits for a holder process and wakes when it dies", "[lock]") {
  temp_dir dir;
  auto data = dir.path();
  std::promise<lock_holder_info> waited_for;
  std::future<actormq::result<master_lock>> acquired; // joined after the child is killed
  int ready[2];
  REQUIRE(::pipe(ready) == 0);
  pid_t child = ::fork();
  REQUIRE(child >= 0);
  if (child == 0) {
    ::close(ready[0]);
    auto lock = master_lock::try_acquire(data, "standby-child");
    char c = lock.ok() ? 'y' : 'n';
    if (::write(ready[1], &c, 1) != 1)
      ::_exit(2);
    for (;;)
      ::pause(); // hold the lock until SIGKILL
  }
  child_process holder_process(child);
  ::close(ready[1]);
  char c = 0;
  REQUIRE(::read(ready[0], &c, 1) == 1);
  ::close(ready[0]);
  REQUIRE(c == 'y');

  auto attempt = master_lock::try_acquire(data, "parent");
  REQUIRE_FALSE(attempt.ok());
  CHECK(attempt.code() == store_errc::lock_held);
  CHECK(attempt.message().find("node standby-child (pid " + std::to_string(child) + ")") !=
        std::string::npos);

  auto waited = waited_for.get_future();
  acquired = std::async(std::launch::async, [&] {
    return master_lock::acquire(data, "parent",
                                [&](const lock_holder_info& h) { waited_for.set_value(h); });
  });
  REQUIRE(waited.wait_for(5s) == std::future_status::ready);
  auto holder = waited.get();
  CHECK(holder.node_name == "standby-child");
  CHECK(holder.pid == child);
  CHECK(acquired.wait_for(100ms) == std::future_status::timeout); // still blocked

  auto killed_at = std::chrono::steady_clock::now();
  REQUIRE(::kill(child, SIGKILL) == 0);
  auto ready_in_time = acquired.wait_for(1s);
  auto waited_ms =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - killed_at)
          .count();
  int status = holder_process.kill_and_wait(0);
  CHECK(WIFSIGNALED(status));
  REQUIRE(ready_in_time == std::future_status::ready);
  auto lock = acquired.get();
  INFO(lock.message());
  REQUIRE(lock.ok());
  CHECK(waited_ms < 1000);
  CHECK(master_lock::read_holder(data).node_name == "parent");
  CHECK(master_lock::read_holder(data).pid == ::getpid());
}

TEST_CASE("acquire takes a free lock without calling on_wait", "[lock]") {
  temp_dir dir;
  bool called = false;
  auto lock =
      master_lock::acquire(dir.path(), "solo", [&](const lock_holder_info&) { called = true; });
  REQUIRE(lock.ok());
  CHECK_FALSE(called);
  CHECK(master_lock::read_holder(dir.path()).node_name == "solo");
}
