#include "client/session.hpp"

#include <algorithm>
#include <future>
#include <iostream>
#include <random>
#include <set>

namespace actormq::client::detail {

namespace {

int64_t steady_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(clock::now().time_since_epoch())
      .count();
}

constexpr std::chrono::milliseconds keeper_tick{50};
constexpr std::chrono::milliseconds min_silence_limit{1000};
constexpr size_t seen_capacity = 65536;

clock::time_point deadline_after(std::chrono::milliseconds timeout) {
  return timeout.count() > 0 && timeout < std::chrono::hours(24 * 365) ? clock::now() + timeout
                                                                       : clock::time_point::max();
}

failure failed_over_failure() {
  return make_failure(client_errc::failed_over,
                      "the connection failed over before the acknowledgement committed: the "
                      "messages it named are delivered again, marked redelivered");
}

wire::Frame receipt_frame(uint64_t correlation_id) {
  wire::Frame f;
  f.set_correlation_id(correlation_id);
  f.mutable_receipt();
  return f;
}

// Listens to nothing: the priority probe only wants to know that a connection is accepted.
struct null_listener final : transport_listener {
  void on_frame(wire::Frame&) override {}
  void on_failure(const failure&) override {}
};

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

uint64_t identity_of(const message& m) {
  const std::string* id = &m.producer_id;
  uint64_t sequence = m.producer_sequence;
  if (id->empty()) {
    id = &m.origin_store_id;
    sequence = m.origin_sequence;
  }
  if (id->empty())
    return 0;
  // splitmix64 of the id's hash combined with the sequence.
  uint64_t x = std::hash<std::string>{}(*id) ^ (sequence + 0x9e3779b97f4a7c15ULL);
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  x ^= x >> 31;
  return x == 0 ? 1 : x;
}

wire::Frame open_consumer_frame(const consumer_state& c) {
  wire::Frame frame;
  auto* open = frame.mutable_open_consumer();
  open->set_consumer_id(c.id);
  open->set_destination(c.destination);
  open->set_prefetch(c.options.prefetch);
  switch (c.options.mode) {
  case ack_mode::auto_acknowledge:
    open->set_ack_mode(wire::ACK_MODE_AUTO);
    break;
  case ack_mode::client_acknowledge:
    open->set_ack_mode(wire::ACK_MODE_CLIENT);
    break;
  case ack_mode::individual_acknowledge:
    open->set_ack_mode(wire::ACK_MODE_INDIVIDUAL);
    break;
  }
  open->set_priority(c.options.priority);
  return frame;
}

void consumer_state::fail(const failure& why) {
  {
    std::lock_guard<std::mutex> guard(mutex);
    if (!failed)
      failed = why;
  }
  cv.notify_all();
}

struct session::link final : transport_listener {
  link(session* s, uint64_t generation) : owner(s), generation(generation) {}
  void on_frame(wire::Frame& frame) override { owner->on_link_frame(generation, frame); }
  void on_failure(const failure& why) override { owner->on_link_failure(generation, why); }
  session* owner;
  uint64_t generation;
};

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

void session::warn(const std::string& line) const {
  if (options_.on_warning)
    options_.on_warning(line);
  else
    std::cerr << "actormq client: " << line << std::endl;
}

std::vector<protocol::tcp_uri> session::uri_snapshot() const {
  std::lock_guard<std::mutex> guard(mutex_);
  return uris_;
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

void session::drop_attempt(const std::shared_ptr<transport>& t, uint64_t generation,
                           const failure& why) {
  t->abort(why);
  std::vector<pending_request> to_fail;
  std::vector<pending_request> to_succeed;
  std::vector<std::shared_ptr<consumer_state>> consumers;
  uint64_t epoch = 0;
  {
    std::lock_guard<std::mutex> guard(mutex_);
    if (live_generation_ == generation)
      live_generation_ = 0;
    if (live_.generation == generation)
      live_ = live_link{};
    requeue_locked(generation, to_fail, to_succeed);
    if (ever_connected_) {
      // Replayed consumers may have received deliveries on this transport: they are stale now.
      epoch = ++epoch_;
      for (auto& [id, c] : consumers_)
        consumers.push_back(c);
    }
  }
  reset_consumers(consumers, epoch);
  for (auto& p : to_fail)
    p.handler(p.epoch ? failed_over_failure() : why);
  for (auto& p : to_succeed)
    p.handler(receipt_frame(p.frame ? p.frame->correlation_id() : 0));
  t->close();
}

result<void> session::attempt(std::shared_ptr<transport> t, const std::string& uri, bool first) {
  auto l = std::make_shared<link>(this, 0);
  uint64_t generation = 0;
  {
    std::lock_guard<std::mutex> guard(mutex_);
    if (stop_ || ended_)
      return make_failure(client_errc::closed, "the connection is closed");
    generation = ++generation_;
    l->generation = generation;
    live_ = live_link{t, l, generation, uri};
    live_generation_ = generation;
  }
  last_received_ns_ = steady_ns();
  last_sent_ns_ = steady_ns();
  if (auto started = t->start(*l); !started) {
    std::lock_guard<std::mutex> guard(mutex_);
    if (live_generation_ == generation)
      live_generation_ = 0;
    if (live_.generation == generation)
      live_ = live_link{};
    return started;
  }

  wire::Frame frame;
  auto* connect = frame.mutable_connect();
  connect->set_protocol_version(wire::PROTOCOL_VERSION_1);
  connect->set_client_id(client_id_);
  connect->set_user(options_.user);
  connect->set_password(options_.password);
  connect->set_heartbeat_ms(options_.heartbeat_ms);
  auto promise = std::make_shared<std::promise<result<wire::Frame>>>();
  auto answer = promise->get_future();
  uint64_t correlation_id = 0;
  {
    std::lock_guard<std::mutex> guard(mutex_);
    correlation_id = ++next_correlation_;
    frame.set_correlation_id(correlation_id);
    pending_request p;
    p.handler = [promise](result<wire::Frame> r) { promise->set_value(std::move(r)); };
    p.internal = true;
    p.sent_generation = generation;
    p.timeout = options_.connect_timeout;
    p.deadline = deadline_after(options_.connect_timeout);
    bool gone = ended_ || stop_ || live_generation_ != generation;
    if (!gone)
      pending_.emplace(correlation_id, std::move(p));
    else
      promise->set_value(
          make_failure(client_errc::connection_lost, "the connection ended during the handshake"));
  }
  (void)t->send(frame); // a failed write fails the transport, which fails the request
  auto reply = answer.get();
  if (!reply) {
    auto code = reply.code();
    if (code == client_errc::connection_lost || code == client_errc::timeout)
      code = make_error_code(client_errc::connection_failed);
    failure why{code, "handshake with " + uri + " failed: " + reply.message()};
    drop_attempt(t, generation, why);
    return why;
  }
  if (!reply->has_connected()) {
    auto why = make_failure(client_errc::protocol_error, std::string("the broker at ") + uri +
                                                             " answered Connect with " +
                                                             protocol::command_name(*reply));
    drop_attempt(t, generation, why);
    return why;
  }
  {
    const auto& c = reply->connected();
    std::lock_guard<std::mutex> guard(mutex_);
    info_.remote = uri;
    info_.node_name = c.node_name();
    info_.store_id = c.store_id();
    info_.session_id = c.session_id();
    info_.heartbeat_ms = c.heartbeat_ms();
    info_.inactivity_timeout_ms = c.inactivity_timeout_ms();
    info_.failover_uris.assign(c.failover_uris().begin(), c.failover_uris().end());
    learn_uris(info_.failover_uris);
    // Heartbeats often enough for the node's inactivity timeout, whatever was asked for.
    send_heartbeat_ms_ = options_.heartbeat_ms;
    if (send_heartbeat_ms_ > 0 && c.inactivity_timeout_ms() > 0)
      send_heartbeat_ms_ =
          std::min(send_heartbeat_ms_, std::max(1u, c.inactivity_timeout_ms() / 3));
  }
  if (auto replayed = replay(t, generation); !replayed) {
    failure why{make_error_code(client_errc::connection_failed),
                "reconnecting to " + uri + " failed: " + replayed.message()};
    drop_attempt(t, generation, why);
    return why;
  }
  bool resumed = false;
  {
    std::lock_guard<std::mutex> guard(mutex_);
    resumed = !first;
    ever_connected_ = true;
    last_uri_ = uri;
    if (resumed)
      ++info_.failovers;
  }
  if (resumed && options_.on_resumed)
    options_.on_resumed(uri);
  return {};
}

result<void> session::replay(const std::shared_ptr<transport>& t, uint64_t generation) {
  auto lost = [&] {
    return make_failure(client_errc::connection_lost, "the connection ended during the replay");
  };
  // 1. Consumers, with their ids and fresh credit (those being opened by the application are
  // opened by its own request, resent below).
  std::vector<std::shared_ptr<consumer_state>> consumers;
  {
    std::lock_guard<std::mutex> guard(mutex_);
    if (live_generation_ != generation || ended_)
      return lost();
    std::set<uint64_t> opening;
    for (auto& [id, p] : pending_)
      if (p.sent_generation == 0 && p.frame && p.frame->has_open_consumer())
        opening.insert(p.frame->open_consumer().consumer_id());
    for (auto& [id, c] : consumers_)
      if (opening.count(id) == 0)
        consumers.push_back(c);
  }
  for (auto& c : consumers) {
    auto frame = open_consumer_frame(*c);
    {
      std::lock_guard<std::mutex> guard(mutex_);
      if (live_generation_ != generation || ended_)
        return lost();
      auto correlation_id = ++next_correlation_;
      frame.set_correlation_id(correlation_id);
      pending_request p;
      std::weak_ptr<consumer_state> weak = c;
      p.handler = [weak](result<wire::Frame> r) {
        if (r || !is_broker_error(r.code()))
          return;
        if (auto c = weak.lock())
          c->fail(r.error()); // the new node refused the consumer
      };
      p.internal = true;
      p.sent_generation = generation;
      p.timeout = options_.request_timeout;
      p.deadline = deadline_after(options_.request_timeout);
      pending_.emplace(correlation_id, std::move(p));
    }
    if (auto sent = t->send(frame); !sent)
      return sent.error();
  }
  // 2. Requests waiting to be (re)sent, oldest first, until none is left; then new writes may go.
  while (true) {
    std::vector<std::pair<uint64_t, std::shared_ptr<const wire::Frame>>> batch;
    std::vector<pending_request> closes;
    {
      std::lock_guard<std::mutex> guard(mutex_);
      if (live_generation_ != generation || ended_)
        return lost();
      std::vector<uint64_t> close_ids;
      for (auto& [id, p] : pending_) {
        if (p.sent_generation != 0)
          continue;
        if (p.frame && p.frame->has_close_consumer())
          close_ids.push_back(id);
        else
          batch.emplace_back(id, p.frame);
      }
      for (auto id : close_ids)
        if (auto p = take_pending_locked(id))
          closes.push_back(std::move(*p));
      if (batch.empty() && closes.empty()) {
        connected_ = true;
        interrupted_ = false;
        break;
      }
      for (auto& [id, frame] : batch) {
        auto& p = pending_.at(id);
        p.sent_generation = generation;
        p.deadline = deadline_after(p.timeout);
      }
    }
    for (auto& p : closes)
      p.handler(receipt_frame(p.frame->correlation_id()));
    std::sort(batch.begin(), batch.end(),
              [](const auto& a, const auto& b) { return a.first < b.first; });
    for (auto& [id, frame] : batch)
      if (auto sent = t->send(*frame); !sent)
        return sent.error();
    last_sent_ns_ = steady_ns();
  }
  connected_cv_.notify_all();
  return {};
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
      if (is_broker_error(done.code()) && broker_code(done.code()) != wire::ERROR_SHUTTING_DOWN)
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
      if (!failover_ || epoch || sent.code() == client_errc::bad_argument)
        return sent;
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

void session::note_handed(uint64_t identity, uint64_t epoch) {
  if (identity == 0)
    return;
  std::lock_guard<std::mutex> guard(seen_mutex_);
  auto [it, added] = seen_.insert_or_assign(identity, epoch);
  (void)it;
  if (!added)
    return;
  seen_order_.push_back(identity);
  while (seen_order_.size() > seen_capacity) {
    seen_.erase(seen_order_.front());
    seen_order_.pop_front();
  }
}

void session::note_acked(const std::vector<uint64_t>& identities) {
  std::lock_guard<std::mutex> guard(seen_mutex_);
  for (const auto& id : identities)
    seen_.erase(id);
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

void session::on_link_frame(uint64_t generation, wire::Frame& frame) {
  last_received_ns_ = steady_ns();
  if (auto correlation_id = frame.correlation_id(); correlation_id != 0) {
    std::optional<pending_request> p;
    {
      std::lock_guard<std::mutex> guard(mutex_);
      if (generation != live_generation_)
        return; // a transport that failed already
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
    route_dispatch(generation, frame);
    break;
  case wire::Frame::kError: {
    std::shared_ptr<transport> t;
    std::string remote;
    {
      std::lock_guard<std::mutex> guard(mutex_);
      if (generation != live_generation_)
        return;
      t = live_.t;
      remote = live_.uri;
    }
    auto why = broker_failure(frame.error());
    why.what = "the broker at " + remote + " closed the connection: " + why.what;
    if (failover_ && frame.error().code() == wire::ERROR_SHUTTING_DOWN) {
      why.code = make_error_code(client_errc::connection_lost);
      t->abort(why); // fails over (the link failure)
      break;
    }
    fail(why);
    t->abort(why);
    break;
  }
  case wire::Frame::kClusterUpdate: {
    std::lock_guard<std::mutex> guard(mutex_);
    if (generation != live_generation_)
      return;
    const auto& uris = frame.cluster_update().failover_uris();
    info_.failover_uris.assign(uris.begin(), uris.end());
    learn_uris(info_.failover_uris);
    break;
  }
  default:
    break; // heartbeats, and uncorrelated answers nobody waits for
  }
}

void session::route_dispatch(uint64_t generation, wire::Frame& frame) {
  std::shared_ptr<consumer_state> c;
  uint64_t epoch = 0;
  {
    std::lock_guard<std::mutex> guard(mutex_);
    if (generation != live_generation_)
      return;
    auto it = consumers_.find(frame.dispatch().consumer_id());
    if (it == consumers_.end())
      return; // a consumer closed meanwhile: the node redelivers what it had dispatched
    c = it->second;
    epoch = epoch_;
  }
  auto m = to_message(std::move(*frame.mutable_dispatch()));
  m.failover_epoch = epoch;
  if (failover_ && epoch > 0) {
    // Handed to the application before a failover and not acknowledged since: the new node
    // cannot know that it was delivered before.
    std::lock_guard<std::mutex> guard(seen_mutex_);
    auto it = seen_.find(identity_of(m));
    if (it != seen_.end() && it->second < epoch) {
      m.redelivered = true;
      m.delivery_count = std::max<uint32_t>(m.delivery_count, 2);
    }
  }
  {
    std::lock_guard<std::mutex> guard(c->mutex);
    if (c->closed || c->epoch != epoch)
      return;
    c->buffer.push_back(std::move(m));
  }
  c->cv.notify_one();
}

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

void session::keeper_loop() {
  std::unique_lock<std::mutex> guard(mutex_);
  const auto failover_timeout = std::chrono::milliseconds(url_.options.timeout_ms);
  while (!keeper_stop_) {
    keeper_cv_.wait_for(guard, keeper_tick);
    if (keeper_stop_ || ended_)
      return;
    // Requests past their deadline, and (failover) requests waiting too long for a connection.
    auto now = clock::now();
    std::vector<uint64_t> expired;
    std::vector<uint64_t> unconnected;
    for (auto& [id, p] : pending_) {
      if (p.sent_generation != 0 && p.deadline <= now)
        expired.push_back(id);
      else if (p.sent_generation == 0 && failover_ && failover_timeout.count() > 0 &&
               p.waiting_since + failover_timeout <= now)
        unconnected.push_back(id);
    }
    std::vector<pending_request> timed_out;
    for (auto id : expired)
      if (auto p = take_pending_locked(id))
        timed_out.push_back(std::move(*p));
    std::vector<pending_request> no_connection;
    for (auto id : unconnected)
      if (auto p = take_pending_locked(id))
        no_connection.push_back(std::move(*p));
    bool connected = connected_;
    uint32_t node_heartbeat = info_.heartbeat_ms;
    uint32_t send_heartbeat = send_heartbeat_ms_;
    auto live = live_;
    auto uris = uris_;
    guard.unlock();
    for (auto& p : timed_out)
      p.handler(make_failure(client_errc::timeout, "the broker at " + live.uri +
                                                       " did not answer within " +
                                                       std::to_string(p.timeout.count()) + " ms"));
    for (auto& p : no_connection)
      p.handler(make_failure(client_errc::timeout, "no connection to any of " + uri_list(uris) +
                                                       " within the failover timeout of " +
                                                       std::to_string(failover_timeout.count()) +
                                                       " ms"));
    if (connected && live.t) {
      auto now_ns = steady_ns();
      // Silence from the node.
      if (node_heartbeat > 0) {
        auto limit = std::max<int64_t>(3 * int64_t{node_heartbeat}, min_silence_limit.count());
        auto silent_ms = (now_ns - last_received_ns_.load()) / 1000000;
        if (silent_ms > limit) {
          auto why = make_failure(client_errc::connection_lost,
                                  "the broker at " + live.uri + " sent nothing for " +
                                      std::to_string(silent_ms) + " ms");
          live.t->abort(why);
          on_link_failure(live.generation, why);
          guard.lock();
          continue;
        }
      }
      // Our heartbeat.
      if (send_heartbeat > 0 &&
          (now_ns - last_sent_ns_.load()) / 1000000 >= int64_t{send_heartbeat}) {
        wire::Frame beat;
        beat.mutable_heartbeat();
        auto sent = live.t->try_send(beat);
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

} // namespace actormq::client::detail
