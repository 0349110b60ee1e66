// Temporary destinations and request/reply (connection.hpp).
#include "client/connection.hpp"
#include "client/session.hpp"

#include <mutex>

namespace actormq::client {

using detail::make_failure;

result<std::string> connection::create_temporary(const char* scheme) {
  auto name = std::string(scheme) + "://ID:" + session_->client_id() + ":" +
              std::to_string(next_temporary_.fetch_add(1));
  // The node makes a temporary destination on its owner's first use: a consumer opened and
  // closed makes it before this returns, so that others may send to it at once.
  auto made = create_consumer(name);
  if (!made)
    return made.error();
  if (auto closed = (*made)->close(); !closed)
    return closed.error();
  return name;
}

result<std::string> connection::create_temporary_queue() {
  return create_temporary("temp-queue");
}

result<std::string> connection::create_temporary_topic() {
  return create_temporary("temp-topic");
}

result<message> connection::request(const std::string& destination, std::string body,
                                    request_options options) {
  if (!requestor_)
    return make_failure(client_errc::closed, "the connection is closed");
  auto& r = *requestor_;
  std::lock_guard<std::mutex> guard(r.mutex);
  if (!r.replies) {
    auto name = std::string("temp-queue://ID:") + session_->client_id() + ":" +
                std::to_string(next_temporary_.fetch_add(1));
    auto replies = create_consumer(name);
    if (!replies)
      return replies.error();
    r.reply_queue = name;
    r.replies = std::move(*replies);
  }
  producer_options po;
  po.persistent = options.persistent;
  auto prod = create_producer(destination, po);
  if (!prod)
    return prod.error();
  message_headers headers;
  headers.correlation_id = "ID:" + detail::random_hex(16);
  headers.reply_to = r.reply_queue;
  if (auto sent = (*prod)->send(std::move(body), options.props, {}, headers); !sent)
    return sent.error();
  if (auto flushed = (*prod)->close(); !flushed)
    return flushed.error();
  auto deadline = std::chrono::steady_clock::now() + options.timeout;
  while (true) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0)
      return make_failure(client_errc::timeout,
                          "no reply to the request sent to " + destination + " within " +
                              std::to_string(options.timeout.count()) + " ms");
    auto reply = r.replies->receive(left);
    if (!reply)
      return reply.error();
    if (*reply && (*reply)->correlation_id == headers.correlation_id)
      return std::move(**reply);
  }
}

} // namespace actormq::client
