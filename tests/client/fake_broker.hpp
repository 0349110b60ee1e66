// A scripted stand-in for a node: one thread with a listening socket on 127.0.0.1 (port 0) that
// speaks the frame codec, answers the usual requests and records every frame it receives.
// Connections are served one after the other. Every wait is bounded.
#pragma once

#include "protocol/actormq.pb.h"
#include "protocol/frame_codec.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace actormq::testing {

using namespace std::chrono_literals;

class fake_broker {
public:
  // Called for each received frame before the default answers; return true to skip them.
  using hook = std::function<bool(fake_broker&, const wire::Frame&)>;

  fake_broker() {
    listen_fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    int one = 1;
    ::setsockopt(listen_fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = 0;
    ::bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
    ::listen(listen_fd_, 8);
    socklen_t len = sizeof(addr);
    ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
    thread_ = std::thread([this] { serve(); });
  }

  ~fake_broker() {
    stopping_ = true;
    ::shutdown(listen_fd_, SHUT_RDWR);
    drop();
    thread_.join();
    ::close(listen_fd_);
  }

  fake_broker(const fake_broker&) = delete;
  fake_broker& operator=(const fake_broker&) = delete;

  std::string url() const { return "tcp://127.0.0.1:" + std::to_string(port_); }
  uint16_t port() const { return port_; }

  // Script.
  void set_hook(hook h) {
    std::lock_guard<std::mutex> guard(mutex_);
    hook_ = std::move(h);
  }
  std::atomic<bool> answer_sends{true};           // Receipt every Send that has a correlation id
  std::atomic<uint32_t> node_heartbeat_ms{0};     // Connected.heartbeat_ms
  std::atomic<uint32_t> inactivity_timeout_ms{0}; // Connected.inactivity_timeout_ms

  // Sends a frame to the current connection.
  void send(const wire::Frame& frame) {
    std::string bytes;
    (void)protocol::encode_frame(frame, bytes);
    std::lock_guard<std::mutex> guard(write_mutex_);
    if (conn_fd_ >= 0)
      (void)::send(conn_fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
  }
  // Sends bytes as they are (to break the framing).
  void send_raw(const std::string& bytes) {
    std::lock_guard<std::mutex> guard(write_mutex_);
    if (conn_fd_ >= 0)
      (void)::send(conn_fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
  }
  void receipt(uint64_t correlation_id, uint64_t count = 0, uint64_t duplicates = 0) {
    wire::Frame f;
    f.set_correlation_id(correlation_id);
    f.mutable_receipt()->set_count(count);
    f.mutable_receipt()->set_duplicates(duplicates);
    send(f);
  }
  void error(uint64_t correlation_id, wire::ErrorCode code, const std::string& text) {
    wire::Frame f;
    f.set_correlation_id(correlation_id);
    f.mutable_error()->set_code(code);
    f.mutable_error()->set_message(text);
    send(f);
  }
  void dispatch(uint64_t consumer_id, uint64_t key, const std::string& body,
                bool redelivered = false) {
    wire::Frame f;
    auto* d = f.mutable_dispatch();
    d->set_consumer_id(consumer_id);
    d->set_delivery_key(key);
    d->set_redelivered(redelivered);
    d->set_delivery_count(redelivered ? 2 : 1);
    d->mutable_message()->set_destination("queue://TEST");
    d->mutable_message()->set_body(body);
    d->mutable_message()->set_persistent(true);
    send(f);
  }

  // Closes the current connection abruptly.
  void drop() {
    std::lock_guard<std::mutex> guard(write_mutex_);
    if (conn_fd_ >= 0)
      ::shutdown(conn_fd_, SHUT_RDWR);
  }

  std::vector<wire::Frame> frames() const {
    std::lock_guard<std::mutex> guard(mutex_);
    return frames_;
  }
  // Frames of one command, in arrival order.
  std::vector<wire::Frame> frames(wire::Frame::CommandCase command) const {
    std::vector<wire::Frame> out;
    for (auto& f : frames())
      if (f.command_case() == command)
        out.push_back(f);
    return out;
  }
  // Waits (bounded) until `pred` holds for the frames received so far. `pred` runs under the
  // broker's lock: it must not call frames().
  bool wait_until(const std::function<bool(const std::vector<wire::Frame>&)>& pred,
                  std::chrono::milliseconds timeout = 5s) {
    std::unique_lock<std::mutex> guard(mutex_);
    return cv_.wait_for(guard, timeout, [&] { return pred(frames_); });
  }
  bool wait_count(wire::Frame::CommandCase command, size_t n,
                  std::chrono::milliseconds timeout = 5s) {
    return wait_until(
        [&](const std::vector<wire::Frame>& fs) {
          size_t count = 0;
          for (auto& f : fs)
            count += f.command_case() == command ? 1 : 0;
          return count >= n;
        },
        timeout);
  }
  size_t connections() const { return connections_; }

private:
  void serve() {
    while (!stopping_) {
      int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
      if (fd < 0)
        return;
      {
        std::lock_guard<std::mutex> guard(write_mutex_);
        conn_fd_ = fd;
      }
      ++connections_;
      read_loop(fd);
      {
        std::lock_guard<std::mutex> guard(write_mutex_);
        conn_fd_ = -1;
      }
      ::close(fd);
    }
  }

  void read_loop(int fd) {
    protocol::frame_decoder decoder;
    char buffer[16384];
    wire::Frame frame;
    while (true) {
      auto n = ::recv(fd, buffer, sizeof(buffer), 0);
      if (n <= 0)
        return;
      decoder.feed(buffer, static_cast<size_t>(n));
      while (true) {
        auto next = decoder.next(frame);
        if (!next || !*next)
          break;
        handle(frame);
        if (frame.has_disconnect()) {
          ::shutdown(fd, SHUT_WR);
        }
      }
    }
  }

  void handle(const wire::Frame& frame) {
    hook h;
    {
      std::lock_guard<std::mutex> guard(mutex_);
      frames_.push_back(frame);
      h = hook_;
    }
    cv_.notify_all();
    if (h && h(*this, frame))
      return;
    auto id = frame.correlation_id();
    switch (frame.command_case()) {
    case wire::Frame::kConnect: {
      wire::Frame f;
      f.set_correlation_id(id);
      auto* c = f.mutable_connected();
      c->set_protocol_version(wire::PROTOCOL_VERSION_1);
      c->set_node_name("fake");
      c->set_store_id("store-1");
      c->set_session_id(7);
      c->set_heartbeat_ms(node_heartbeat_ms);
      c->set_inactivity_timeout_ms(inactivity_timeout_ms);
      send(f);
      break;
    }
    case wire::Frame::kSend:
      if (id != 0 && answer_sends)
        receipt(id, 1);
      break;
    case wire::Frame::kStatsRequest: { // an empty answer: tests use it as a barrier
      wire::Frame f;
      f.set_correlation_id(id);
      f.mutable_stats_reply();
      send(f);
      break;
    }
    case wire::Frame::kOpenConsumer:
    case wire::Frame::kCloseConsumer:
    case wire::Frame::kAck:
      if (id != 0)
        receipt(id);
      break;
    default:
      break;
    }
  }

  int listen_fd_ = -1;
  uint16_t port_ = 0;
  std::atomic<bool> stopping_{false};
  std::atomic<size_t> connections_{0};
  std::thread thread_;
  std::mutex write_mutex_;
  int conn_fd_ = -1; // guarded by write_mutex_
  mutable std::mutex mutex_;
  std::condition_variable cv_;
  std::vector<wire::Frame> frames_;
  hook hook_;
};

} // namespace actormq::testing
