// The journal file: its header, appends, flushes and the replay scan (journal.hpp).
#include "storage/journal.hpp"

#include "storage/encoding.hpp"
#include "storage/store.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <vector>

namespace actormq::storage::detail {
namespace {

constexpr char magic[8] = {'A', 'C', 'T', 'O', 'R', 'M', 'Q', 'J'};
constexpr uint32_t format_version = 1;
// The file grows by this much at a time, flushed once, so that record flushes write data only.
constexpr uint64_t growth_step = 4ull << 20;

failure io_failure(const std::string& what, const std::string& path, int err) {
  return failure{store_errc::io_error, what + " " + path + ": " + std::strerror(err)};
}

uint32_t record_crc(uint64_t number, uint8_t flags, std::string_view payload) {
  std::string head;
  append_le(head, number, 8);
  head.push_back(static_cast<char>(flags));
  uLong crc = crc32(0L, Z_NULL, 0);
  crc = crc32(crc, reinterpret_cast<const Bytef*>(head.data()), static_cast<uInt>(head.size()));
  // crc32 takes at most 4 GiB at a time; payloads are far smaller (the frame limit).
  crc =
      crc32(crc, reinterpret_cast<const Bytef*>(payload.data()), static_cast<uInt>(payload.size()));
  return static_cast<uint32_t>(crc);
}

std::string make_header(const std::string& store_id) {
  std::string h(magic, sizeof magic);
  append_le(h, format_version, 4);
  h += store_id.substr(0, journal::header_size - h.size());
  h.resize(journal::header_size, '\0');
  return h;
}

bool read_all(int fd, uint64_t offset, char* out, size_t size) {
  while (size > 0) {
    ssize_t n = ::pread(fd, out, size, static_cast<off_t>(offset));
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0)
      return false;
    out += n;
    offset += static_cast<uint64_t>(n);
    size -= static_cast<size_t>(n);
  }
  return true;
}

bool write_all(int fd, uint64_t offset, const char* data, size_t size) {
  while (size > 0) {
    ssize_t n = ::pwrite(fd, data, size, static_cast<off_t>(offset));
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0)
      return false;
    data += n;
    offset += static_cast<uint64_t>(n);
    size -= static_cast<size_t>(n);
  }
  return true;
}

} // namespace

journal::journal(int fd, std::string path, uint64_t capacity, uint64_t prepared)
    : fd_(fd), path_(std::move(path)), capacity_(capacity), prepared_(prepared) {}

journal::~journal() {
  ::close(fd_);
}

result<std::unique_ptr<journal>> journal::open(const std::filesystem::path& path,
                                               const std::string& store_id, uint64_t capacity,
                                               bool discard_foreign) {
  capacity = std::max<uint64_t>(capacity, header_size + record_overhead + 4096);
  int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0)
    return io_failure("open", path.string(), errno);
  struct stat st;
  if (::fstat(fd, &st) != 0) {
    int err = errno;
    ::close(fd);
    return io_failure("fstat", path.string(), err);
  }
  std::string expected = make_header(store_id);
  uint64_t size = static_cast<uint64_t>(st.st_size);
  bool fresh = size < header_size;
  if (!fresh) {
    std::string found(header_size, '\0');
    if (!read_all(fd, 0, found.data(), found.size())) {
      int err = errno;
      ::close(fd);
      return io_failure("read", path.string(), err);
    }
    if (found != expected) {
      if (!discard_foreign) {
        ::close(fd);
        return failure{store_errc::corrupt,
                       "journal " + path.string() +
                           " does not belong to this store (another store id or format): move "
                           "it away only if that store's recent messages may be lost"};
      }
      fresh = true;
    }
  }
  if (fresh) {
    if (::ftruncate(fd, 0) != 0 || !write_all(fd, 0, expected.data(), expected.size()) ||
        ::fdatasync(fd) != 0) {
      int err = errno;
      ::close(fd);
      return io_failure("write", path.string(), err);
    }
    size = header_size;
  }
  return std::unique_ptr<journal>(new journal(fd, path.string(), capacity, size));
}

result<uint64_t> journal::replay(uint64_t applied, const record_handler& handle, uint64_t limit) {
  uint64_t offset = header_size;
  uint64_t last = applied;
  std::string payload;
  while (last < limit && offset + record_overhead <= prepared_) {
    char head[record_overhead];
    if (!read_all(fd_, offset, head, sizeof head))
      break;
    std::string_view h(head, sizeof head);
    auto size = read_le(h, 0, 4);
    auto crc = static_cast<uint32_t>(read_le(h, 4, 4));
    auto number = read_le(h, 8, 8);
    auto flags = static_cast<uint8_t>(head[16]);
    if (number != last + 1 || offset + record_overhead + size > prepared_)
      break;
    payload.resize(size);
    if (!read_all(fd_, offset + record_overhead, payload.data(), size))
      break;
    if (record_crc(number, flags, payload) != crc)
      break;
    if (auto handled = handle(number, flags, payload); !handled)
      return handled.error();
    last = number;
    offset += record_overhead + size;
  }
  return last;
}

bool journal::fits(size_t payload_size) const noexcept {
  return end_ + record_overhead + payload_size <= capacity_;
}

result<void> journal::prepare(uint64_t end) {
  if (end <= prepared_)
    return {};
  uint64_t target = std::min(capacity_, std::max(end, prepared_ + growth_step));
  std::vector<char> zeros(1 << 20, '\0');
  for (uint64_t at = prepared_; at < target;) {
    size_t n = static_cast<size_t>(std::min<uint64_t>(zeros.size(), target - at));
    if (!write_all(fd_, at, zeros.data(), n))
      return io_failure("extend", path_, errno);
    at += n;
  }
  if (::fdatasync(fd_) != 0)
    return io_failure("fdatasync", path_, errno);
  prepared_ = target;
  return {};
}

result<void> journal::append(uint64_t number, uint8_t flags, std::string_view payload) {
  uint64_t end = end_ + record_overhead + payload.size();
  if (end > capacity_)
    return failure{store_errc::io_error, "journal " + path_ + " is full"};
  if (auto prepared = prepare(end); !prepared)
    return prepared;
  std::string head;
  head.reserve(record_overhead);
  append_le(head, payload.size(), 4);
  append_le(head, record_crc(number, flags, payload), 4);
  append_le(head, number, 8);
  head.push_back(static_cast<char>(flags));
  iovec parts[2] = {{head.data(), head.size()},
                    {const_cast<char*>(payload.data()), payload.size()}};
  size_t total = head.size() + payload.size();
  ssize_t n;
  do {
    n = ::pwritev(fd_, parts, 2, static_cast<off_t>(end_));
  } while (n < 0 && errno == EINTR);
  if (n < 0)
    return io_failure("write", path_, errno);
  if (static_cast<size_t>(n) != total) {
    // A short write: the rest goes the slow way.
    std::string whole = head;
    whole.append(payload);
    if (!write_all(fd_, end_ + static_cast<uint64_t>(n), whole.data() + n, total - n))
      return io_failure("write", path_, errno);
  }
  end_ = end;
  return {};
}

result<void> journal::flush() {
  if (::fdatasync(fd_) != 0)
    return io_failure("fdatasync", path_, errno);
  return {};
}

} // namespace actormq::storage::detail
