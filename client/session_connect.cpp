// One connection attempt: start a transport, do the Connect handshake, and after a failover replay
// the state (reopen consumers, resend the waiting requests in order) before new writes may go.
#include "client/session.hpp"

#include <algorithm>
#include <future>
#include <set>

namespace actormq::client::detail {

struct session::link final : transport_listener {
  link(session* s, uint64_t generation) : owner(s), generation(generation) {}
  void on_frame(wire::Frame& frame) override { owner->on_link_frame(generation, frame); }
  void on_failure(const failure& why) override { owner->on_link_failure(generation, why); }
  session* owner;
  uint64_t generation;
};

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

} // namespace actormq::client::detail
