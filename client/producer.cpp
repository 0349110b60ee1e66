#include "client/producer.hpp"
#include "client/session.hpp"
#include "protocol/destination.hpp"

namespace actormq::client {

using detail::make_failure;

producer::producer(std::shared_ptr<detail::session> session,
                   std::shared_ptr<detail::producer_state> state)
    : session_(std::move(session)), state_(std::move(state)) {}

producer::~producer() {
  session_->remove_producer(state_.get());
}

result<void> producer::send(std::string body, properties props) {
  return send(std::move(body), std::move(props), {});
}

result<void> producer::send(std::string body, properties props, typed_properties typed) {
  return send(std::move(body), std::move(props), std::move(typed), message_headers{});
}

result<void> producer::send(std::string body, properties props, typed_properties typed,
                            const message_headers& headers) {
  if (!headers.reply_to.empty())
    if (auto reply_to = protocol::canonical_destination(headers.reply_to); !reply_to)
      return make_failure(client_errc::bad_argument, "bad reply-to destination '" +
                                                         headers.reply_to +
                                                         "': " + reply_to.message());
  auto& s = *state_;
  uint64_t sequence = 0;
  {
    std::lock_guard<std::mutex> guard(s.mutex);
    if (s.closed)
      return make_failure(client_errc::closed, "the producer is closed");
    if (s.unreported) {
      auto why = std::move(*s.unreported);
      s.unreported.reset();
      return why;
    }
    sequence = s.sequence + 1;
  }
  if (auto open = session_->check_open(); !open)
    return open;

  wire::Frame frame;
  auto* m = frame.mutable_send()->mutable_message();
  m->set_destination(s.destination);
  *m->mutable_body() = std::move(body);
  m->set_persistent(s.options.persistent);
  m->set_priority(s.options.priority);
  auto now = detail::now_ms();
  m->set_timestamp_ms(now);
  if (s.options.time_to_live_ms > 0)
    m->set_expiration_ms(now + s.options.time_to_live_ms);
  m->set_producer_id(s.id);
  m->set_producer_sequence(sequence);
  if (!headers.correlation_id.empty())
    m->set_correlation_id(headers.correlation_id);
  if (!headers.reply_to.empty())
    m->set_reply_to(*protocol::canonical_destination(headers.reply_to));
  for (auto& [key, value] : props)
    (*m->mutable_properties())[key] = std::move(value);
  for (auto& [key, value] : typed) {
    if (props.count(key))
      continue; // a name is in one of the two maps only: the string one wins
    auto& v = (*m->mutable_typed_properties())[key];
    std::visit(
        [&v](auto x) {
          using T = decltype(x);
          if constexpr (std::is_same_v<T, bool>)
            v.set_bool_value(x);
          else if constexpr (std::is_same_v<T, int32_t>)
            v.set_int_value(x);
          else if constexpr (std::is_same_v<T, int64_t>)
            v.set_long_value(x);
          else
            v.set_double_value(x);
        },
        value);
  }

  if (s.options.transacted) {
    // Held by the node until the connection's commit(): no receipt to wait for.
    auto [transaction, epoch] = session_->join_transaction(state_);
    frame.mutable_send()->set_transaction_id(transaction);
    {
      std::lock_guard<std::mutex> guard(s.mutex);
      s.sequence = sequence;
    }
    return session_->send_oneway(frame, epoch);
  }

  if (!s.options.persistent) {
    {
      std::lock_guard<std::mutex> guard(s.mutex);
      s.sequence = sequence;
    }
    return session_->send_oneway(frame);
  }

  if (s.options.async_window == 0) {
    {
      std::lock_guard<std::mutex> guard(s.mutex);
      s.sequence = sequence;
      ++s.outstanding;
    }
    auto reply = session_->request(std::move(frame), true);
    result<void> outcome;
    if (!reply)
      outcome = reply.error();
    if (s.options.on_complete)
      s.options.on_complete(sequence, outcome);
    {
      std::lock_guard<std::mutex> guard(s.mutex);
      --s.outstanding;
      if (reply) {
        ++s.receipted;
        if (reply->has_receipt() && reply->receipt().duplicates() > 0)
          ++s.duplicates;
      }
    }
    s.cv.notify_all();
    return outcome;
  }

  {
    std::unique_lock<std::mutex> guard(s.mutex);
    s.cv.wait(guard, [&] { return s.outstanding < s.options.async_window; });
    s.sequence = sequence;
    ++s.outstanding;
  }
  auto state = state_;
  session_->request_async(
      std::move(frame),
      [state, sequence](result<wire::Frame> reply) {
        // The callback runs before the send stops counting as outstanding, so flush()
        // returns only after every callback ran.
        result<void> outcome;
        if (!reply)
          outcome = reply.error();
        if (state->options.on_complete)
          state->options.on_complete(sequence, outcome);
        {
          std::lock_guard<std::mutex> guard(state->mutex);
          --state->outstanding;
          if (reply) {
            ++state->receipted;
            if (reply->has_receipt() && reply->receipt().duplicates() > 0)
              ++state->duplicates;
          } else if (!state->unreported) {
            state->unreported = reply.error();
          }
        }
        state->cv.notify_all();
      },
      true);
  return {};
}

result<void> producer::flush() {
  auto& s = *state_;
  std::unique_lock<std::mutex> guard(s.mutex);
  s.cv.wait(guard, [&] { return s.outstanding == 0; });
  if (s.unreported) {
    auto why = std::move(*s.unreported);
    s.unreported.reset();
    return why;
  }
  return {};
}

result<void> producer::close() {
  auto flushed = flush();
  {
    std::lock_guard<std::mutex> guard(state_->mutex);
    state_->closed = true;
  }
  session_->remove_producer(state_.get());
  return flushed;
}

const std::string& producer::id() const {
  return state_->id;
}

const std::string& producer::destination() const {
  return state_->destination;
}

uint64_t producer::sent() const {
  std::lock_guard<std::mutex> guard(state_->mutex);
  return state_->sequence;
}

uint64_t producer::receipted() const {
  std::lock_guard<std::mutex> guard(state_->mutex);
  return state_->receipted;
}

uint64_t producer::duplicates() const {
  std::lock_guard<std::mutex> guard(state_->mutex);
  return state_->duplicates;
}

uint64_t producer::outstanding() const {
  std::lock_guard<std::mutex> guard(state_->mutex);
  return state_->outstanding;
}

} // namespace actormq::client
