// Helpers of the storage tests: temporary folders and short batch builders.
#pragma once

#include "storage/store.hpp"

#include <catch2/catch.hpp>

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

namespace actormq::storage::test {

// A folder under /tmp made by mkdtemp and removed with everything in it.
class temp_dir {
public:
  temp_dir() {
    std::string pattern = "/tmp/actormq-storage-XXXXXX";
    if (::mkdtemp(pattern.data()) == nullptr)
      throw std::runtime_error("mkdtemp failed");
    path_ = pattern;
  }
  ~temp_dir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  temp_dir(const temp_dir&) = delete;
  temp_dir& operator=(const temp_dir&) = delete;

  const std::filesystem::path& path() const { return path_; }
  std::filesystem::path store_dir() const { return path_ / "store"; }

private:
  std::filesystem::path path_;
};

// A forked child that is killed and reaped when the test leaves its scope (also on failure).
class child_process {
public:
  explicit child_process(pid_t pid) : pid_(pid) {}
  ~child_process() {
    if (pid_ > 0)
      kill_and_wait(SIGKILL);
  }
  child_process(const child_process&) = delete;
  child_process& operator=(const child_process&) = delete;

  pid_t pid() const { return pid_; }

  // Sends sig (0: none) and reaps the child; returns its wait status.
  int kill_and_wait(int sig) {
    int status = 0;
    if (pid_ <= 0)
      return status;
    if (sig != 0)
      ::kill(pid_, sig);
    while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
    }
    pid_ = -1;
    return status;
  }

private:
  pid_t pid_;
};

inline store_options options_for(const temp_dir& dir, bool sync = false) {
  store_options o;
  o.directory = dir.store_dir();
  o.max_size_bytes = 64ull << 20;
  o.sync = sync;
  return o;
}

inline std::unique_ptr<store> open_store(const store_options& o) {
  auto s = store::open(o);
  INFO(s.message());
  REQUIRE(s.ok());
  return std::move(*s);
}

inline put_op make_put(uint32_t dest, uint64_t seq, std::string payload, std::string producer = {},
                       uint64_t producer_seq = 0) {
  put_op p;
  p.destination_id = dest;
  p.entry.sequence = seq;
  p.payload = std::move(payload);
  p.producer_id = std::move(producer);
  p.producer_sequence = producer_seq;
  return p;
}

inline uint32_t create_destination(store& s, const std::string& name) {
  std::vector<operation> batch{create_destination_op{name}};
  auto r = s.apply(batch);
  REQUIRE(r.size() == 1);
  REQUIRE_FALSE(r[0].error);
  REQUIRE(r[0].destination_id != 0);
  return r[0].destination_id;
}

// Applies a batch and requires every operation to succeed.
inline std::vector<op_result> apply_ok(store& s, std::vector<operation> batch) {
  auto results = s.apply(batch);
  REQUIRE(results.size() == batch.size());
  for (const auto& r : results) {
    INFO(r.error.message());
    REQUIRE_FALSE(r.error);
  }
  return results;
}

// Puts `body` as messages 1, 2, ... of `dest`, one per commit, until the store is full; returns
// how many it stored. Requires the store to fill within `limit` messages.
inline uint64_t fill_until_full(store& s, uint32_t dest, const std::string& body, uint64_t limit) {
  for (uint64_t seq = 0;; ++seq) {
    REQUIRE(seq < limit);
    std::vector<operation> batch{make_put(dest, seq + 1, body)};
    auto error = s.apply(batch)[0].error;
    if (error) {
      CHECK(error == store_errc::store_full);
      return seq;
    }
  }
}

inline std::vector<uint64_t> sequences_of(store& s, uint32_t dest) {
  auto entries = s.recover(dest);
  REQUIRE(entries.ok());
  std::vector<uint64_t> out;
  for (const auto& e : *entries)
    out.push_back(e.sequence);
  return out;
}

} // namespace actormq::storage::test
