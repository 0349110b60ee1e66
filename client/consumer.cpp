#include "client/consumer.hpp"
#include "client/session.hpp"

#include <algorithm>

namespace actormq::client {

using detail::make_failure;
using std::chrono::milliseconds;

namespace {

wire::Frame ack_frame(uint64_t consumer_id, const std::vector<uint64_t>& keys) {
  wire::Frame frame;
  auto* ack = frame.mutable_ack();
  ack->set_consumer_id(consumer_id);
  for (auto key : keys)
    ack->add_delivery_keys(key);
  return frame;
}

wire::Frame credit_frame(uint64_t consumer_id, uint32_t n) {
  wire::Frame frame;
  frame.mutable_credit()->set_consumer_id(consumer_id);
  frame.mutable_credit()->set_credit(n);
  return frame;
}

failure closed_failure() {
  return make_failure(client_errc::closed, "the consumer is closed");
}

// Takes the next message from the prefetch buffer, returning credit and acknowledgements in
// batches. Auto mode: the message receive() returned last counts as handed over (and joins the
// acks) when the application comes back for the next one or closes, so a crash while it handles a
// message brings that message again (at-least-once); with a listener (`defer_auto_ack`) the
// listener loop acknowledges after the listener returned. Before it waits, take() sends the
// auto-acks it holds. deadline nullopt = no deadline.
result<std::optional<message>> take(detail::session& session, detail::consumer_state& c,
                                    std::optional<detail::clock::time_point> deadline,
                                    bool defer_auto_ack) {
  std::unique_lock<std::mutex> guard(c.mutex);
  if (c.handed) {
    c.auto_acks.push_back(*c.handed);
    c.handed.reset();
  }
  if (c.auto_acks.size() >= c.batch && !c.closed && !c.failed) {
    auto frame = ack_frame(c.id, c.auto_acks);
    auto epoch = c.epoch;
    c.auto_acks.clear();
    guard.unlock();
    (void)session.send_oneway(frame, epoch);
    guard.lock();
  }
  while (true) {
    if (c.closed)
      return closed_failure();
    if (c.failed)
      return *c.failed;
    if (!c.buffer.empty())
      break;
    if (!c.auto_acks.empty()) {
      auto frame = ack_frame(c.id, c.auto_acks);
      auto epoch = c.epoch;
      c.auto_acks.clear();
      guard.unlock();
      (void)session.send_oneway(frame, epoch); // a failure ends the connection: see above
      guard.lock();
      continue;
    }
    if (deadline) {
      if (detail::clock::now() >= *deadline)
        return std::optional<message>{};
      c.cv.wait_until(guard, *deadline);
    } else {
      c.cv.wait(guard);
    }
  }
  auto m = std::move(c.buffer.front());
  c.buffer.pop_front();
  ++c.received;
  std::optional<wire::Frame> credit;
  if (++c.taken >= c.batch) {
    credit = credit_frame(c.id, c.taken);
    c.taken = 0;
  }
  uint64_t identity = 0;
  if (session.failover())
    identity = detail::identity_of(m);
  if (c.options.mode != ack_mode::auto_acknowledge)
    c.unacked.emplace_back(m.delivery_key, identity);
  else if (!defer_auto_ack)
    c.handed = m.delivery_key;
  auto epoch = c.epoch;
  guard.unlock();
  if (identity != 0)
    session.note_handed(identity, m.failover_epoch);
  if (credit)
    (void)session.send_oneway(*credit, epoch);
  return std::optional<message>{std::move(m)};
}

void listener_loop(std::shared_ptr<detail::session> session,
                   std::shared_ptr<detail::consumer_state> c,
                   std::function<void(const message&)> listener,
                   std::function<void(const failure&)> on_error) {
  bool auto_ack = c->options.mode == ack_mode::auto_acknowledge;
  while (true) {
    auto next = take(*session, *c, std::nullopt, auto_ack);
    if (!next) {
      if (next.code() != client_errc::closed && on_error)
        on_error(next.error());
      return;
    }
    const auto& m = **next;
    listener(m);
    if (!auto_ack)
      continue;
    std::optional<wire::Frame> ack;
    uint64_t epoch = 0;
    {
      std::lock_guard<std::mutex> guard(c->mutex);
      if (c->closed || c->failed || c->epoch != m.failover_epoch)
        continue; // an older connection's delivery: it comes again
      c->auto_acks.push_back(m.delivery_key);
      epoch = c->epoch;
      if (c->auto_acks.size() >= c->batch) {
        ack = ack_frame(c->id, c->auto_acks);
        c->auto_acks.clear();
      }
    }
    if (ack)
      (void)session->send_oneway(*ack, epoch);
  }
}

} // namespace

consumer::consumer(std::shared_ptr<detail::session> session,
                   std::shared_ptr<detail::consumer_state> state)
    : session_(std::move(session)), state_(std::move(state)) {}

consumer::~consumer() {
  (void)close();
}

result<std::optional<message>> consumer::receive(std::chrono::milliseconds timeout) {
  {
    std::lock_guard<std::mutex> guard(state_->mutex);
    if (state_->has_listener)
      return make_failure(client_errc::bad_argument, "receive() on a consumer that has a listener");
  }
  // Clamped so that the deadline cannot overflow the clock.
  timeout = std::clamp(timeout, milliseconds{0}, milliseconds{std::chrono::hours(24 * 365)});
  return take(*session_, *state_, detail::clock::now() + timeout, false);
}

result<message> consumer::receive() {
  {
    std::lock_guard<std::mutex> guard(state_->mutex);
    if (state_->has_listener)
      return make_failure(client_errc::bad_argument, "receive() on a consumer that has a listener");
  }
  auto next = take(*session_, *state_, std::nullopt, false);
  if (!next)
    return next.error();
  return std::move(**next);
}

result<void> consumer::set_listener(std::function<void(const message&)> listener,
                                    std::function<void(const failure&)> on_error) {
  if (!listener)
    return make_failure(client_errc::bad_argument, "set_listener() needs a listener");
  std::lock_guard<std::mutex> guard(state_->mutex);
  if (state_->closed)
    return closed_failure();
  if (state_->has_listener)
    return make_failure(client_errc::bad_argument, "the consumer has a listener already");
  state_->has_listener = true;
  state_->listener_thread =
      std::thread(listener_loop, session_, state_, std::move(listener), std::move(on_error));
  return {};
}

result<void> consumer::acknowledge(const message& msg) {
  auto& c = *state_;
  if (c.options.mode == ack_mode::auto_acknowledge)
    return {};
  if (c.options.transacted)
    return make_failure(client_errc::bad_argument,
                        "a transacted consumer's messages are acknowledged by the connection's "
                        "commit(), not by acknowledge()");
  if (msg.consumer_id != c.id)
    return make_failure(client_errc::bad_argument,
                        "message " + std::to_string(msg.delivery_key) + " was delivered to " +
                            (msg.consumer_id == 0 ? std::string("no consumer (browsed)")
                                                  : "consumer " + std::to_string(msg.consumer_id)) +
                            ", not to consumer " + std::to_string(c.id));
  std::vector<std::pair<uint64_t, uint64_t>> acked;
  uint64_t epoch = 0;
  {
    std::lock_guard<std::mutex> guard(c.mutex);
    if (c.closed)
      return closed_failure();
    if (c.failed)
      return *c.failed;
    if (msg.failover_epoch != c.epoch)
      return make_failure(
          client_errc::failed_over,
          "message " + std::to_string(msg.delivery_key) +
              " was delivered before the connection failed over: it cannot be acknowledged "
              "any more and is delivered again, marked redelivered");
    epoch = c.epoch;
    if (c.options.mode == ack_mode::client_acknowledge) {
      acked.swap(c.unacked);
    } else {
      auto it = std::find_if(c.unacked.begin(), c.unacked.end(),
                             [&](const auto& u) { return u.first == msg.delivery_key; });
      if (it == c.unacked.end())
        return {}; // acknowledged already
      acked.push_back(*it);
      c.unacked.erase(it);
    }
  }
  if (acked.empty())
    return {};
  std::vector<uint64_t> keys;
  std::vector<uint64_t> identities;
  for (auto& [key, identity] : acked) {
    keys.push_back(key);
    if (identity != 0)
      identities.push_back(identity);
  }
  auto reply = session_->request(ack_frame(c.id, keys), false, epoch);
  if (!reply)
    return reply.error();
  if (!identities.empty())
    session_->note_acked(identities);
  return {};
}

result<void> consumer::close() {
  auto& c = *state_;
  std::vector<uint64_t> acks;
  std::thread listener;
  bool failed = false;
  uint64_t epoch = 0;
  {
    std::lock_guard<std::mutex> guard(c.mutex);
    if (c.closed)
      return {};
    c.closed = true;
    epoch = c.epoch;
    acks.swap(c.auto_acks);
    if (c.handed)
      acks.push_back(*c.handed);
    c.handed.reset();
    failed = c.failed.has_value();
    listener = std::move(c.listener_thread);
    c.buffer.clear(); // the node redelivers what it dispatched and nobody acknowledged
  }
  c.cv.notify_all();
  if (listener.joinable()) {
    if (listener.get_id() == std::this_thread::get_id())
      listener.detach();
    else
      listener.join();
  }
  // Auto-acks taken by the listener after `closed` was set are dropped with it: those messages
  // are redelivered.
  session_->remove_consumer(c.id);
  if (failed || !session_->check_open()) {
    if (acks.empty())
      return {};
    auto open = session_->check_open();
    return open ? result<void>{make_failure(client_errc::connection_lost,
                                            "the connection ended before the last "
                                            "acknowledgements were sent")}
                : open;
  }
  result<void> outcome;
  if (!acks.empty()) {
    // Auto-acks of an older connection were dropped with it (failed_over): those messages come
    // again, as auto acknowledgement allows.
    if (auto reply = session_->request(ack_frame(c.id, acks), false, epoch);
        !reply && reply.code() != client_errc::failed_over)
      outcome = reply.error();
  }
  wire::Frame frame;
  frame.mutable_close_consumer()->set_consumer_id(c.id);
  if (auto reply = session_->request(std::move(frame)); !reply && outcome)
    outcome = reply.error();
  return outcome;
}

uint64_t consumer::id() const {
  return state_->id;
}

const std::string& consumer::destination() const {
  return state_->destination;
}

uint64_t consumer::received() const {
  std::lock_guard<std::mutex> guard(state_->mutex);
  return state_->received;
}

} // namespace actormq::client
