#include "actors/console_server.hpp"

#include <spdlog/spdlog.h>

#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstdlib>
#include <cstring>
#include <string>
#include <system_error>
#include <vector>

namespace actormq::actors {

namespace {

using clock_type = std::chrono::steady_clock;
using std::chrono::milliseconds;

// Extra threads, beyond the connection cap, that answer refused clients with 503.
constexpr size_t refusal_threads = 8;
// How long a client whose input was left unread (refused, cut off, answered before its body)
// may take to read the answer and close: closing with unread input would reset the connection,
// and a reset can destroy the answer before the client reads it.
constexpr milliseconds linger_time{500};
constexpr size_t read_buffer_bytes = 4096;
constexpr int listen_backlog = 1024; // the kernel caps it at net.core.somaxconn

// poll() for `events` until `until`: > 0 ready (or closed), 0 time is up, < 0 error.
int wait_for(socket_t sock, short events, clock_type::time_point until) {
  for (;;) {
    auto left = std::chrono::ceil<milliseconds>(until - clock_type::now()).count();
    pollfd p{sock, events, 0};
    int r = ::poll(&p, 1, static_cast<int>(std::clamp<int64_t>(left, 0, INT_MAX)));
    if (r < 0 && errno == EINTR)
      continue;
    return r;
  }
}

// Writes all of `data` by `until`; false if the peer does not take it in time.
bool write_all(socket_t sock, std::string_view data, clock_type::time_point until) {
  while (!data.empty()) {
    auto n = ::send(sock, data.data(), data.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n > 0) {
      data.remove_prefix(static_cast<size_t>(n));
      continue;
    }
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK) && wait_for(sock, POLLOUT, until) > 0)
      continue;
    return false;
  }
  return true;
}

// Ends our side, then reads (and drops) what the client still sends until it closes or `until`.
void linger(socket_t sock, clock_type::time_point until) {
  ::shutdown(sock, SHUT_WR);
  char drain[1024];
  while (wait_for(sock, POLLIN, until) > 0) {
    auto n = ::recv(sock, drain, sizeof drain, MSG_DONTWAIT);
    if (n == 0 || (n < 0 && errno != EINTR && errno != EAGAIN && errno != EWOULDBLOCK))
      break;
  }
}

std::string raw_json_answer(int status, std::string_view reason, std::string_view error,
                            std::string_view extra_headers) {
  std::string body =
      "{\"error\":\"" + std::string(error) + "\",\"status\":" + std::to_string(status) + "}";
  std::string out = "HTTP/1.1 " + std::to_string(status) + " " + std::string(reason) + "\r\n";
  out += "Content-Type: application/json; charset=utf-8\r\n";
  out += "Cache-Control: no-store\r\nX-Content-Type-Options: nosniff\r\n";
  out += extra_headers;
  out += "Connection: close\r\nContent-Length: " + std::to_string(body.size()) + "\r\n\r\n";
  return out + body;
}

void address_of(socket_t sock, bool peer, std::string& ip, int& port) {
  sockaddr_storage addr{};
  socklen_t len = sizeof addr;
  auto* sa = reinterpret_cast<sockaddr*>(&addr);
  if ((peer ? ::getpeername(sock, sa, &len) : ::getsockname(sock, sa, &len)) != 0)
    return;
  char host[NI_MAXHOST];
  char serv[NI_MAXSERV];
  if (::getnameinfo(sa, len, host, sizeof host, serv, sizeof serv,
                    NI_NUMERICHOST | NI_NUMERICSERV) != 0)
    return;
  ip = host;
  port = std::atoi(serv);
}

// A connection as httplib reads and writes it: every read of a request (head and body) ends
// at one deadline; every write has its own timeout. The read buffer lives as long as the
// connection, so bytes of a next request read along with this one are not lost.
class deadline_stream final : public httplib::Stream {
public:
  deadline_stream(socket_t sock, milliseconds write_timeout)
      : sock_(sock), write_timeout_(write_timeout), buffer_(read_buffer_bytes) {}

  // Waits until the next request begins (a byte, or the peer's close, is there) or `until`.
  bool wait_for_request(clock_type::time_point until) const {
    return begin_ < end_ || wait_for(sock_, POLLIN, until) > 0;
  }

  void begin_request(clock_type::time_point deadline) {
    deadline_ = deadline;
    timed_out_ = false;
    received_ = false;
    written_ = false;
  }
  bool timed_out() const { return timed_out_; }
  bool received() const { return received_; }
  bool written() const { return written_; }

  bool is_readable() const override {
    return begin_ < end_ || wait_for(sock_, POLLIN, deadline_) > 0;
  }

  bool is_writable() const override {
    return wait_for(sock_, POLLOUT, clock_type::now() + write_timeout_) > 0;
  }

  ssize_t read(char* ptr, size_t size) override {
    if (begin_ == end_) {
      begin_ = end_ = 0;
      for (;;) {
        auto n = ::recv(sock_, buffer_.data(), buffer_.size(), MSG_DONTWAIT);
        if (n > 0) {
          end_ = static_cast<size_t>(n);
          break;
        }
        if (n == 0)
          return 0; // the peer closed
        if (errno == EINTR)
          continue;
        if (errno != EAGAIN && errno != EWOULDBLOCK)
          return -1;
        if (wait_for(sock_, POLLIN, deadline_) <= 0) {
          timed_out_ = clock_type::now() >= deadline_;
          return -1;
        }
      }
    }
    size_t n = std::min(size, end_ - begin_);
    std::memcpy(ptr, buffer_.data() + begin_, n);
    begin_ += n;
    received_ = true;
    return static_cast<ssize_t>(n);
  }

  ssize_t write(const char* ptr, size_t size) override {
    auto until = clock_type::now() + write_timeout_;
    for (;;) {
      auto n = ::send(sock_, ptr, size, MSG_NOSIGNAL | MSG_DONTWAIT);
      if (n >= 0) {
        written_ = written_ || n > 0;
        return n;
      }
      if (errno == EINTR)
        continue;
      if ((errno != EAGAIN && errno != EWOULDBLOCK) || wait_for(sock_, POLLOUT, until) <= 0)
        return -1;
    }
  }

  void get_remote_ip_and_port(std::string& ip, int& port) const override {
    address_of(sock_, true, ip, port);
  }
  void get_local_ip_and_port(std::string& ip, int& port) const override {
    address_of(sock_, false, ip, port);
  }
  socket_t socket() const override { return sock_; }

private:
  socket_t sock_;
  milliseconds write_timeout_;
  clock_type::time_point deadline_ = clock_type::now();
  std::vector<char> buffer_;
  size_t begin_ = 0;
  size_t end_ = 0;
  bool timed_out_ = false;
  bool received_ = false;
  bool written_ = false;
};

// What a handler may tell the loop of the connection whose request it answers.
struct request_state {
  const deadline_stream* stream = nullptr;
  bool close_after_response = false;
};
thread_local request_state* current_request = nullptr;

// Whether the accept thread admitted the connection this thread is about to serve.
thread_local bool connection_admitted = false;

} // namespace

// ---- connection threads -----------------------------------------------------------------------

void console_server::connection_threads::run(std::function<void()> fn) {
  std::unique_lock<std::mutex> lock(mutex_);
  reap();
  changed_.wait(lock, [this] { return running_ < limit_ || halted_; });
  auto it = workers_.emplace(workers_.end());
  ++running_;
  try {
    it->thread = std::thread([this, it, fn] {
      fn();
      std::lock_guard<std::mutex> done(mutex_);
      it->done = true;
      --running_;
      changed_.notify_all();
    });
  } catch (const std::system_error& e) {
    // No thread to be had: serve this connection here (the accept loop waits meanwhile) rather
    // than drop its socket.
    workers_.erase(it);
    --running_;
    lock.unlock();
    spdlog::error("console: cannot start a connection thread ({}); serving it on the accept "
                  "thread",
                  e.what());
    fn();
  }
}

void console_server::connection_threads::reap() {
  for (auto it = workers_.begin(); it != workers_.end();) {
    if (it->done) {
      it->thread.join();
      it = workers_.erase(it);
    } else {
      ++it;
    }
  }
}

void console_server::connection_threads::join_all() {
  wake();
  // Only the accept thread (the caller) adds or removes workers, so the list is stable here.
  for (auto& w : workers_)
    if (w.thread.joinable())
      w.thread.join();
  std::lock_guard<std::mutex> lock(mutex_);
  workers_.clear();
}

void console_server::connection_threads::wake() {
  std::lock_guard<std::mutex> lock(mutex_);
  halted_ = true;
  changed_.notify_all();
}

// ---- the server -------------------------------------------------------------------------------

// httplib owns (and deletes) the task queue it asks for; the threads belong to the server.
class console_server::task_queue final : public httplib::TaskQueue {
public:
  explicit task_queue(console_server& server) : server_(server) {}
  void enqueue(std::function<void()> fn) override { server_.accept_connection(std::move(fn)); }
  void shutdown() override { server_.threads_.join_all(); }

private:
  console_server& server_;
};

console_server::console_server(console_connection_limits limits)
    : limits_(limits), threads_(limits.max_connections + refusal_threads) {
  new_task_queue = [this] { return new task_queue(*this); };
}

console_server::~console_server() {
  halt();
}

bool console_server::open(const std::string& host, int port) {
  if (!bind_to_port(host, port))
    return false;
  ::listen(svr_sock_, listen_backlog); // again: a listening socket takes the new backlog
  return true;
}

void console_server::halt() {
  halting_ = true;
  stop(); // closes the listening socket: the accept loop ends
  end_connections();
  threads_.wake();
}

void console_server::close_after_response() {
  if (current_request)
    current_request->close_after_response = true;
}

bool console_server::request_timed_out() {
  return current_request && current_request->stream && current_request->stream->timed_out();
}

void console_server::accept_connection(std::function<void()> process) {
  bool admitted = false;
  {
    std::lock_guard<std::mutex> lock(connections_mutex_);
    if (!halting_ && admitted_ < limits_.max_connections) {
      ++admitted_;
      admitted = true;
    }
  }
  threads_.run([admitted, process = std::move(process)] {
    connection_admitted = admitted;
    process(); // process_and_close_socket
  });
}

bool console_server::process_and_close_socket(socket_t sock) {
  if (connection_admitted) {
    if (track(sock) && serve(sock) && !halting_)
      linger(sock, clock_type::now() + linger_time);
    release(sock);
  } else if (!halting_) {
    refuse(sock);
  }
  ::shutdown(sock, SHUT_RDWR);
  ::close(sock);
  return true;
}

bool console_server::track(socket_t sock) {
  std::lock_guard<std::mutex> lock(connections_mutex_);
  if (halting_)
    return false;
  connections_.insert(sock);
  return true;
}

void console_server::release(socket_t sock) {
  // Before the socket is closed: halt() shuts down only sockets still open (never a reused
  // descriptor number).
  std::lock_guard<std::mutex> lock(connections_mutex_);
  connections_.erase(sock);
  --admitted_;
}

void console_server::end_connections() {
  std::lock_guard<std::mutex> lock(connections_mutex_);
  for (auto sock : connections_)
    ::shutdown(sock, SHUT_RDWR); // wakes its thread, which then closes it
}

bool console_server::serve(socket_t sock) {
  deadline_stream stream(sock, limits_.write_timeout);
  // The first request must arrive within the request timeout of the connection's opening;
  // later ones within the keep-alive timeout of the previous answer.
  auto first_deadline = clock_type::now() + limits_.request_timeout;
  for (size_t n = 0; n < limits_.max_requests_per_connection && !halting_; ++n) {
    if (!stream.wait_for_request(n == 0 ? first_deadline
                                        : clock_type::now() + limits_.keep_alive_timeout))
      return false; // idle: close without an answer, as for any ended keep-alive connection
    stream.begin_request(n == 0 ? first_deadline : clock_type::now() + limits_.request_timeout);
    request_state state;
    state.stream = &stream;
    current_request = &state;
    bool closed_by_client = false;
    bool last = n + 1 == limits_.max_requests_per_connection;
    bool ok = process_request(stream, last, closed_by_client, nullptr);
    current_request = nullptr;
    if (stream.timed_out()) {
      // httplib answers a half-read head or body (the console's error handler makes it 408);
      // a request line cut short gets no answer from it.
      if (stream.received() && !stream.written())
        write_all(sock,
                  raw_json_answer(408, "Request Timeout",
                                  "the request did not arrive complete within " +
                                      std::to_string(limits_.request_timeout.count()) + " ms",
                                  ""),
                  clock_type::now() + limits_.write_timeout);
      return true;
    }
    if (state.close_after_response)
      return true;
    if (!ok || closed_by_client)
      return false;
  }
  return false;
}

void console_server::refuse(socket_t sock) {
  auto count = ++refused_;
  auto now_ms = std::chrono::duration_cast<milliseconds>(clock_type::now().time_since_epoch());
  auto last = last_refusal_log_ms_.load();
  if (now_ms.count() - last >= 10000 &&
      last_refusal_log_ms_.compare_exchange_strong(last, now_ms.count()))
    spdlog::warn("console: {} open connections, the limit (limits.console_max_connections): "
                 "refusing more with 503 ({} refused since the start)",
                 limits_.max_connections, count);
  static const std::string answer = raw_json_answer(
      503, "Service Unavailable", "the console has too many open connections; try again shortly",
      "Retry-After: 1\r\n");
  auto until = clock_type::now() + linger_time;
  if (write_all(sock, answer, until))
    linger(sock, until);
}

} // namespace actormq::actors
