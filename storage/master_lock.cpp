// The master lock: flock on <data-dir>/master.lock (see docs/storage.md).
#include "storage/master_lock.hpp"

#include <chrono>
#include <thread>

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>

namespace actormq::storage {
namespace {

failure io_failure(const std::string& what, int err) {
  return failure{store_errc::io_error, what + ": " + std::strerror(err)};
}

// Creates the data folder and opens (or creates) the lock file.
result<int> open_lock_file(const std::filesystem::path& data_dir) {
  std::error_code ec;
  std::filesystem::create_directories(data_dir, ec);
  if (ec)
    return failure{store_errc::io_error,
                   "create_directories " + data_dir.string() + ": " + ec.message()};
  auto path = master_lock::path(data_dir);
  int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0)
    return io_failure("open " + path.string(), errno);
  return fd;
}

std::string describe_holder(const std::filesystem::path& data_dir, const lock_holder_info& h) {
  std::string text = "data folder " + data_dir.string() + " is locked by node ";
  text += h.node_name.empty() ? std::string("(unknown)") : h.node_name;
  text += " (pid " + std::to_string(h.pid) + ")";
  return text;
}

// Records the holder through the locked descriptor; closes fd on failure.
result<void> write_holder(int fd, const std::filesystem::path& data_dir,
                          const std::string& node_name) {
  std::string line = node_name + " " + std::to_string(static_cast<long>(::getpid())) + "\n";
  auto path = master_lock::path(data_dir).string();
  size_t done = 0;
  while (done < line.size()) {
    ssize_t n = ::pwrite(fd, line.data() + done, line.size() - done, static_cast<off_t>(done));
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0) {
      int err = n < 0 ? errno : EIO;
      ::close(fd);
      return io_failure("pwrite " + path, err);
    }
    done += static_cast<size_t>(n);
  }
  // Written first, cut after: a reader never sees an empty file while the holder is known.
  if (::ftruncate(fd, static_cast<off_t>(line.size())) != 0) {
    int err = errno;
    ::close(fd);
    return io_failure("ftruncate " + path, err);
  }
  return {};
}

// flock with LOCK_NB: 0 on success, EWOULDBLOCK if held, another errno on failure.
int try_flock(int fd) {
  for (;;) {
    if (::flock(fd, LOCK_EX | LOCK_NB) == 0)
      return 0;
    if (errno != EINTR)
      return errno;
  }
}

} // namespace

// A holder that has just taken the lock writes its line a moment later: wait briefly for it
// rather than report an unknown holder.
static lock_holder_info settled_holder(const std::filesystem::path& data_dir) {
  auto holder = master_lock::read_holder(data_dir);
  for (int i = 0; i < 50 && holder.pid == 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
    holder = master_lock::read_holder(data_dir);
  }
  return holder;
}

result<master_lock> master_lock::try_acquire(const std::filesystem::path& data_dir,
                                             const std::string& node_name) {
  auto fd = open_lock_file(data_dir);
  if (!fd)
    return fd.error();
  int err = try_flock(*fd);
  if (err != 0) {
    ::close(*fd);
    if (err == EWOULDBLOCK)
      return failure{store_errc::lock_held, describe_holder(data_dir, settled_holder(data_dir))};
    return io_failure("flock " + master_lock::path(data_dir).string(), err);
  }
  if (auto written = write_holder(*fd, data_dir, node_name); !written)
    return written.error();
  return master_lock(*fd);
}

result<master_lock>
master_lock::acquire(const std::filesystem::path& data_dir, const std::string& node_name,
                     const std::function<void(const lock_holder_info&)>& on_wait) {
  auto fd = open_lock_file(data_dir);
  if (!fd)
    return fd.error();
  int err = try_flock(*fd);
  if (err == EWOULDBLOCK) {
    if (on_wait) {
      on_wait(settled_holder(data_dir));
    }
    while ((err = ::flock(*fd, LOCK_EX) == 0 ? 0 : errno) == EINTR) {
    }
  }
  if (err != 0) {
    ::close(*fd);
    return io_failure("flock " + master_lock::path(data_dir).string(), err);
  }
  if (auto written = write_holder(*fd, data_dir, node_name); !written)
    return written.error();
  return master_lock(*fd);
}

std::filesystem::path master_lock::path(const std::filesystem::path& data_dir) {
  return data_dir / "master.lock";
}

lock_holder_info master_lock::read_holder(const std::filesystem::path& data_dir) {
  lock_holder_info info;
  int fd = ::open(master_lock::path(data_dir).c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return info;
  std::string text;
  char buf[512];
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0 || text.size() > 4096)
      break;
    text.append(buf, static_cast<size_t>(n));
  }
  ::close(fd);
  // "<node_name> <pid>\n": the name may contain spaces, the pid is the last word.
  auto end = text.find('\n');
  if (end != std::string::npos)
    text.resize(end);
  auto space = text.rfind(' ');
  if (space == std::string::npos)
    return info;
  try {
    size_t used = 0;
    long pid = std::stol(text.substr(space + 1), &used);
    if (used != text.size() - space - 1)
      return info;
    info.pid = pid;
    info.node_name = text.substr(0, space);
  } catch (const std::exception&) {
    // not a holder line: report an unknown holder
  }
  return info;
}

master_lock::master_lock(master_lock&& other) noexcept : fd_(other.fd_) {
  other.fd_ = -1;
}

master_lock& master_lock::operator=(master_lock&& other) noexcept {
  if (this != &other) {
    if (fd_ >= 0)
      ::close(fd_);
    fd_ = other.fd_;
    other.fd_ = -1;
  }
  return *this;
}

master_lock::~master_lock() {
  if (fd_ >= 0)
    ::close(fd_);
}

} // namespace actormq::storage
