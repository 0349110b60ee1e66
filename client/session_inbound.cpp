// Frames from the node, on the transport's reader thread: answers to pending requests, dispatches
// routed to their consumer's buffer, broker errors that end the connection, cluster updates.
#include "client/session.hpp"

namespace actormq::client::detail {

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
  mark_if_seen(m, epoch);
  {
    std::lock_guard<std::mutex> guard(c->mutex);
    if (c->closed || c->epoch != epoch)
      return;
    c->buffer.push_back(std::move(m));
  }
  c->cv.notify_one();
}

} // namespace actormq::client::detail
