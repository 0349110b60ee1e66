// Failover: what a lost transport does to the session (interruption: requests requeued or
// failed, consumers reset), the failover thread that reconnects over the URI list with back-off
// and probes the priority URIs (priorityBackup), and the URI list learned from the cluster.
#include "client/session.hpp"

#include <algorithm>

namespace actormq::client::detail {

namespace {

// Listens to nothing: the priority probe only wants to know that a connection is accepted.
struct null_listener final : transport_listener {
  void on_frame(wire::Frame&) override {}
  void on_failure(const failure&) override {}
};

} // namespace

void session::on_link_failure(uint64_t generation, const failure& why) {
  std::vector<pending_request> to_fail;
  std::vector<pending_request> to_succeed;
  std::vector<std::shared_ptr<consumer_state>> consumers;
  uint64_t epoch = 0;
  bool interrupted = false;
  {
    std::unique_lock<std::mutex> guard(mutex_);
    if (generation != live_generation_ || ended_ || disconnecting_)
      return;
    bool was_connected = connected_;
    if (!failover_ || (was_connected && attempt_limit(url_.options, false) == 0)) {
      guard.unlock();
      end(why, false);
      return;
    }
    connected_ = false;
    live_generation_ = 0;
    if (live_.generation == generation) {
      retired_.push_back(live_);
      live_ = live_link{};
    }
    requeue_locked(generation, to_fail, to_succeed);
    epoch = ++epoch_;
    for (auto& [id, c] : consumers_)
      consumers.push_back(c);
    if (was_connected) {
      interrupted_ = true;
      interrupted = true;
    }
  }
  failover_cv_.notify_all();
  connected_cv_.notify_all();
  reset_consumers(consumers, epoch);
  for (auto& p : to_fail)
    p.handler(p.epoch ? failed_over_failure() : why);
  for (auto& p : to_succeed)
    p.handler(receipt_frame(p.frame ? p.frame->correlation_id() : 0));
  if (interrupted && options_.on_interrupted)
    options_.on_interrupted(why);
}

void session::requeue_locked(uint64_t generation, std::vector<pending_request>& to_fail,
                             std::vector<pending_request>& to_succeed) {
  auto now = clock::now();
  std::vector<uint64_t> fail_ids;
  std::vector<uint64_t> succeed_ids;
  for (auto& [id, p] : pending_) {
    if (p.sent_generation != generation)
      continue;
    if (p.internal || p.epoch || !failover_)
      fail_ids.push_back(id);
    else if (p.frame && p.frame->has_close_consumer())
      succeed_ids.push_back(id); // the consumer went with the old connection
    else {
      p.sent_generation = 0;
      p.deadline = clock::time_point::max();
      p.waiting_since = now;
    }
  }
  for (auto id : fail_ids)
    if (auto p = take_pending_locked(id))
      to_fail.push_back(std::move(*p));
  for (auto id : succeed_ids)
    if (auto p = take_pending_locked(id))
      to_succeed.push_back(std::move(*p));
}

void session::reset_consumers(const std::vector<std::shared_ptr<consumer_state>>& consumers,
                              uint64_t epoch) {
  for (auto& c : consumers) {
    std::lock_guard<std::mutex> guard(c->mutex);
    c->epoch = epoch;
    c->buffer.clear();
    c->taken = 0;
    c->auto_acks.clear();
    c->handed.reset();
    c->unacked.clear();
  }
}

void session::failover_loop() {
  std::unique_lock<std::mutex> guard(mutex_);
  uint64_t probes = 0;
  while (true) {
    auto wake = [this] { return stop_ || ended_ || interrupted_; };
    bool probing = url_.options.priority_backup && connected_ &&
                   !is_priority(url_.options, url_.uris, last_uri_);
    if (probing)
      failover_cv_.wait_for(guard, reconnect_delay(url_.options, ++probes), wake);
    else
      failover_cv_.wait(guard, wake);
    if (stop_ || ended_)
      return;
    if (interrupted_) {
      guard.unlock();
      close_retired();
      auto done = establish(false);
      close_retired();
      guard.lock();
      if (!done) {
        if (stop_ || ended_)
          return;
        guard.unlock();
        end(done.error(), false);
        return;
      }
      probes = 0;
      continue;
    }
    if (!probing || !connected_)
      continue;
    // priorityBackup: connected to a backup; move back once a priority URI accepts connections.
    auto uris = uris_;
    auto live = live_;
    guard.unlock();
    close_retired();
    std::string found;
    for (const auto& uri : uris) {
      if (!is_priority(url_.options, url_.uris, uri.text()))
        continue;
      tcp_transport_options to;
      to.connect_timeout = member_connect_timeout(uri, options_.connect_timeout);
      to.close_linger = std::chrono::milliseconds(0);
      null_listener nobody;
      tcp_transport probe(uri, to);
      if (probe.start(nobody)) {
        probe.close();
        found = uri.text();
        break;
      }
    }
    if (!found.empty() && live.t)
      live.t->abort(
          make_failure(client_errc::connection_lost, "switching to the priority broker " + found));
    guard.lock();
  }
}

result<void> session::establish(bool first) {
  const auto& o = url_.options;
  const int64_t limit = attempt_limit(o, first);
  uint64_t failed = 0;
  std::string last_failed;
  {
    std::lock_guard<std::mutex> guard(mutex_);
    if (!first)
      last_failed = last_uri_;
  }
  while (true) {
    auto list = connect_order(o, uri_snapshot(), last_failed, rng_);
    std::vector<std::string> causes;
    for (const auto& uri : list) {
      {
        std::lock_guard<std::mutex> guard(mutex_);
        if (stop_ || ended_)
          return make_failure(client_errc::closed, "the connection was closed while reconnecting");
      }
      tcp_transport_options to;
      to.connect_timeout = member_connect_timeout(uri, options_.connect_timeout);
      to.max_frame_bytes = options_.max_frame_bytes;
      auto done = attempt(std::make_shared<tcp_transport>(uri, to), uri.text(), first);
      if (done)
        return done;
      if (done.code() == client_errc::closed)
        return done;
      // A reconnect may find the node still holding this client id for the connection that
      // was lost (it frees it once it notices): that refusal (INVALID_FIELD) is retried.
      bool client_id_held = !first && is_broker_error(done.code()) &&
                            broker_code(done.code()) == wire::ERROR_INVALID_FIELD;
      if (is_broker_error(done.code()) && broker_code(done.code()) != wire::ERROR_SHUTTING_DOWN &&
          !client_id_held)
        return done; // e.g. bad credentials: every member would say the same
      causes.push_back(done.message());
    }
    ++failed;
    if (limit >= 0 && failed >= static_cast<uint64_t>(std::max<int64_t>(limit, 1))) {
      std::string option = first && o.startup_max_reconnect_attempts != -1
                               ? "startupMaxReconnectAttempts=" + std::to_string(limit)
                               : "maxReconnectAttempts=" + std::to_string(limit);
      std::string text = "gave up after " + std::to_string(failed) +
                         (failed == 1 ? " attempt" : " attempts") + " (" + option +
                         ") to connect to any of " + uri_list(list);
      for (size_t i = 0; i < causes.size(); ++i)
        text += (i == 0 ? ": " : "; ") + causes[i];
      return make_failure(client_errc::connection_failed, text);
    }
    if (o.warn_after_reconnect_attempts > 0 &&
        failed % static_cast<uint64_t>(o.warn_after_reconnect_attempts) == 0)
      warn("failover: no connection to any of " + uri_list(list) + " after " +
           std::to_string(failed) + " attempts; still trying" +
           (causes.empty() ? std::string() : " (" + causes.back() + ")"));
    auto delay = reconnect_delay(o, failed);
    std::unique_lock<std::mutex> guard(mutex_);
    failover_cv_.wait_for(guard, delay, [this] { return stop_ || ended_; });
  }
}

void session::close_retired() {
  std::vector<live_link> retired;
  {
    std::lock_guard<std::mutex> guard(mutex_);
    retired.swap(retired_);
  }
  for (auto& r : retired)
    r.t->close();
}

void session::learn_uris(const std::vector<std::string>& uris) {
  if (!failover_ || !url_.options.update_uris_supported)
    return;
  for (const auto& text : uris) {
    auto parsed = protocol::parse_tcp_uri(text);
    if (!parsed)
      continue;
    auto uri = with_nested(std::move(*parsed), url_.options);
    bool known = std::any_of(uris_.begin(), uris_.end(),
                             [&](const protocol::tcp_uri& u) { return u.text() == uri.text(); });
    if (!known)
      uris_.push_back(std::move(uri));
  }
}

std::vector<protocol::tcp_uri> session::uri_snapshot() const {
  std::lock_guard<std::mutex> guard(mutex_);
  return uris_;
}

} // namespace actormq::client::detail
