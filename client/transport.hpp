// The transport under a connection: moves whole frames to and from one node. A connection talks
// only to this interface, so a failover transport can wrap several tcp_transports later.
//
// Threads: send() and try_send() may be called from any thread. Listener callbacks come from the
// transport's own reader thread, one at a time; a callback must not call close() and wait for
// itself (close() called from the reader thread does not join it).
#pragma once

#include "common/result.hpp"
#include "protocol/actormq.pb.h"
#include "protocol/frame_codec.hpp"
#include "protocol/uri.hpp"

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

namespace actormq::client {

// Receives what a transport reads.
class transport_listener {
public:
  virtual ~transport_listener() = default;

  // One incoming frame. The listener may move from it.
  virtual void on_frame(wire::Frame& frame) = 0;

  // The transport failed (peer closed, I/O error, undecodable bytes, abort()). Called once, and
  // never after close() has begun; no on_frame() follows it.
  virtual void on_failure(const failure& why) = 0;
};

class transport {
public:
  virtual ~transport() = default;

  // Connects and starts delivering frames to `listener`, which must outlive the transport (or
  // its close()). Errors: client_errc::connection_failed (the text names the address and cause).
  virtual result<void> start(transport_listener& listener) = 0;

  // Writes one frame; blocks while the peer does not read (TCP back-pressure).
  // Errors: connection_lost (and the transport fails), bad_argument (frame does not encode),
  // closed (after close()).
  virtual result<void> send(const wire::Frame& frame) = 0;

  // Like send(), but returns false at once instead of waiting if another send is under way.
  // Used for heartbeats: a writer stuck in back-pressure already proves the connection is busy.
  virtual result<bool> try_send(const wire::Frame& frame) = 0;

  // Fails the transport now: reading stops and on_failure(why) is reported (from the reader
  // thread). Does not wait. Idempotent.
  virtual void abort(const failure& why) = 0;

  // Orderly end: stops writing, waits (bounded) for the peer to close, then releases the socket
  // and joins the reader. No listener callback runs after close() returns. Idempotent.
  virtual void close() = 0;

  // The address this transport is (or was) connected to, e.g. "tcp://127.0.0.1:61616".
  virtual std::string remote() const = 0;
};

struct tcp_transport_options {
  std::chrono::milliseconds connect_timeout{10000};
  // close(): how long to wait for the peer to close its side after ours is shut down.
  std::chrono::milliseconds close_linger{1000};
  uint32_t max_frame_bytes = protocol::default_max_frame_bytes;
};

// One TCP connection to host:port (TCP_NODELAY set), a reader thread doing blocking recv into a
// frame_decoder, writes under a mutex.
class tcp_transport final : public transport {
public:
  tcp_transport(protocol::tcp_uri uri, tcp_transport_options options = {});
  ~tcp_transport() override;

  tcp_transport(const tcp_transport&) = delete;
  tcp_transport& operator=(const tcp_transport&) = delete;

  result<void> start(transport_listener& listener) override;
  result<void> send(const wire::Frame& frame) override;
  result<bool> try_send(const wire::Frame& frame) override;
  void abort(const failure& why) override;
  void close() override;
  std::string remote() const override;

private:
  result<void> write_locked(const wire::Frame& frame);
  void read_loop();
  void report_failure(failure why);

  protocol::tcp_uri uri_;
  tcp_transport_options options_;
  transport_listener* listener_ = nullptr;
  int fd_ = -1;
  std::thread reader_;
  std::mutex write_mutex_;
  std::string write_buffer_; // guarded by write_mutex_
  std::mutex state_mutex_;
  bool failed_ = false;      // guarded by state_mutex_: on_failure was (or is being) reported
  failure abort_reason_;     // guarded by state_mutex_
  bool aborted_ = false;     // guarded by state_mutex_
  bool reader_done_ = false; // guarded by state_mutex_
  std::condition_variable reader_cv_;
  std::atomic<bool> closing_{false};
};

} // namespace actormq::client
