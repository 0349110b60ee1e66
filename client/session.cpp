#include "client/session.hpp"

#include <algorithm>
#include <future>
#include <random>

namespace actormq::client::detail {

namespace {

int64_t steady_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(clock::now().time_since_epoch())
      .count();
}

constexpr std::chrono::milliseconds keeper_tick{50};
constexpr std::chrono::milliseconds min_silence_limit{1000};

} // namespace

failure make_failure(client_errc code, std::string what) {
  return failure{make_error_code(code), std::move(what)};
}

failure broker_failure(const wire::Error& error) {
  auto name = wire::ErrorCode_IsValid(error.code()) ? wire::ErrorCode_Name(error.code())
                                                    : std::to_string(error.code());
  return failure{make_broker_error_code(error.code()),
                 "broker error " + name + (error.message().empty() ? "" : ": " + error.message())};
}

message to_message(wire::Dispatch&& dispatch) {
  message m;
  auto* w = dispatch.mutable_message();
  m.body = std::move(*w->mutable_body());
  m.destination = std::move(*w->mutable_destination());
  m.consumer_id = dispatch.consumer_id();
  m.delivery_key = dispatch.delivery_key();
  m.redelivered = dispatch.redelivered();
  m.delivery_count = dispatch.delivery_count();
  m.persistent = w->persistent();
  m.priority = w->priority();
  m.timestamp_ms = w->timestamp_ms();
  m.expiration_ms = w->expiration_ms();
  m.producer_id = std::move(*w->mutable_producer_id());
  m.producer_sequence = w->producer_sequence();
  m.origin_store_id = std::move(*w->mutable_origin_store_id());
  m.origin_sequence = w->origin_sequence();
  for (auto& [key, value] : *w->mutable_properties())
    m.properties.emplace(key, std::move(value));
  return m;
}

std::string random_hex(size_t bytes) {
  static std::mutex mutex;
  static std::mt19937_64 engine{[] {
    std::random_device device;
    std::seed_seq seed{device(), device(), device(), device(), device(), device()};
    return std::mt19937_64(seed);
  }()};
  static const char digits[] = "0123456789abcdef";
  std::string out;
  out.reserve(bytes * 2);
  std::lock_guard<std::mutex> guard(mutex);
  for (size_t i = 0; i < bytes; ++i) {
    auto byte = static_cast<unsigned>(engine() & 0xff);
    out.push_back(digits[byte >> 4]);
    out.push_back(digits[byte & 0xf]);
  }
  return out;
}

int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

void consumer_state::fail(const failure& why) {
  {
    std::lock_guard<std::mutex> guard(mutex);
    if (!failed)
      failed = why;
  }
  cv.notify_all();
}

session::session(std::unique_ptr<transport> transport, connection_options options)
    : transport_(std::move(transport)), options_(std::move(options)) {
  info_.remote = transport_->remote();
}

session::~session() {
  {
    std::lock_guard<std::mutex> guard(mutex_);
    keeper_stop_ = true;
    closed_ = true;
  }
  keeper_cv_.notify_all();
  transport_->close();
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
  if (auto started = transport_->start(*this); !started)
    return started;
  keeper_ = std::thread([this] { keeper_loop(); });

  wire::Frame frame;
  auto* connect = frame.mutable_connect();
  connect->set_protocol_version(wire::PROTOCOL_VERSION_1);
  connect->set_client_id(options_.client_id.empty() ? "actormq-" + random_hex(8)
                                                    : options_.client_id);
  connect->set_user(options_.user);
  connect->set_password(options_.password);
  connect->set_heartbeat_ms(options_.heartbeat_ms);
  auto promise = std::make_shared<std::promise<result<wire::Frame>>>();
  auto answer = promise->get_future();
  request_async(
      std::move(frame), [promise](result<wire::Frame> r) { promise->set_value(std::move(r)); },
      false, options_.connect_timeout);
  auto reply = answer.get();
  if (!reply) {
    auto code = reply.code();
    auto what = "handshake with " + info_.remote + " failed: " + reply.message();
    if (code == client_errc::connection_lost || code == client_errc::timeout)
      code = make_error_code(client_errc::connection_failed);
    failure why{code, std::move(what)};
    transport_->abort(why); // no orderly close with a node that failed the handshake
    return why;
  }
  if (!reply->has_connected()) {
    auto why = make_failure(client_errc::protocol_error,
                            std::string("the broker at ") + info_.remote +
                                " answered Connect with " + protocol::command_name(*reply));
    transport_->abort(why);
    return why;
  }
  const auto& c = reply->connected();
  std::lock_guard<std::mutex> guard(mutex_);
  info_.node_name = c.node_name();
  info_.store_id = c.store_id();
  info_.session_id = c.session_id();
  info_.heartbeat_ms = c.heartbeat_ms();
  info_.inactivity_timeout_ms = c.inactivity_timeout_ms();
  info_.failover_uris.assign(c.failover_uris().begin(), c.failover_uris().end());
  // Heartbeats often enough for the node's inactivity timeout, whatever was asked for.
  send_heartbeat_ms_ = options_.heartbeat_ms;
  if (send_heartbeat_ms_ > 0 && c.inactivity_timeout_ms() > 0)
    send_heartbeat_ms_ = std::min(send_heartbeat_ms_, std::max(1u, c.inactivity_timeout_ms() / 3));
  connected_ = true;
  return {};
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

void session::request_async(wire::Frame frame, reply_handler handler, bool replay,
                            std::chrono::milliseconds timeout) {
  uint64_t correlation_id = 0;
  auto shared = std::make_shared<wire::Frame>(std::move(frame));
  {
    std::unique_lock<std::mutex> guard(mutex_);
    if (ended_) {
      auto why =
          failure_ ? *failure_ : make_failure(client_errc::closed, "the connection is closed");
      guard.unlock();
      handler(why);
      return;
    }
    correlation_id = ++next_correlation_;
    shared->set_correlation_id(correlation_id);
    pending_request p;
    p.handler = std::move(handler);
    p.deadline = timeout.count() > 0 && timeout < std::chrono::hours(24 * 365)
                     ? clock::now() + timeout
                     : clock::time_point::max();
    p.timeout = timeout;
    if (replay) {
      p.replay = shared;
      ++unreceipted_sends_;
    }
    pending_.emplace(correlation_id, std::move(p));
  }
  if (auto sent = write(*shared); !sent) {
    std::optional<pending_request> p;
    {
      std::lock_guard<std::mutex> guard(mutex_);
      p = take_pending_locked(correlation_id);
    }
    if (p)
      p->handler(sent.error());
  }
}

result<wire::Frame> session::request(wire::Frame frame, bool replay) {
  auto promise = std::make_shared<std::promise<result<wire::Frame>>>();
  auto answer = promise->get_future();
  request_async(
      std::move(frame), [promise](result<wire::Frame> r) { promise->set_value(std::move(r)); },
      replay);
  return answer.get(); // the handler always runs: answer, timeout (keeper), failure or close
}

result<void> session::write(const wire::Frame& frame) {
  auto r = transport_->send(frame);
  if (r)
    last_sent_ns_ = steady_ns();
  return r;
}

result<void> session::send_oneway(const wire::Frame& frame) {
  if (auto open = check_open(); !open)
    return open;
  return write(frame);
}

result<void> session::check_open() const {
  std::lock_guard<std::mutex> guard(mutex_);
  if (failure_)
    return *failure_;
  if (ended_ || closed_)
    return make_failure(client_errc::closed, "the connection is closed");
  return {};
}

void session::add_consumer(const std::shared_ptr<consumer_state>& c) {
  bool ended = false;
  std::optional<failure> why;
  {
    std::lock_guard<std::mutex> guard(mutex_);
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

void session::on_frame(wire::Frame& frame) {
  last_received_ns_ = steady_ns();
  if (auto correlation_id = frame.correlation_id(); correlation_id != 0) {
    std::optional<pending_request> p;
    {
      std::lock_guard<std::mutex> guard(mutex_);
      p = take_pending_locked(correlation_id);
    }
    if (!p)
      return; // an answer that came after its request timed out
    if (frame.has_error())
      p->handler(broker_failure(frame.error()));
    else
      p->handler(std::move(frame));
    return;
  }
  switch (frame.command_case()) {
  case wire::Frame::kDispatch:
    route_dispatch(frame);
    break;
  case wire::Frame::kError: {
    auto why = broker_failure(frame.error());
    why.what = "the broker at " + info_.remote + " closed the connection: " + why.what;
    fail(why);
    transport_->abort(why);
    break;
  }
  case wire::Frame::kClusterUpdate: {
    std::lock_guard<std::mutex> guard(mutex_);
    const auto& uris = frame.cluster_update().failover_uris();
    info_.failover_uris.assign(uris.begin(), uris.end());
    break;
  }
  default:
    break; // heartbeats, and uncorrelated answers nobody waits for
  }
}

void session::route_dispatch(wire::Frame& frame) {
  std::shared_ptr<consumer_state> c;
  {
    std::lock_guard<std::mutex> guard(mutex_);
    auto it = consumers_.find(frame.dispatch().consumer_id());
    if (it == consumers_.end())
      return; // a consumer closed meanwhile: the node redelivers what it had dispatched
    c = it->second;
  }
  auto m = to_message(std::move(*frame.mutable_dispatch()));
  {
    std::lock_guard<std::mutex> guard(c->mutex);
    if (c->closed)
      return;
    c->buffer.push_back(std::move(m));
  }
  c->cv.notify_one();
}

void session::on_failure(const failure& why) {
  {
    std::lock_guard<std::mutex> guard(mutex_);
    if (disconnecting_)
      return; // close() ends the session
  }
  fail(why);
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
    was_connected = connected_;
    if (!closing)
      failure_ = why;
    pending.swap(pending_);
    unreceipted_sends_ = 0;
    for (auto& [id, c] : consumers_)
      consumers.push_back(c);
  }
  sends_cv_.notify_all();
  keeper_cv_.notify_all();
  for (auto& [id, p] : pending)
    p.handler(why);
  for (auto& c : consumers)
    c->fail(why);
  if (!closing && was_connected && options_.on_failure) // a failed open() reports by its result
    options_.on_failure(why);
}

void session::keeper_loop() {
  std::unique_lock<std::mutex> guard(mutex_);
  while (!keeper_stop_) {
    keeper_cv_.wait_for(guard, keeper_tick);
    if (keeper_stop_ || ended_)
      return;
    // Requests past their deadline.
    auto now = clock::now();
    std::vector<uint64_t> expired;
    for (auto& [id, p] : pending_)
      if (p.deadline <= now)
        expired.push_back(id);
    std::vector<pending_request> timed_out;
    for (auto id : expired)
      if (auto p = take_pending_locked(id))
        timed_out.push_back(std::move(*p));
    bool connected = connected_;
    uint32_t node_heartbeat = info_.heartbeat_ms;
    uint32_t send_heartbeat = send_heartbeat_ms_;
    guard.unlock();
    for (auto& p : timed_out)
      p.handler(make_failure(client_errc::timeout, "the broker at " + info_.remote +
                                                       " did not answer within " +
                                                       std::to_string(p.timeout.count()) + " ms"));
    if (connected) {
      auto now_ns = steady_ns();
      // Silence from the node.
      if (node_heartbeat > 0) {
        auto limit = std::max<int64_t>(3 * int64_t{node_heartbeat}, min_silence_limit.count());
        auto silent_ms = (now_ns - last_received_ns_.load()) / 1000000;
        if (silent_ms > limit) {
          auto why = make_failure(client_errc::connection_lost,
                                  "the broker at " + info_.remote + " sent nothing for " +
                                      std::to_string(silent_ms) + " ms");
          fail(why);
          transport_->abort(why);
          return;
        }
      }
      // Our heartbeat.
      if (send_heartbeat > 0 &&
          (now_ns - last_sent_ns_.load()) / 1000000 >= int64_t{send_heartbeat}) {
        wire::Frame beat;
        beat.mutable_heartbeat();
        auto sent = transport_->try_send(beat);
        if (sent && *sent)
          last_sent_ns_ = steady_ns();
      }
    }
    guard.lock();
  }
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
  {
    std::unique_lock<std::mutex> guard(mutex_);
    open = !ended_;
    if (open) {
      // Persistent sends still awaiting their receipt.
      auto done = [this] { return unreceipted_sends_ == 0 || ended_; };
      if (options_.request_timeout.count() > 0)
        sends_cv_.wait_for(guard, options_.request_timeout, done);
      else
        sends_cv_.wait(guard, done);
      open = !ended_;
      for (auto& [id, c] : consumers_)
        consumers.push_back(c);
    }
  }
  if (open) {
    for (auto& c : consumers) {
      wire::Frame frame;
      {
        std::lock_guard<std::mutex> guard(c->mutex);
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
      (void)write(frame);
    }
    wire::Frame bye;
    bye.mutable_disconnect();
    {
      std::lock_guard<std::mutex> guard(mutex_);
      disconnecting_ = true;
    }
    (void)write(bye);
  }
  transport_->close();
  {
    std::lock_guard<std::mutex> guard(mutex_);
    keeper_stop_ = true;
  }
  keeper_cv_.notify_all();
  if (keeper_.joinable() && keeper_.get_id() != std::this_thread::get_id())
    keeper_.join();
  end(make_failure(client_errc::closed, "the connection is closed"), true);
  std::lock_guard<std::mutex> guard(mutex_);
  return failure_ ? result<void>{*failure_} : result<void>{};
}

} // namespace actormq::client::detail
