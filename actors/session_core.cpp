#include "actors/session_core.hpp"

#include "actors/errors.hpp"
#include "actors/incoming.hpp"
#include "actors/scheduled_request.hpp"
#include "actors/session_transactions.hpp"
#include "common/same_secret.hpp"
#include "protocol/selector.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <cstdint>

namespace actormq::actors {

namespace {

using self_ptr = session_ptr;
using protocol::error_code;

// Commands a client may send behind its Connect before the node answered it.
constexpr size_t max_held_commands = 1024;

void with_queue(self_ptr self, const std::string& destination, destination_resolver::ready_fn fn,
                destination_resolver::fail_fn on_error) {
  self->state.resolver.resolve(self, self->state.ctx->broker, destination, std::move(fn),
                               std::move(on_error));
}

// The inactivity timeout of a connection whose client negotiated heartbeats (STOMP), as
// ActiveMQ does: a client that promised none is never closed for silence; one that promised
// some is closed after twice its interval of silence, never sooner than the node's timeout.
uint32_t negotiated_inactivity_timeout(uint32_t node_timeout_ms, uint32_t client_heartbeat_ms) {
  if (node_timeout_ms == 0 || client_heartbeat_ms == 0)
    return 0;
  return static_cast<uint32_t>(std::min<uint64_t>(
      UINT32_MAX, std::max<uint64_t>(node_timeout_ms, 2ull * client_heartbeat_ms)));
}

// True for the commands the session answers when they carry a request id.
bool awaits_answer(const protocol::command_body& body) {
  return std::holds_alternative<protocol::send_command>(body) ||
         std::holds_alternative<protocol::open_consumer_command>(body) ||
         std::holds_alternative<protocol::close_consumer_command>(body) ||
         std::holds_alternative<protocol::ack_command>(body) ||
         std::holds_alternative<protocol::browse_command>(body) ||
         std::holds_alternative<protocol::purge_command>(body) ||
         std::holds_alternative<protocol::stats_command>(body) ||
         std::holds_alternative<protocol::unsubscribe_command>(body) ||
         std::holds_alternative<protocol::begin_command>(body) ||
         std::holds_alternative<protocol::commit_command>(body) ||
         std::holds_alternative<protocol::rollback_command>(body) ||
         std::holds_alternative<protocol::retry_command>(body);
}

// A send without a receipt request failed: nobody is told but the log, once a second at most
// (a producer refused under flow control would otherwise write a line per message).
void log_lost_send(self_ptr self, const caf::error& err) {
  auto& st = self->state;
  ++st.lost_sends;
  ++st.lost_sends_unlogged;
  auto now = session_state::clock::now();
  if (st.lost_sends > 1 && now - st.lost_sends_logged < std::chrono::seconds(1))
    return;
  spdlog::warn("session {} lost {} unreceipted sends ({} in all): {}", st.session_id,
               st.lost_sends_unlogged, st.lost_sends, error_text(err));
  st.lost_sends_unlogged = 0;
  st.lost_sends_logged = now;
}

void handle_disconnect(self_ptr self, uint64_t request) {
  auto& st = self->state;
  if (request == 0) {
    client_leaves(self);
    return;
  }
  // The receipt says that every frame before it is done: it waits for their answers.
  st.disconnect_request = request;
  disconnect_if_due(self);
}

// True if the client may connect: no users are configured, or it named one with its password.
// Every user's password is compared (in constant time), so that the time taken does not tell
// whether the name was known.
bool credentials_accepted(const session_context& ctx, const protocol::connect_command& c) {
  if (ctx.users.empty())
    return true;
  bool accepted = false;
  for (auto& [username, password] : ctx.users)
    accepted |= (username == c.user) & same_secret(password, c.password);
  return accepted;
}

// Connected: the client may go on.
void finish_connect(self_ptr self, uint64_t request) {
  auto& st = self->state;
  st.connected = true;
  if (st.acceptor)
    self->send(st.acceptor, connect_atom::value);
  protocol::connected_event out;
  out.node_name = st.ctx->node_name;
  out.store_id = st.ctx->store_id;
  out.session_id = st.session_id;
  out.heartbeat_ms = st.ctx->heartbeat_ms;
  out.inactivity_timeout_ms = st.ctx->inactivity_timeout_ms;
  out.failover_uris = st.ctx->failover_uris;
  emit(self, request, out);
  spdlog::debug("session {} connected: client {} from {}", st.session_id, st.client_id, st.peer);
}

void handle_connect(self_ptr self, uint64_t request, const protocol::connect_command& c) {
  auto& st = self->state;
  if (st.connected || st.connecting) {
    fail(self, error_code::unknown_command, "connect sent twice");
    return;
  }
  if (!credentials_accepted(*st.ctx, c)) {
    // The client learns only that the login failed; the log names the user it gave.
    spdlog::warn("session {} ({}): login refused for user \"{}\"", st.session_id, st.peer, c.user);
    fail(self, error_code::authentication, "authentication failed: wrong user name or password",
         request);
    return;
  }
  st.client_id = c.client_id;
  if (st.codec->negotiates_heartbeats())
    st.inactivity_timeout_ms =
        negotiated_inactivity_timeout(st.ctx->inactivity_timeout_ms, c.client_heartbeat_ms);
  if (st.client_id.empty()) {
    finish_connect(self, request);
    return;
  }
  // A client id is held by one connection at a time (JMS): the broker says whether it is free.
  st.connecting = true;
  self->request(st.ctx->broker, std::chrono::seconds(10), client_atom::value, st.client_id, st.peer,
                caf::actor_cast<caf::actor>(self))
      .then(
          [self, request](bool) {
            auto& st = self->state;
            st.connecting = false;
            finish_connect(self, request);
            auto held = std::move(st.held_commands);
            st.held_commands.clear();
            for (auto& cmd : held)
              if (!st.closing)
                handle_command(self, cmd);
          },
          [self, request](caf::error& err) {
            self->state.connecting = false;
            self->state.held_commands.clear();
            fail(self, error_code_of(err), error_text(err), request);
          });
}

// A message with AMQ_SCHEDULED_* properties (docs/scheduled.md): receipted once the scheduler
// has stored it.
void send_to_scheduler(self_ptr self, uint64_t request, const protocol::envelope& e,
                       std::string encoded) {
  auto& st = self->state;
  schedule_message m{e.destination(), std::move(encoded)};
  if (m.payload.empty())
    protocol::encode_envelope(e, m.payload);
  uint64_t bytes = m.payload.size();
  send_started(self, bytes);
  self->request(st.ctx->scheduler, caf::infinite, schedule_atom::value, std::move(m))
      .then(
          [self, request, bytes](uint64_t id) {
            send_answered(self, bytes);
            write_receipt(self, request, 1, id == 0 ? 1 : 0); // id 0: a resend, a duplicate
            disconnect_if_due(self);
          },
          [self, request, bytes](caf::error& err) {
            send_answered(self, bytes);
            if (request != 0)
              write_error(self, request, err);
            else
              spdlog::warn("session {} lost an unreceipted scheduled send: {}",
                           self->state.session_id, error_text(err));
            disconnect_if_due(self);
          });
}

void handle_send(self_ptr self, uint64_t request, protocol::send_command& send) {
  if (!send.transaction_id.empty()) {
    hold_send(self, request, send);
    return;
  }
  auto& st = self->state;
  auto& e = send.message;
  ++st.messages_in;
  // The queue stamps the origin identity once it has the sequence (protocol/origin_stamp.hpp);
  // a codec's encoded bytes are without it.
  e.clear_origin_store_id();
  e.clear_origin_sequence();
  if (auto refused = protocol::check_envelope(e); refused.code != error_code::none) {
    refuse(self, request, refused.code, refused.text);
    return;
  }
  if (st.ctx->scheduler)
    if (auto scheduled = schedule_request_of(e)) {
      if (!*scheduled) {
        refuse(self, request, error_code::invalid_field, scheduled->message());
        return;
      }
      send_to_scheduler(self, request, e, std::move(send.encoded));
      return;
    }
  auto in = incoming_of(e, std::move(send.encoded));
  if (!in.producer_id.empty() && st.producers.size() < 10000)
    st.producers.insert(in.producer_id);
  uint64_t bytes = in.payload.size();
  send_started(self, bytes);
  auto on_error = [self, request, bytes](const caf::error& err) {
    send_answered(self, bytes);
    if (request != 0)
      write_error(self, request, err);
    else
      log_lost_send(self, err);
    disconnect_if_due(self);
  };
  auto on_done = [self, request, bytes](send_result& r) {
    send_answered(self, bytes);
    write_receipt(self, request, 1, r.duplicate ? 1 : 0);
    disconnect_if_due(self);
  };
  auto parts = protocol::parse_composite_destination(e.destination());
  if (!parts) {
    on_error(make_broker_error(broker_errc::bad_destination, parts.message()));
    return;
  }
  if (parts->size() > 1) {
    send_to_composite(self, std::move(*parts), std::move(in), on_error, on_done);
    return;
  }
  with_destination(
      self, std::move(parts->front()),
      [self, in = std::move(in), on_error, on_done](const queue_actor& q) mutable {
        self->request(q, caf::infinite, send_atom::value, std::move(in))
            .then(on_done, [on_error](caf::error& err) { on_error(err); });
      },
      on_error);
}

void handle_open_consumer(self_ptr self, uint64_t request,
                          const protocol::open_consumer_command& open) {
  auto& st = self->state;
  auto id = open.consumer_id;
  if (st.consumers.count(id)) {
    write_error(self, request, error_code::limit_exceeded,
                "consumer id " + std::to_string(id) + " is already open on this connection");
    return;
  }
  if (st.consumers.size() >= st.ctx->max_consumers) {
    write_error(self, request, error_code::limit_exceeded,
                "this connection has its maximum of " + std::to_string(st.ctx->max_consumers) +
                    " consumers");
    return;
  }
  if (open.durable && st.client_id.empty()) {
    write_error(self, request, error_code::invalid_field,
                "a durable subscription needs a client id (clientId): this connection has none");
    return;
  }
  if (open.durable && open.subscription_name.empty()) {
    write_error(self, request, error_code::invalid_field,
                "a durable subscription needs a subscription name (subscriptionName)");
    return;
  }
  if (!open.selector.empty()) {
    auto parsed = protocol::selector::parse(open.selector, {open.convert_string_expressions});
    if (!parsed) {
      write_error(self, request, error_code::invalid_field, parsed.message());
      return;
    }
  }
  auto patterns = protocol::parse_subscription_patterns(open.destination);
  if (!patterns) {
    write_error(self, request, error_code::bad_destination, patterns.message());
    return;
  }
  bool several =
      patterns->size() > 1 || (patterns->front().kind == protocol::destination_kind::queue &&
                               protocol::has_wildcard(patterns->front()));
  if (open.durable && several) {
    write_error(self, request, error_code::bad_destination,
                "a durable subscription is made on one topic (or one topic wildcard), not on " +
                    protocol::composite_text(*patterns));
    return;
  }
  subscription sub{id,
                   open.prefetch == 0 ? st.ctx->default_prefetch : open.prefetch,
                   open.priority,
                   false,
                   open.selector,
                   open.convert_string_expressions,
                   open.exclusive};
  st.consumers[id].destination = open.destination;
  st.consumers[id].node_acks = open.node_acks;
  auto on_error = [self, request, id](const caf::error& err) {
    self->state.consumers.erase(id);
    write_error(self, request, err);
  };
  auto subscribe = [self, request, id, sub, on_error](const queue_actor& q) {
    self->state.consumers[id].queue = q;
    self->request(q, std::chrono::seconds(30), subscribe_atom::value, consumer_actor{self}, sub)
        .then(
            [self, request, id](uint64_t subscription) {
              auto& st = self->state;
              auto i = st.consumers.find(id);
              if (i == st.consumers.end())
                return;
              i->second.subscription = subscription;
              write_receipt(self, request, 1);
            },
            [on_error](caf::error& err) { on_error(err); });
  };
  if (several) {
    st.consumers[id].options = sub;
    open_multi_consumer(self, request, id, std::move(*patterns));
    return;
  }
  auto& only = patterns->front();
  protocol::destination target{only.kind, only.text.substr(only.text.find("://") + 3)};
  bool temporary = target.kind == protocol::destination_kind::temp_queue ||
                   target.kind == protocol::destination_kind::temp_topic;
  if (temporary && !owns_temporary(st, target)) {
    on_error(make_broker_error(broker_errc::bad_destination, "only the connection that created " +
                                                                 target.uri() +
                                                                 " may consume from it"));
    return;
  }
  if (!open.durable) {
    with_destination(self, std::move(target), subscribe, on_error);
    return;
  }
  // A durable subscription is a queue of its own, fed by the topic: the broker names it. Its
  // selector is kept with it (with its option, as ActiveMQ's prefix says it).
  auto selector = open.convert_string_expressions && !open.selector.empty() &&
                          open.selector.rfind("convert_string_expressions:", 0) != 0
                      ? "convert_string_expressions:" + open.selector
                      : open.selector;
  self->request(st.ctx->broker, std::chrono::seconds(30), durable_atom::value, std::move(target),
                st.client_id, open.subscription_name, std::move(selector))
      .then([subscribe](queue_actor& q) { subscribe(q); },
            [on_error](caf::error& err) { on_error(err); });
}

void handle_unsubscribe(self_ptr self, uint64_t request, const protocol::unsubscribe_command& u) {
  auto& st = self->state;
  self->request(st.ctx->broker, std::chrono::seconds(30), unsub_atom::value, st.client_id,
                u.subscription_name)
      .then([self, request](uint64_t removed) { write_receipt(self, request, removed); },
            [self, request](caf::error& err) { write_error(self, request, err); });
}

// The consumer of `id` with its subscription known, or an error answered to the client.
session_state::consumer_entry* find_consumer(self_ptr self, uint64_t request, uint64_t id) {
  auto& st = self->state;
  auto i = st.consumers.find(id);
  if (i == st.consumers.end() || i->second.subscription == 0) {
    auto text = "no open consumer " + std::to_string(id) + " on this connection";
    // An error without a request id is fatal to the client; a request that wants no answer
    // gets none.
    if (request != 0)
      write_error(self, request, error_code::unknown_consumer, text);
    else
      spdlog::debug("session {}: {}", st.session_id, text);
    return nullptr;
  }
  return &i->second;
}

void handle_ack(self_ptr self, uint64_t request, protocol::ack_command& ack) {
  ++self->state.acks_in;
  auto* c = find_consumer(self, request, ack.consumer_id);
  if (!c)
    return;
  if (!ack.transaction_id.empty()) {
    hold_ack(self, request, ack, *c);
    return;
  }
  key_list keys = std::move(ack.delivery_keys);
  if (c->multi) {
    multi_ack(self, request, *c, std::move(keys), ack.reject);
    return;
  }
  if (ack.reject) {
    // Refused (STOMP's NACK): the queue redelivers them.
    self->request(c->queue, caf::infinite, nack_atom::value, c->subscription, std::move(keys))
        .then([self, request](uint64_t count) { write_receipt(self, request, count); },
              [self, request](caf::error& err) {
                if (request != 0)
                  write_error(self, request, err);
              });
    return;
  }
  if (request == 0) {
    // Nobody waits on it: the queue lets its deletes share a later commit.
    self->send(c->queue, auto_ack_atom::value, c->subscription, std::move(keys));
    return;
  }
  self->request(c->queue, caf::infinite, ack_atom::value, c->subscription, std::move(keys))
      .then([self, request](uint64_t count) { write_receipt(self, request, count); },
            [self, request](caf::error& err) { write_error(self, request, err); });
}

void handle_close_consumer(self_ptr self, uint64_t request,
                           const protocol::close_consumer_command& close) {
  auto* c = find_consumer(self, request, close.consumer_id);
  if (!c)
    return;
  if (c->multi) {
    multi_close(self, request, close.consumer_id);
    return;
  }
  auto q = c->queue;
  auto sub = c->subscription;
  self->state.consumers.erase(close.consumer_id);
  self->request(q, std::chrono::seconds(30), unsub_atom::value, sub)
      .then([self, request](uint64_t returned) { write_receipt(self, request, returned); },
            [self, request](caf::error& err) { write_error(self, request, err); });
}

void handle_credit(self_ptr self, const protocol::credit_command& credit) {
  auto& st = self->state;
  auto i = st.consumers.find(credit.consumer_id);
  if (i == st.consumers.end() || i->second.subscription == 0)
    return;
  if (i->second.multi)
    multi_credit(self, i->second, credit.credit);
  else
    self->send(i->second.queue, credit_atom::value, i->second.subscription, credit.credit);
}

void handle_browse(self_ptr self, uint64_t request, const protocol::browse_command& browse) {
  auto max = browse.max_messages;
  if (max == 0 || max > self->state.ctx->browse_max_messages)
    max = self->state.ctx->browse_max_messages;
  auto on_error = [self, request](const caf::error& err) { write_error(self, request, err); };
  with_queue(
      self, browse.destination,
      [self, request, max, on_error](const queue_actor& q) {
        self->request(q, std::chrono::seconds(30), browse_atom::value, max)
            .then(
                [self, request, q, on_error](delivery_list& list) {
                  // The depth comes from the queue's own count, not from what was returned.
                  self->request(q, std::chrono::seconds(30), stats_atom::value)
                      .then(
                          [self, request, list = std::move(list)](destination_stats& stats) {
                            write_browse_reply(self, request, list, stats.pending);
                          },
                          on_error);
                },
                on_error);
      },
      on_error);
}

void handle_stats(self_ptr self, uint64_t request) {
  self->request(self->state.ctx->broker, std::chrono::seconds(10), stats_atom::value)
      .then(
          [self, request](destination_stats_list& list) {
            // destination_stats is protocol::destination_counts: the list moves as it is.
            protocol::stats_reply_event reply{std::move(list)};
            emit(self, request, reply);
          },
          [self, request](caf::error& err) { write_error(self, request, err); });
}

void handle_purge(self_ptr self, uint64_t request, const protocol::purge_command& purge) {
  auto on_error = [self, request](const caf::error& err) { write_error(self, request, err); };
  with_queue(
      self, purge.destination,
      [self, request, on_error](const queue_actor& q) {
        self->request(q, caf::infinite, purge_atom::value)
            .then([self, request](uint64_t n) { write_receipt(self, request, n); }, on_error);
      },
      on_error);
}

// Dead letters one retry moves back when the client names no number.
constexpr uint32_t default_retry_messages = 1000;

void handle_retry(self_ptr self, uint64_t request, const protocol::retry_command& retry) {
  auto on_error = [self, request](const caf::error& err) { write_error(self, request, err); };
  auto max = retry.max_messages == 0 ? default_retry_messages : retry.max_messages;
  with_queue(
      self, retry.destination,
      [self, request, on_error, max](const queue_actor& q) {
        self->request(q, caf::infinite, retry_atom::value, max)
            .then([self, request](uint64_t n) { write_receipt(self, request, n); }, on_error);
      },
      on_error);
}

void handle_refused(self_ptr self, uint64_t request, const protocol::refused_command& r) {
  if (r.fatal)
    fail(self, r.code, r.text, request);
  else
    refuse(self, request, r.code, r.text);
}

} // namespace

void disconnect_if_due(session_ptr self) {
  auto& st = self->state;
  if (st.disconnect_request == 0 || st.unanswered_sends > 0 || !st.open_requests.empty())
    return;
  auto request = st.disconnect_request;
  st.disconnect_request = 0;
  write_receipt(self, request, 1);
  client_leaves(self);
}

void delivery_written(session_ptr self, session_state::consumer_entry& consumer, uint64_t key) {
  if (consumer.multi) {
    multi_delivery_written(self, consumer, key);
    return;
  }
  self->send(consumer.queue, auto_ack_atom::value, consumer.subscription, key_list{key});
  self->send(consumer.queue, credit_atom::value, consumer.subscription, uint32_t{1});
}

void handle_command(session_ptr self, protocol::command& cmd) {
  auto& st = self->state;
  auto request = cmd.request_id;
  auto& body = cmd.body;
  auto* refused = std::get_if<protocol::refused_command>(&body);
  if (st.connecting) {
    // A client may send its first commands behind Connect without waiting for the answer.
    if (st.held_commands.size() >= max_held_commands) {
      fail(self, error_code::limit_exceeded,
           "more than " + std::to_string(max_held_commands) +
               " commands sent before the connect was answered");
      return;
    }
    st.held_commands.push_back(std::move(cmd));
    return;
  }
  if (!st.connected && !std::holds_alternative<protocol::connect_command>(body) &&
      !(refused && refused->fatal)) {
    fail(self, error_code::not_connected,
         std::string("the first frame must be connect, not ") + protocol::command_name(body));
    return;
  }
  if (request != 0 && awaits_answer(body))
    st.open_requests.insert(request);
  struct visitor {
    self_ptr self;
    uint64_t request;
    void operator()(protocol::connect_command& c) { handle_connect(self, request, c); }
    void operator()(protocol::send_command& s) { handle_send(self, request, s); }
    void operator()(protocol::open_consumer_command& o) { handle_open_consumer(self, request, o); }
    void operator()(protocol::close_consumer_command& c) {
      handle_close_consumer(self, request, c);
    }
    void operator()(protocol::credit_command& c) { handle_credit(self, c); }
    void operator()(protocol::ack_command& a) { handle_ack(self, request, a); }
    void operator()(protocol::browse_command& b) { handle_browse(self, request, b); }
    void operator()(protocol::purge_command& p) { handle_purge(self, request, p); }
    void operator()(protocol::stats_command&) { handle_stats(self, request); }
    void operator()(protocol::heartbeat_command&) {}
    void operator()(protocol::disconnect_command&) { handle_disconnect(self, request); }
    void operator()(protocol::refused_command& r) { handle_refused(self, request, r); }
    void operator()(protocol::unsubscribe_command& u) { handle_unsubscribe(self, request, u); }
    void operator()(protocol::begin_command& b) { handle_begin(self, request, b); }
    void operator()(protocol::commit_command& c) { handle_commit(self, request, c); }
    void operator()(protocol::rollback_command& r) { handle_rollback(self, request, r); }
    void operator()(protocol::retry_command& r) { handle_retry(self, request, r); }
    void operator()(protocol::unexpected_command& u) {
      fail(self, error_code::unknown_command, "a client may not send " + u.name);
    }
  };
  std::visit(visitor{self, request}, body);
}

} // namespace actormq::actors
