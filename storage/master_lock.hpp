// The master lock: an exclusive flock on <data-dir>/master.lock, held for the life of the
// process. The file is never unlinked or replaced; the holder writes "name pid\n" through the
// locked descriptor. Plain C++ (no CAF).
#pragma once

#include "common/result.hpp"
#include "storage/store.hpp"

#include <filesystem>
#include <functional>
#include <string>

namespace actormq::storage {

struct lock_holder_info {
  std::string node_name; // empty if the file is empty or unreadable
  long pid = 0;
};

class master_lock {
public:
  // Takes the lock without waiting. Creates the data folder and the file if needed.
  // Errors: lock_held (message names the holder: "held by node b (pid 123)"), io_error.
  static result<master_lock> try_acquire(const std::filesystem::path& data_dir,
                                         const std::string& node_name);

  // Takes the lock, waiting for it (blocking flock: the kernel wakes the caller the instant
  // the holder dies). Calls on_wait once, with the current holder, before it blocks.
  // Run it on a thread of its own. Errors: io_error.
  static result<master_lock> acquire(const std::filesystem::path& data_dir,
                                     const std::string& node_name,
                                     const std::function<void(const lock_holder_info&)>& on_wait);

  // The lock file of a data folder: <data_dir>/master.lock.
  static std::filesystem::path path(const std::filesystem::path& data_dir);

  // Reads who holds (or last held) the lock from the file's contents, without locking.
  static lock_holder_info read_holder(const std::filesystem::path& data_dir);

  master_lock(master_lock&& other) noexcept;
  master_lock& operator=(master_lock&& other) noexcept;
  master_lock(const master_lock&) = delete;
  master_lock& operator=(const master_lock&) = delete;
  // Releases the lock (closes the descriptor).
  ~master_lock();

  bool held() const noexcept { return fd_ >= 0; }

private:
  explicit master_lock(int fd) : fd_(fd) {}
  int fd_ = -1;
};

} // namespace actormq::storage
