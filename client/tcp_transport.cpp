#include "client/error.hpp"
#include "client/transport.hpp"

#include <cerrno>
#include <cstring>

#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

namespace actormq::client {

namespace {

std::string errno_text(int err) {
  return std::strerror(err);
}

failure lost(std::string what) {
  return failure{make_error_code(client_errc::connection_lost), std::move(what)};
}

// Connects one address with a deadline. Returns the connected (blocking) socket or -1 and errno
// text in `why`.
int connect_one(const addrinfo* ai, std::chrono::milliseconds timeout, std::string& why) {
  int fd = ::socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
  if (fd < 0) {
    why = "socket: " + errno_text(errno);
    return -1;
  }
  int flags = ::fcntl(fd, F_GETFL, 0);
  ::fcntl(fd, F_SETFL, flags | O_NONBLOCK);
  int rc = ::connect(fd, ai->ai_addr, ai->ai_addrlen);
  if (rc != 0 && errno != EINPROGRESS) {
    why = errno_text(errno);
    ::close(fd);
    return -1;
  }
  if (rc != 0) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (true) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0) {
        why = "connect timed out after " + std::to_string(timeout.count()) + " ms";
        ::close(fd);
        return -1;
      }
      pollfd p{fd, POLLOUT, 0};
      int n = ::poll(&p, 1, static_cast<int>(left.count()));
      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0) {
        why = "poll: " + errno_text(errno);
        ::close(fd);
        return -1;
      }
      if (n == 0)
        continue;
      int err = 0;
      socklen_t len = sizeof(err);
      ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len);
      if (err != 0) {
        why = errno_text(err);
        ::close(fd);
        return -1;
      }
      break;
    }
  }
  ::fcntl(fd, F_SETFL, flags & ~O_NONBLOCK);
  int one = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  return fd;
}

} // namespace

tcp_transport::tcp_transport(protocol::tcp_uri uri, tcp_transport_options options)
    : uri_(std::move(uri)), options_(options) {}

tcp_transport::~tcp_transport() {
  close();
  if (reader_.joinable()) {
    if (reader_.get_id() == std::this_thread::get_id())
      reader_.detach();
    else
      reader_.join();
  }
  if (fd_ >= 0)
    ::close(fd_);
}

std::string tcp_transport::remote() const {
  return "tcp://" + uri_.host + ":" + std::to_string(uri_.port);
}

result<void> tcp_transport::start(transport_listener& listener) {
  if (fd_ >= 0 || closing_)
    return {make_error_code(client_errc::bad_argument),
            "transport to " + remote() + " was started already"};
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* list = nullptr;
  auto port = std::to_string(uri_.port);
  int rc = ::getaddrinfo(uri_.host.c_str(), port.c_str(), &hints, &list);
  if (rc != 0)
    return {make_error_code(client_errc::connection_failed),
            "cannot resolve " + uri_.host + ": " + ::gai_strerror(rc)};
  std::string why = "no address";
  int fd = -1;
  for (auto* ai = list; ai != nullptr && fd < 0; ai = ai->ai_next)
    fd = connect_one(ai, options_.connect_timeout, why);
  ::freeaddrinfo(list);
  if (fd < 0)
    return {make_error_code(client_errc::connection_failed),
            "cannot connect to " + remote() + ": " + why};
  fd_ = fd;
  listener_ = &listener;
  reader_ = std::thread([this] { read_loop(); });
  return {};
}

void tcp_transport::read_loop() {
  protocol::frame_decoder decoder(options_.max_frame_bytes);
  std::string buffer(64 * 1024, '\0');
  wire::Frame frame;
  failure why;
  while (true) {
    ssize_t n = ::recv(fd_, buffer.data(), buffer.size(), 0);
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0) {
      why = lost("connection to " + remote() + " failed: " + errno_text(errno));
      break;
    }
    if (n == 0) {
      why = lost("the broker at " + remote() + " closed the connection");
      break;
    }
    decoder.feed(buffer.data(), static_cast<size_t>(n));
    bool bad = false;
    while (true) {
      auto next = decoder.next(frame);
      if (!next) {
        why = failure{make_error_code(client_errc::protocol_error),
                      "undecodable data from " + remote() + ": " + next.message()};
        bad = true;
        break;
      }
      if (!*next)
        break;
      listener_->on_frame(frame);
    }
    if (bad) {
      ::shutdown(fd_, SHUT_RDWR);
      break;
    }
  }
  {
    std::lock_guard<std::mutex> guard(state_mutex_);
    if (aborted_)
      why = abort_reason_;
  }
  report_failure(std::move(why));
  {
    std::lock_guard<std::mutex> guard(state_mutex_);
    reader_done_ = true;
  }
  reader_cv_.notify_all();
}

void tcp_transport::report_failure(failure why) {
  {
    std::lock_guard<std::mutex> guard(state_mutex_);
    if (failed_ || closing_)
      return;
    failed_ = true;
  }
  listener_->on_failure(why);
}

result<void> tcp_transport::write_locked(const wire::Frame& frame) {
  if (closing_ || fd_ < 0)
    return {make_error_code(client_errc::closed), "the connection to " + remote() + " is closed"};
  write_buffer_.clear();
  if (auto encoded = protocol::encode_frame(frame, write_buffer_, options_.max_frame_bytes);
      !encoded)
    return {make_error_code(client_errc::bad_argument), std::string("cannot encode a ") +
                                                            protocol::command_name(frame) +
                                                            " frame: " + encoded.message()};
  const char* data = write_buffer_.data();
  size_t left = write_buffer_.size();
  while (left > 0) {
    ssize_t n = ::send(fd_, data, left, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0) {
      auto f = lost("write to " + remote() + " failed: " + errno_text(errno));
      abort(f);
      return f;
    }
    data += n;
    left -= static_cast<size_t>(n);
  }
  return {};
}

result<void> tcp_transport::send(const wire::Frame& frame) {
  std::lock_guard<std::mutex> guard(write_mutex_);
  return write_locked(frame);
}

result<bool> tcp_transport::try_send(const wire::Frame& frame) {
  std::unique_lock<std::mutex> guard(write_mutex_, std::try_to_lock);
  if (!guard.owns_lock())
    return false;
  if (auto r = write_locked(frame); !r)
    return r.error();
  return true;
}

void tcp_transport::abort(const failure& why) {
  std::lock_guard<std::mutex> guard(state_mutex_);
  if (aborted_ || fd_ < 0 || closing_)
    return;
  aborted_ = true;
  abort_reason_ = why;
  ::shutdown(fd_, SHUT_RDWR);
}

void tcp_transport::close() {
  if (closing_.exchange(true))
    return;
  if (fd_ < 0)
    return;
  bool on_reader = reader_.get_id() == std::this_thread::get_id();
  ::shutdown(fd_, SHUT_WR);
  if (!on_reader) {
    std::unique_lock<std::mutex> guard(state_mutex_);
    reader_cv_.wait_for(guard, options_.close_linger, [this] { return reader_done_; });
  }
  ::shutdown(fd_, SHUT_RDWR);
  if (on_reader)
    return; // the destructor closes the descriptor
  if (reader_.joinable())
    reader_.join();
  std::lock_guard<std::mutex> write_guard(write_mutex_);
  std::lock_guard<std::mutex> state_guard(state_mutex_);
  ::close(fd_);
  fd_ = -1;
}

} // namespace actormq::client
