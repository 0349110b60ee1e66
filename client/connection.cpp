#include "client/connection.hpp"
#include "client/failover.hpp"
#include "client/session.hpp"
#include "protocol/destination.hpp"
#include "protocol/destination_options.hpp"
#include "protocol/destination_pattern.hpp"
#include "protocol/uri.hpp"

namespace actormq::client {

using detail::make_failure;

namespace {

result<std::string> destination_of(const std::string& text) {
  auto canonical = protocol::canonical_destination(text);
  if (!canonical)
    return make_failure(client_errc::bad_argument,
                        "bad destination '" + text + "': " + canonical.message());
  return std::move(*canonical);
}

// A producer's: one destination or a composite one (no wildcards).
result<std::string> send_destination_of(const std::string& text) {
  auto parts = protocol::parse_composite_destination(text);
  if (!parts)
    return make_failure(client_errc::bad_argument,
                        "bad destination '" + text + "': " + parts.message());
  return protocol::composite_destination_uri(*parts);
}

// A consumer's: one destination or a composite one, with or without wildcards.
result<std::string> consumer_destination_of(const std::string& text) {
  auto parts = protocol::parse_subscription_patterns(text);
  if (!parts)
    return make_failure(client_errc::bad_argument,
                        "bad destination '" + text + "': " + parts.message());
  return protocol::composite_text(*parts);
}

} // namespace

connection::connection(std::shared_ptr<detail::session> session)
    : session_(std::move(session)), requestor_(std::make_shared<requestor>()) {}

connection::~connection() {
  (void)close();
}

result<std::unique_ptr<connection>> connection::open(std::unique_ptr<transport> transport,
                                                     connection_options options) {
  if (!transport)
    return make_failure(client_errc::bad_argument, "no transport given");
  auto session = std::make_shared<detail::session>(std::move(transport), std::move(options));
  if (auto started = session->start(); !started)
    return started.error();
  return std::unique_ptr<connection>(new connection(std::move(session)));
}

result<std::unique_ptr<connection>> connection::open(const std::string& broker_url,
                                                     connection_options options) {
  auto url = protocol::parse_broker_url(broker_url);
  if (!url)
    return make_failure(client_errc::bad_argument,
                        "bad broker URL '" + broker_url + "': " + url.message());
  if (url->scheme != "tcp" && url->scheme != "failover")
    return make_failure(client_errc::bad_argument, "bad broker URL '" + broker_url +
                                                       "': a client connects to tcp:// or " +
                                                       "failover: URLs, not " + url->scheme + ":");
  if (url->members.empty())
    return make_failure(client_errc::bad_argument,
                        "bad broker URL '" + broker_url + "': it names no broker");
  if (url->scheme == "tcp") {
    tcp_transport_options transport_options;
    transport_options.connect_timeout =
        member_connect_timeout(url->members.front(), options.connect_timeout);
    transport_options.max_frame_bytes = options.max_frame_bytes;
    return open(std::make_unique<tcp_transport>(url->members.front(), transport_options),
                std::move(options));
  }
  auto failover = parse_failover_options(*url);
  if (!failover)
    return make_failure(client_errc::bad_argument,
                        "bad broker URL '" + broker_url + "': " + failover.message());
  auto session = std::make_shared<detail::session>(std::move(*failover), std::move(options));
  if (auto started = session->start(); !started)
    return started.error();
  return std::unique_ptr<connection>(new connection(std::move(session)));
}

result<std::unique_ptr<producer>> connection::create_producer(const std::string& destination,
                                                              producer_options options) {
  auto dest = send_destination_of(destination);
  if (!dest)
    return dest.error();
  if (options.priority < 0 || options.priority > 9)
    return make_failure(client_errc::bad_argument, "bad producer priority " +
                                                       std::to_string(options.priority) +
                                                       ": it must be within 0..9");
  if (options.time_to_live_ms < 0)
    return make_failure(client_errc::bad_argument, "bad time to live " +
                                                       std::to_string(options.time_to_live_ms) +
                                                       " ms: it must not be negative");
  if (auto open = session_->check_open(); !open)
    return open.error();
  auto state = std::make_shared<detail::producer_state>();
  state->id = detail::random_hex(16);
  state->destination = std::move(*dest);
  state->options = std::move(options);
  session_->add_producer(state);
  return std::unique_ptr<producer>(new producer(session_, std::move(state)));
}

result<std::unique_ptr<consumer>> connection::create_consumer(const std::string& text,
                                                              consumer_options options) {
  // ActiveMQ's consumer options on the destination: "queue://q?consumer.exclusive=true".
  auto split = protocol::split_destination_options(text);
  if (!split)
    return make_failure(client_errc::bad_argument,
                        "bad destination '" + text + "': " + split.message());
  if (split->consumer.exclusive)
    options.exclusive = true;
  if (split->consumer.has_priority)
    options.priority = split->consumer.priority;
  auto dest = consumer_destination_of(split->destination);
  if (!dest)
    return dest.error();
  if (options.durable) {
    if (dest->rfind("topic://", 0) != 0 || protocol::is_composite(*dest))
      return make_failure(client_errc::bad_argument,
                          "a durable subscription is made on a topic, not on " + *dest);
    if (session_->options().client_id.empty())
      return make_failure(client_errc::bad_argument,
                          "a durable subscription needs a client id (clientId) on the connection");
    if (options.subscription_name.empty())
      return make_failure(client_errc::bad_argument,
                          "a durable subscription needs a subscription name (subscriptionName)");
  }
  if (auto open = session_->check_open(); !open)
    return open.error();
  auto state = std::make_shared<detail::consumer_state>();
  state->id = session_->next_consumer_id();
  state->destination = *dest;
  state->options = options;
  if (options.transacted)
    state->options.mode = ack_mode::client_acknowledge;
  state->batch = std::max<uint32_t>(1, options.prefetch / 2);
  session_->add_consumer(state);

  auto reply = session_->request(detail::open_consumer_frame(*state));
  if (!reply) {
    session_->remove_consumer(state->id);
    return reply.error();
  }
  return std::unique_ptr<consumer>(new consumer(session_, std::move(state)));
}

result<browse_result> connection::browse(const std::string& destination, uint32_t max_messages) {
  auto dest = destination_of(destination);
  if (!dest)
    return dest.error();
  wire::Frame frame;
  frame.mutable_browse()->set_destination(*dest);
  frame.mutable_browse()->set_max_messages(max_messages);
  auto reply = session_->request(std::move(frame));
  if (!reply)
    return reply.error();
  if (!reply->has_browse_reply())
    return make_failure(client_errc::protocol_error,
                        std::string("the broker answered Browse with ") +
                            protocol::command_name(*reply));
  browse_result out;
  auto* r = reply->mutable_browse_reply();
  out.pending = r->pending();
  out.messages.reserve(static_cast<size_t>(r->messages_size()));
  for (auto& d : *r->mutable_messages())
    out.messages.push_back(detail::to_message(std::move(d)));
  return out;
}

result<std::vector<destination_stats>> connection::stats() {
  wire::Frame frame;
  frame.mutable_stats_request();
  auto reply = session_->request(std::move(frame));
  if (!reply)
    return reply.error();
  if (!reply->has_stats_reply())
    return make_failure(client_errc::protocol_error,
                        std::string("the broker answered StatsRequest with ") +
                            protocol::command_name(*reply));
  std::vector<destination_stats> out;
  for (const auto& d : reply->stats_reply().destinations()) {
    destination_stats s;
    s.name = d.name();
    s.pending = d.pending();
    s.consumers = d.consumers();
    s.enqueued = d.enqueued();
    s.dequeued = d.dequeued();
    s.in_flight = d.in_flight();
    s.duplicates_dropped = d.duplicates_dropped();
    s.memory_bytes = d.memory_bytes();
    s.flow_controlled = d.flow_controlled();
    s.discarded = d.discarded();
    out.push_back(std::move(s));
  }
  return out;
}

result<uint64_t> connection::purge(const std::string& destination) {
  auto dest = destination_of(destination);
  if (!dest)
    return dest.error();
  wire::Frame frame;
  frame.mutable_purge()->set_destination(*dest);
  auto reply = session_->request(std::move(frame));
  if (!reply)
    return reply.error();
  if (!reply->has_receipt())
    return make_failure(client_errc::protocol_error,
                        std::string("the broker answered Purge with ") +
                            protocol::command_name(*reply));
  return reply->receipt().count();
}

result<uint64_t> connection::retry(const std::string& destination, uint32_t max_messages) {
  auto dest = destination_of(destination);
  if (!dest)
    return dest.error();
  wire::Frame frame;
  frame.mutable_retry()->set_destination(*dest);
  frame.mutable_retry()->set_max_messages(max_messages);
  auto reply = session_->request(std::move(frame));
  if (!reply)
    return reply.error();
  if (!reply->has_receipt())
    return make_failure(client_errc::protocol_error,
                        std::string("the broker answered Retry with ") +
                            protocol::command_name(*reply));
  return reply->receipt().count();
}

result<uint64_t> connection::unsubscribe(const std::string& subscription_name) {
  if (session_->options().client_id.empty())
    return make_failure(client_errc::bad_argument,
                        "unsubscribe needs a client id (clientId) on the connection");
  if (subscription_name.empty())
    return make_failure(client_errc::bad_argument,
                        "unsubscribe needs a subscription name (subscriptionName)");
  wire::Frame frame;
  frame.mutable_unsubscribe()->set_subscription_name(subscription_name);
  auto reply = session_->request(std::move(frame));
  if (!reply)
    return reply.error();
  if (!reply->has_receipt())
    return make_failure(client_errc::protocol_error,
                        std::string("the broker answered Unsubscribe with ") +
                            protocol::command_name(*reply));
  return reply->receipt().count();
}

result<void> connection::close() {
  return session_->close();
}

bool connection::is_open() const {
  return session_->is_open();
}

std::optional<failure> connection::last_failure() const {
  return session_->last_failure();
}

broker_info connection::info() const {
  return session_->info();
}

result<void> connection::commit() {
  return session_->end_transaction(true);
}

result<void> connection::rollback() {
  return session_->end_transaction(false);
}

} // namespace actormq::client
