// The session's keeper thread: fails requests past their deadline (and, with failover, those that
// waited too long for a connection), sends our heartbeats and fails over (or ends the connection)
// when the node has been silent too long.
#include "client/session.hpp"

#include <algorithm>

namespace actormq::client::detail {

namespace {

constexpr std::chrono::milliseconds keeper_tick{50};
constexpr std::chrono::milliseconds min_silence_limit{1000};

} // namespace

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

} // namespace actormq::client::detail
