// Requests to the node: correlation ids, the pending table answered from the reader thread (see
// session_inbound.cpp), waiting sends during a failover outage, and one-way frames.
#include "client/session.hpp"

#include <future>

namespace actormq::client::detail {

void session::request_async(wire::Frame frame, reply_handler handler, bool replay,
                            std::chrono::milliseconds timeout, std::optional<uint64_t> epoch) {
  auto shared = std::make_shared<wire::Frame>(std::move(frame));
  std::shared_ptr<transport> t;
  uint64_t correlation_id = 0;
  uint64_t generation = 0;
  {
    std::unique_lock<std::mutex> guard(mutex_);
    std::optional<result<wire::Frame>> answer_now;
    if (ended_)
      answer_now = result<wire::Frame>(
          failure_ ? *failure_ : make_failure(client_errc::closed, "the connection is closed"));
    else if (epoch && (*epoch != epoch_ || !connected_))
      answer_now = result<wire::Frame>(failed_over_failure());
    else if (failover_ && !connected_ && shared->has_close_consumer())
      answer_now = result<wire::Frame>(receipt_frame(0)); // gone with the old connection
    else if (!failover_ && !connected_)
      answer_now = result<wire::Frame>(make_failure(client_errc::closed, "not connected"));
    if (answer_now) {
      guard.unlock();
      handler(std::move(*answer_now));
      return;
    }
    correlation_id = ++next_correlation_;
    shared->set_correlation_id(correlation_id);
    pending_request p;
    p.handler = std::move(handler);
    p.timeout = timeout;
    p.frame = shared;
    p.epoch = epoch;
    if (replay) {
      p.replay = true;
      ++unreceipted_sends_;
    }
    if (connected_) {
      generation = live_generation_;
      p.sent_generation = generation;
      p.deadline = deadline_after(timeout);
      t = live_.t;
    } else {
      p.deadline = clock::time_point::max();
      p.waiting_since = clock::now(); // the replay sends it
    }
    pending_.emplace(correlation_id, std::move(p));
  }
  if (!t)
    return;
  auto sent = t->send(*shared);
  if (sent) {
    last_sent_ns_ = steady_ns();
    return;
  }
  std::optional<pending_request> p;
  {
    std::lock_guard<std::mutex> guard(mutex_);
    auto it = pending_.find(correlation_id);
    // With failover a lost connection requeues the request (link failure): leave it.
    bool mine = it != pending_.end() && it->second.sent_generation == generation;
    if (mine && (!failover_ || sent.code() == client_errc::bad_argument))
      p = take_pending_locked(correlation_id);
  }
  if (p)
    p->handler(sent.error());
}

result<wire::Frame> session::request(wire::Frame frame, bool replay,
                                     std::optional<uint64_t> epoch) {
  auto promise = std::make_shared<std::promise<result<wire::Frame>>>();
  auto answer = promise->get_future();
  request_async(
      std::move(frame), [promise](result<wire::Frame> r) { promise->set_value(std::move(r)); },
      replay, options_.request_timeout, epoch);
  return answer.get(); // the handler always runs: answer, timeout (keeper), failure or close
}

result<void> session::send_oneway(const wire::Frame& frame, std::optional<uint64_t> epoch) {
  std::unique_lock<std::mutex> guard(mutex_);
  const auto& o = url_.options;
  auto deadline = failover_ && o.timeout_ms > 0
                      ? clock::now() + std::chrono::milliseconds(o.timeout_ms)
                      : clock::time_point::max();
  while (true) {
    if (failure_)
      return *failure_;
    if (ended_ || closed_)
      return make_failure(client_errc::closed, "the connection is closed");
    if (epoch && *epoch != epoch_)
      return {}; // keys or credit of an older connection: meaningless to this one
    if (connected_) {
      auto t = live_.t;
      auto generation = live_generation_;
      guard.unlock();
      auto sent = t->send(frame);
      if (sent) {
        last_sent_ns_ = steady_ns();
        return sent;
      }
      if (!failover_ || sent.code() == client_errc::bad_argument)
        return sent;
      // Work of the lost connection (a transacted send, acks, credit) is not written again: the
      // next connection does not know it, and a transaction of it is reported rolled back at
      // its commit (docs/transactions.md), as ActiveMQ's failover transport does.
      if (epoch)
        return {};
      guard.lock();
      // Lost on the way: wait for the next connection and write it again.
      connected_cv_.wait_for(guard, std::chrono::milliseconds(20),
                             [&] { return live_generation_ != generation || ended_ || closed_; });
      continue;
    }
    if (epoch || frame.has_heartbeat())
      return {};
    if (!failover_)
      return make_failure(client_errc::connection_lost, "not connected");
    auto ready = [this] { return connected_ || ended_ || closed_; };
    if (deadline == clock::time_point::max()) {
      connected_cv_.wait(guard, ready);
    } else if (!connected_cv_.wait_until(guard, deadline, ready)) {
      return make_failure(client_errc::timeout, "no connection to any of " + uri_list(uris_) +
                                                    " within the failover timeout of " +
                                                    std::to_string(o.timeout_ms) + " ms");
    }
  }
}

std::optional<session::pending_request> session::take_pending_locked(uint64_t correlation_id) {
  auto it = pending_.find(correlation_id);
  if (it == pending_.end())
    return std::nullopt;
  auto p = std::move(it->second);
  pending_.erase(it);
  if (p.replay && --unreceipted_sends_ == 0)
    sends_cv_.notify_all();
  return p;
}

} // namespace actormq::client::detail
