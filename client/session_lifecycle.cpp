// The session's life: construction, start (first connection, keeper and failover threads), close
// (last auto acks, Disconnect, joins), the end of the connection (failure or close), and the
// registry of consumers and producers it tracks for failover.
#include "client/session.hpp"

#include <algorithm>
#include <iostream>
#include <random>

namespace actormq::client::detail {

session::session(std::unique_ptr<transport> transport, connection_options options)
    : fixed_transport_(std::move(transport)), options_(std::move(options)), failover_(false) {
  info_.remote = fixed_transport_->remote();
}

session::session(failover_url url, connection_options options)
    : options_(std::move(options)), failover_(true), url_(std::move(url)), rng_([] {
        std::random_device device;
        std::seed_seq seed{device(), device(), device(), device()};
        return std::mt19937_64(seed);
      }()) {
  uris_ = url_.uris;
  info_.remote = "failover:(" + uri_list(uris_) + ")";
}

session::~session() {
  live_link live;
  {
    std::lock_guard<std::mutex> guard(mutex_);
    keeper_stop_ = true;
    closed_ = true;
    stop_ = true;
    live = live_;
  }
  keeper_cv_.notify_all();
  failover_cv_.notify_all();
  connected_cv_.notify_all();
  if (live.t)
    live.t->close();
  if (fixed_transport_)
    fixed_transport_->close();
  if (failover_thread_.joinable()) {
    if (failover_thread_.get_id() == std::this_thread::get_id())
      failover_thread_.detach();
    else
      failover_thread_.join();
  }
  close_retired();
  {
    std::lock_guard<std::mutex> guard(mutex_);
    live = live_;
  }
  if (live.t)
    live.t->close();
  if (keeper_.joinable()) {
    if (keeper_.get_id() == std::this_thread::get_id())
      keeper_.detach();
    else
      keeper_.join();
  }
}

result<void> session::start() {
  last_received_ns_ = steady_ns();
  last_sent_ns_ = steady_ns();
  client_id_ = options_.client_id.empty() ? "actormq-" + random_hex(8) : options_.client_id;
  keeper_ = std::thread([this] { keeper_loop(); });
  result<void> started;
  if (failover_) {
    for (const auto& w : url_.warnings)
      warn(w);
    started = establish(true);
  } else {
    started = attempt(fixed_transport_, fixed_transport_->remote(), true);
  }
  if (!started) {
    {
      std::lock_guard<std::mutex> guard(mutex_);
      keeper_stop_ = true;
      stop_ = true;
      ended_ = true;
    }
    keeper_cv_.notify_all();
    if (keeper_.joinable())
      keeper_.join();
    return started;
  }
  if (failover_)
    failover_thread_ = std::thread([this] { failover_loop(); });
  return {};
}

result<void> session::close() {
  {
    std::lock_guard<std::mutex> guard(mutex_);
    if (closed_)
      return failure_ ? result<void>{*failure_} : result<void>{};
    closed_ = true;
  }
  bool open = false;
  std::vector<std::shared_ptr<consumer_state>> consumers;
  std::shared_ptr<transport> t;
  uint64_t epoch = 0;
  {
    std::unique_lock<std::mutex> guard(mutex_);
    open = !ended_;
    if (open) {
      // Persistent sends still awaiting their receipt (during a failover outage too).
      auto done = [this] { return unreceipted_sends_ == 0 || ended_; };
      if (options_.request_timeout.count() > 0)
        sends_cv_.wait_for(guard, options_.request_timeout, done);
      else
        sends_cv_.wait(guard, done);
      open = !ended_ && connected_;
      for (auto& [id, c] : consumers_)
        consumers.push_back(c);
      t = live_.t;
      epoch = epoch_;
    }
  }
  if (open && t) {
    for (auto& c : consumers) {
      wire::Frame frame;
      {
        std::lock_guard<std::mutex> guard(c->mutex);
        if (c->epoch != epoch)
          continue;
        if (c->handed)
          c->auto_acks.push_back(*c->handed);
        c->handed.reset();
        if (c->auto_acks.empty())
          continue;
        auto* ack = frame.mutable_ack();
        ack->set_consumer_id(c->id);
        for (auto key : c->auto_acks)
          ack->add_delivery_keys(key);
        c->auto_acks.clear();
      }
      (void)t->send(frame);
    }
    wire::Frame bye;
    bye.mutable_disconnect();
    {
      std::lock_guard<std::mutex> guard(mutex_);
      disconnecting_ = true;
    }
    (void)t->send(bye);
  }
  {
    std::lock_guard<std::mutex> guard(mutex_);
    disconnecting_ = true;
    stop_ = true;
    t = live_.t;
  }
  failover_cv_.notify_all();
  connected_cv_.notify_all();
  if (t)
    t->close();
  end(make_failure(client_errc::closed, "the connection is closed"), true);
  if (failover_thread_.joinable() && failover_thread_.get_id() != std::this_thread::get_id())
    failover_thread_.join();
  close_retired();
  {
    std::lock_guard<std::mutex> guard(mutex_);
    t = live_.t;
    keeper_stop_ = true;
  }
  if (t)
    t->close();
  keeper_cv_.notify_all();
  if (keeper_.joinable() && keeper_.get_id() != std::this_thread::get_id())
    keeper_.join();
  std::lock_guard<std::mutex> guard(mutex_);
  return failure_ ? result<void>{*failure_} : result<void>{};
}

void session::fail(const failure& why) {
  end(why, false);
}

void session::end(const failure& why, bool closing) {
  std::unordered_map<uint64_t, pending_request> pending;
  std::vector<std::shared_ptr<consumer_state>> consumers;
  bool was_connected = false;
  {
    std::lock_guard<std::mutex> guard(mutex_);
    if (ended_)
      return;
    ended_ = true;
    stop_ = true;
    was_connected = ever_connected_;
    connected_ = false;
    if (!closing)
      failure_ = why;
    pending.swap(pending_);
    unreceipted_sends_ = 0;
    for (auto& [id, c] : consumers_)
      consumers.push_back(c);
  }
  sends_cv_.notify_all();
  keeper_cv_.notify_all();
  failover_cv_.notify_all();
  connected_cv_.notify_all();
  for (auto& [id, p] : pending)
    p.handler(why);
  for (auto& c : consumers)
    c->fail(why);
  if (!closing && was_connected && options_.on_failure) // a failed open() reports by its result
    options_.on_failure(why);
}

void session::warn(const std::string& line) const {
  if (options_.on_warning)
    options_.on_warning(line);
  else
    std::cerr << "actormq client: " << line << std::endl;
}

result<void> session::check_open() const {
  std::lock_guard<std::mutex> guard(mutex_);
  if (failure_)
    return *failure_;
  if (ended_ || closed_)
    return make_failure(client_errc::closed, "the connection is closed");
  return {};
}

bool session::is_open() const {
  std::lock_guard<std::mutex> guard(mutex_);
  return !ended_ && !closed_;
}

std::optional<failure> session::last_failure() const {
  std::lock_guard<std::mutex> guard(mutex_);
  return failure_;
}

broker_info session::info() const {
  std::lock_guard<std::mutex> guard(mutex_);
  return info_;
}

void session::add_consumer(const std::shared_ptr<consumer_state>& c) {
  bool ended = false;
  std::optional<failure> why;
  {
    std::lock_guard<std::mutex> guard(mutex_);
    {
      std::lock_guard<std::mutex> consumer_guard(c->mutex);
      c->epoch = epoch_;
    }
    consumers_[c->id] = c;
    ended = ended_;
    why = failure_;
  }
  if (ended)
    c->fail(why ? *why : make_failure(client_errc::closed, "the connection is closed"));
}

void session::remove_consumer(uint64_t id) {
  std::lock_guard<std::mutex> guard(mutex_);
  consumers_.erase(id);
}

void session::add_producer(const std::shared_ptr<producer_state>& p) {
  std::lock_guard<std::mutex> guard(mutex_);
  producers_.erase(std::remove_if(producers_.begin(), producers_.end(),
                                  [](const auto& w) { return w.expired(); }),
                   producers_.end());
  producers_.push_back(p);
}

void session::remove_producer(const producer_state* p) {
  std::lock_guard<std::mutex> guard(mutex_);
  producers_.erase(std::remove_if(producers_.begin(), producers_.end(),
                                  [p](const auto& w) {
                                    auto s = w.lock();
                                    return !s || s.get() == p;
                                  }),
                   producers_.end());
}

void consumer_state::fail(const failure& why) {
  {
    std::lock_guard<std::mutex> guard(mutex);
    if (!failed)
      failed = why;
  }
  cv.notify_all();
}

} // namespace actormq::client::detail
