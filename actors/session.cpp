#include "actors/session.hpp"
#include "actors/session_output.hpp"

#include "actors/errors.hpp"
#include "actors/snapshot.hpp"
#include "protocol/uri.hpp"

#include <caf/send.hpp>
#include <spdlog/spdlog.h>

namespace actormq::actors {

namespace {

using self_ptr = session_ptr;
using clock = session_state::clock;

// The read buffer starts small, so that an idle connection costs a few KiB; a read that fills
// it grows it, and a short read on a grown buffer (with no frame half read) shrinks it again.
constexpr size_t small_read_bytes = 4 * 1024;
constexpr size_t large_read_bytes = 64 * 1024;

// Once the client is gone, the session ends when nothing it read still waits for a queue.
void end_if_done(self_ptr self) {
  auto& st = self->state;
  if (st.peer_gone && st.resolver.idle())
    self->quit();
}

// Sends a message to this session after `delay`, as an anonymous message: CAF 0.17 does not free
// an io broker that ends while a message it sent itself is still to come (the message names the
// broker as its sender), so every connection would leak its session.
template <class Atom>
void send_self_later(self_ptr self, std::chrono::milliseconds delay, Atom atom) {
  caf::delayed_anon_send(caf::actor_cast<caf::actor>(self), delay, atom);
}

// True while reading was resumed and nothing has been read since.
bool resume_unconfirmed(const session_state& st) {
  return !st.reading_halted && !st.closing && st.resumed_at != clock::time_point{} &&
         st.last_read <= st.resumed_at;
}

// Lets reading go on after flow control. CAF 0.17 loses a trigger() that comes in the same
// multiplexer round as the halt() before it: the stream still counts as registered for reading
// until that round ends and then unregisters, so the connection would never be read again.
// The resume is therefore repeated a few times shortly after (each repeat arrives in a later
// round) and on every tick until data arrives; a repeat on a connection being read is a no-op.
void resume_reading(self_ptr self) {
  auto& st = self->state;
  st.reading_halted = false;
  st.resumed_at = clock::now();
  self->trigger(st.hdl);
  if (st.resume_retries == 0)
    send_self_later(self, std::chrono::milliseconds(2), resume_atom::value);
  st.resume_retries = 5;
}

void sends_answered(self_ptr self, uint64_t bytes) {
  auto& st = self->state;
  --st.unanswered_sends;
  st.unanswered_bytes -= std::min(st.unanswered_bytes, bytes);
  if (st.reading_halted && st.unanswered_sends <= st.ctx->max_unanswered_sends / 2 &&
      st.unanswered_bytes <= st.ctx->max_unanswered_bytes / 2)
    resume_reading(self);
}

void with_queue(self_ptr self, const std::string& destination, queue_resolver::ready_fn fn,
                queue_resolver::fail_fn on_error) {
  self->state.resolver.with_queue(self, self->state.ctx->broker, destination, std::move(fn),
                                  std::move(on_error));
}

// Why a producer's message cannot be taken (code ERROR_NONE: it can). `m` already holds what
// the node adds.
struct refusal {
  wire::ErrorCode code = wire::ERROR_NONE;
  std::string why;
};

refusal invalid_message(const session_context& ctx, const wire::Message& m) {
  auto field = [](std::string why) { return refusal{wire::ERROR_INVALID_FIELD, std::move(why)}; };
  if (m.priority() < protocol::min_priority || m.priority() > protocol::max_priority)
    return field("priority " + std::to_string(m.priority()) + " is out of range (" +
                 std::to_string(protocol::min_priority) + ".." +
                 std::to_string(protocol::max_priority) + ")");
  if (m.producer_id().size() > protocol::max_producer_id_bytes)
    return field("producer_id of " + std::to_string(m.producer_id().size()) +
                 " bytes is over the maximum of " +
                 std::to_string(protocol::max_producer_id_bytes) + " bytes");
  if (m.expiration_ms() < 0)
    return field("expiration_ms " + std::to_string(m.expiration_ms()) +
                 " is negative (0 = never, else milliseconds since the epoch)");
  auto limit = protocol::max_message_bytes(ctx.max_frame_bytes);
  if (auto size = m.ByteSizeLong(); size > limit)
    return refusal{
        wire::ERROR_FRAME_TOO_LARGE,
        "a message of " + std::to_string(size) + " bytes is over this node's maximum of " +
            std::to_string(limit) + " bytes (limits.max_frame_bytes less " +
            std::to_string(protocol::dispatch_overhead_bytes) + " bytes for a dispatch's header)"};
  return {};
}

void handle_send(self_ptr self, uint64_t corr, wire::Send& send) {
  auto& st = self->state;
  auto& m = *send.mutable_message();
  ++st.messages_in;
  // The queue stamps the origin identity once it has the sequence (protocol/origin_stamp.hpp).
  m.clear_origin_store_id();
  m.clear_origin_sequence();
  if (auto refused = invalid_message(*st.ctx, m); refused.code != wire::ERROR_NONE) {
    refuse(self, corr, refused.code, refused.why);
    return;
  }
  incoming_message in;
  in.persistent = m.persistent();
  in.priority = m.priority();
  in.expiration_ms = m.expiration_ms();
  in.producer_id = m.producer_id();
  in.producer_sequence = m.producer_sequence();
  if (!in.producer_id.empty() && st.producers.size() < 10000)
    st.producers.insert(in.producer_id);
  m.SerializeToString(&in.payload);
  uint64_t bytes = in.payload.size();
  ++st.unanswered_sends;
  st.unanswered_bytes += bytes;
  if ((st.unanswered_sends >= st.ctx->max_unanswered_sends ||
       st.unanswered_bytes >= st.ctx->max_unanswered_bytes) &&
      !st.reading_halted) {
    st.reading_halted = true;
    self->halt(st.hdl);
  }
  auto on_error = [self, corr, bytes](const caf::error& err) {
    sends_answered(self, bytes);
    if (corr != 0)
      write_error(self, corr, err);
    else
      spdlog::warn("session {} lost an unreceipted send: {}", self->state.session_id,
                   error_text(err));
  };
  with_queue(
      self, m.destination(),
      [self, corr, bytes, in = std::move(in), on_error](const queue_actor& q) mutable {
        self->request(q, caf::infinite, send_atom::value, std::move(in))
            .then(
                [self, corr, bytes](send_result& r) {
                  sends_answered(self, bytes);
                  write_receipt(self, corr, 1, r.duplicate ? 1 : 0);
                },
                [on_error](caf::error& err) { on_error(err); });
      },
      on_error);
}

void handle_open_consumer(self_ptr self, uint64_t corr, const wire::OpenConsumer& open) {
  auto& st = self->state;
  auto id = open.consumer_id();
  if (!wire::AckMode_IsValid(open.ack_mode())) {
    refuse(self, corr, wire::ERROR_INVALID_FIELD,
           "ack_mode " + std::to_string(open.ack_mode()) +
               " is unknown (0 auto, 1 client, 2 individual)");
    return;
  }
  if (st.consumers.count(id)) {
    write_error(self, corr, wire::ERROR_LIMIT_EXCEEDED,
                "consumer id " + std::to_string(id) + " is already open on this connection");
    return;
  }
  if (st.consumers.size() >= st.ctx->max_consumers) {
    write_error(self, corr, wire::ERROR_LIMIT_EXCEEDED,
                "this connection has its maximum of " + std::to_string(st.ctx->max_consumers) +
                    " consumers");
    return;
  }
  subscription sub{id, open.prefetch() == 0 ? st.ctx->default_prefetch : open.prefetch(),
                   open.priority()};
  st.consumers[id].destination = open.destination();
  auto on_error = [self, corr, id](const caf::error& err) {
    self->state.consumers.erase(id);
    write_error(self, corr, err);
  };
  with_queue(
      self, open.destination(),
      [self, corr, id, sub, on_error](const queue_actor& q) {
        self->state.consumers[id].queue = q;
        self->request(q, std::chrono::seconds(30), subscribe_atom::value,
                      caf::actor_cast<caf::actor>(self), sub)
            .then(
                [self, corr, id](uint64_t subscription) {
                  auto& st = self->state;
                  auto i = st.consumers.find(id);
                  if (i == st.consumers.end())
                    return;
                  i->second.subscription = subscription;
                  write_receipt(self, corr, 1);
                },
                [on_error](caf::error& err) { on_error(err); });
      },
      on_error);
}

// The consumer of `id` with its subscription known, or an error answered to the client.
session_state::consumer_entry* find_consumer(self_ptr self, uint64_t corr, uint64_t id) {
  auto& st = self->state;
  auto i = st.consumers.find(id);
  if (i == st.consumers.end() || i->second.subscription == 0) {
    auto text = "no open consumer " + std::to_string(id) + " on this connection";
    // An error without a correlation id is fatal to the client; a request that wants no
    // answer gets none.
    if (corr != 0)
      write_error(self, corr, wire::ERROR_UNKNOWN_CONSUMER, text);
    else
      spdlog::debug("session {}: {}", st.session_id, text);
    return nullptr;
  }
  return &i->second;
}

void handle_ack(self_ptr self, uint64_t corr, const wire::Ack& ack) {
  ++self->state.acks_in;
  auto* c = find_consumer(self, corr, ack.consumer_id());
  if (!c)
    return;
  key_list keys(ack.delivery_keys().begin(), ack.delivery_keys().end());
  if (corr == 0) {
    // Nobody waits on it: the queue lets its deletes share a later commit.
    self->send(c->queue, auto_ack_atom::value, c->subscription, std::move(keys));
    return;
  }
  self->request(c->queue, caf::infinite, ack_atom::value, c->subscription, std::move(keys))
      .then([self, corr](uint64_t count) { write_receipt(self, corr, count); },
            [self, corr](caf::error& err) {
              if (corr != 0)
                write_error(self, corr, err);
              else
                spdlog::warn("session {}: an acknowledgement failed: {}", self->state.session_id,
                             error_text(err));
            });
}

void handle_close_consumer(self_ptr self, uint64_t corr, const wire::CloseConsumer& close) {
  auto* c = find_consumer(self, corr, close.consumer_id());
  if (!c)
    return;
  auto q = c->queue;
  auto sub = c->subscription;
  self->state.consumers.erase(close.consumer_id());
  self->request(q, std::chrono::seconds(30), unsub_atom::value, sub)
      .then([self, corr](uint64_t returned) { write_receipt(self, corr, returned); },
            [self, corr](caf::error& err) { write_error(self, corr, err); });
}

void handle_frame(self_ptr self, wire::Frame& f) {
  auto& st = self->state;
  auto corr = f.correlation_id();
  if (!st.connected && f.command_case() != wire::Frame::kConnect) {
    fail(self, wire::ERROR_NOT_CONNECTED,
         std::string("the first frame must be connect, not ") + protocol::command_name(f));
    return;
  }
  auto on_error = [self, corr](const caf::error& err) { write_error(self, corr, err); };
  switch (f.command_case()) {
  case wire::Frame::kConnect: {
    if (st.connected) {
      fail(self, wire::ERROR_UNKNOWN_COMMAND, "connect sent twice");
      return;
    }
    if (corr == 0) {
      fail(self, wire::ERROR_INVALID_FIELD,
           "connect needs a non-zero correlation id (the connected answer carries it)");
      return;
    }
    if (f.connect().protocol_version() != wire::PROTOCOL_VERSION_1) {
      fail(self, wire::ERROR_PROTOCOL_VERSION,
           "protocol version " + std::to_string(f.connect().protocol_version()) +
               " is not supported (this node speaks 1)",
           corr);
      return;
    }
    st.connected = true;
    st.client_id = f.connect().client_id();
    if (st.acceptor)
      self->send(st.acceptor, connect_atom::value);
    wire::Frame out;
    out.set_correlation_id(corr);
    auto* c = out.mutable_connected();
    c->set_protocol_version(wire::PROTOCOL_VERSION_1);
    c->set_node_name(st.ctx->node_name);
    c->set_store_id(st.ctx->store_id);
    c->set_session_id(st.session_id);
    c->set_heartbeat_ms(st.ctx->heartbeat_ms);
    c->set_inactivity_timeout_ms(st.ctx->inactivity_timeout_ms);
    for (auto& uri : st.ctx->failover_uris)
      c->add_failover_uris(uri);
    write_frame(self, out);
    spdlog::debug("session {} connected: client {} from {}", st.session_id, st.client_id, st.peer);
    return;
  }
  case wire::Frame::kSend:
    handle_send(self, corr, *f.mutable_send());
    return;
  case wire::Frame::kOpenConsumer:
    handle_open_consumer(self, corr, f.open_consumer());
    return;
  case wire::Frame::kCloseConsumer:
    handle_close_consumer(self, corr, f.close_consumer());
    return;
  case wire::Frame::kCredit: {
    auto i = st.consumers.find(f.credit().consumer_id());
    if (i != st.consumers.end() && i->second.subscription != 0)
      self->send(i->second.queue, credit_atom::value, i->second.subscription, f.credit().credit());
    return;
  }
  case wire::Frame::kAck:
    handle_ack(self, corr, f.ack());
    return;
  case wire::Frame::kHeartbeat:
    return;
  case wire::Frame::kDisconnect:
    st.closing = true;
    st.peer_gone = true;
    self->close(st.hdl);
    end_if_done(self);
    return;
  case wire::Frame::kBrowse: {
    auto max = f.browse().max_messages();
    if (max == 0 || max > st.ctx->browse_max_messages)
      max = st.ctx->browse_max_messages;
    with_queue(
        self, f.browse().destination(),
        [self, corr, max](const queue_actor& q) {
          self->request(q, std::chrono::seconds(30), browse_atom::value, max)
              .then(
                  [self, corr, q](delivery_list& list) {
                    // The depth comes from the queue's own count, not from what was returned.
                    self->request(q, std::chrono::seconds(30), stats_atom::value)
                        .then(
                            [self, corr, list = std::move(list)](destination_stats& stats) {
                              write_browse_reply(self, corr, list, stats.pending);
                            },
                            [self, corr](caf::error& err) { write_error(self, corr, err); });
                  },
                  [self, corr](caf::error& err) { write_error(self, corr, err); });
        },
        on_error);
    return;
  }
  case wire::Frame::kStatsRequest:
    self->request(st.ctx->broker, std::chrono::seconds(10), stats_atom::value)
        .then(
            [self, corr](destination_stats_list& list) {
              wire::Frame out;
              out.set_correlation_id(corr);
              auto* reply = out.mutable_stats_reply();
              for (auto& s : list) {
                auto* d = reply->add_destinations();
                d->set_name(s.name);
                d->set_pending(s.pending);
                d->set_consumers(s.consumers);
                d->set_enqueued(s.enqueued);
                d->set_dequeued(s.dequeued);
                d->set_in_flight(s.in_flight);
                d->set_duplicates_dropped(s.duplicates_dropped);
                d->set_memory_bytes(s.memory_bytes);
                d->set_flow_controlled(s.flow_controlled);
              }
              write_frame(self, out);
            },
            [self, corr](caf::error& err) { write_error(self, corr, err); });
    return;
  case wire::Frame::kPurge:
    with_queue(
        self, f.purge().destination(),
        [self, corr](const queue_actor& q) {
          self->request(q, caf::infinite, purge_atom::value)
              .then([self, corr](uint64_t n) { write_receipt(self, corr, n); },
                    [self, corr](caf::error& err) { write_error(self, corr, err); });
        },
        on_error);
    return;
  default:
    fail(self, wire::ERROR_UNKNOWN_COMMAND,
         std::string("a client may not send ") + protocol::command_name(f));
    return;
  }
}

void schedule_tick(self_ptr self) {
  auto& ctx = *self->state.ctx;
  uint32_t period = 1000;
  if (ctx.heartbeat_ms > 0)
    period = std::min(period, ctx.heartbeat_ms);
  if (ctx.inactivity_timeout_ms > 0)
    period = std::min(period, std::max<uint32_t>(ctx.inactivity_timeout_ms / 3, 10));
  if (!self->state.connected && ctx.connect_timeout_ms > 0)
    period = std::min(period, std::max<uint32_t>(ctx.connect_timeout_ms / 3, 10));
  send_self_later(self, std::chrono::milliseconds(period), tick_atom::value);
}

// Grows the read buffer when a read filled it; frees it after a short read on a grown buffer
// with no frame half read (`buf` is the connection's read buffer while its data is handled).
void adapt_read_buffer(self_ptr self, std::vector<char>& buf, size_t bytes_read) {
  auto& st = self->state;
  if (st.read_size < large_read_bytes && bytes_read >= st.read_size) {
    st.read_size = large_read_bytes;
    self->configure_read(st.hdl, caf::io::receive_policy::at_most(st.read_size));
  } else if (st.read_size > small_read_bytes && bytes_read < small_read_bytes &&
             st.decoder->buffered() == 0) {
    std::vector<char>().swap(buf);
    st.decoder->release_memory();
    st.read_size = small_read_bytes;
    self->configure_read(st.hdl, caf::io::receive_policy::at_most(st.read_size));
  }
}

// Reads and handles every complete frame in `msg`.
void handle_data(self_ptr self, caf::io::new_data_msg& msg) {
  auto& st = self->state;
  auto now = clock::now();
  st.last_read = now;
  auto bytes_read = msg.buf.size();
  st.decoder->feed(msg.buf.data(), bytes_read);
  wire::Frame f;
  while (!st.closing) {
    auto next = st.decoder->next(f);
    if (!next) {
      auto code = next.code() == protocol::codec_errc::frame_too_large ? wire::ERROR_FRAME_TOO_LARGE
                  : next.code() == protocol::codec_errc::unknown_command
                      ? wire::ERROR_UNKNOWN_COMMAND
                      : wire::ERROR_MALFORMED_FRAME;
      fail(self, code, next.message());
      return;
    }
    if (!*next)
      break;
    st.partial_since = {};
    ++st.frames_in;
    handle_frame(self, f);
  }
  if (st.closing)
    return;
  if (st.decoder->buffered() > 0 && st.partial_since == clock::time_point{})
    st.partial_since = now;
  adapt_read_buffer(self, msg.buf, bytes_read);
}

// Closes a connection that is silent too long, holds a frame that does not complete, or has not
// sent Connect in time. False if it closed.
bool check_timeouts(self_ptr self, clock::time_point now) {
  auto& st = self->state;
  auto& ctx = *st.ctx;
  // A connection held back by flow control is silent because the node stopped reading it.
  if (st.reading_halted) {
    st.last_read = now;
    if (st.partial_since != clock::time_point{})
      st.partial_since = now;
  }
  auto over = [now](clock::time_point since, uint32_t ms) {
    return ms > 0 && since != clock::time_point{} && now - since > std::chrono::milliseconds(ms);
  };
  if (!st.connected && over(st.started, ctx.connect_timeout_ms)) {
    fail(self, wire::ERROR_TIMEOUT,
         "no connect within " + std::to_string(ctx.connect_timeout_ms) +
             " ms of opening the connection (heartbeats.connect_timeout_ms)");
    return false;
  }
  if (over(st.last_read, ctx.inactivity_timeout_ms)) {
    fail(self, wire::ERROR_TIMEOUT,
         "nothing received for " + std::to_string(ctx.inactivity_timeout_ms) +
             " ms (inactivity timeout)");
    return false;
  }
  if (over(st.partial_since, ctx.inactivity_timeout_ms)) {
    fail(self, wire::ERROR_TIMEOUT,
         "a frame did not complete within " + std::to_string(ctx.inactivity_timeout_ms) +
             " ms (inactivity timeout); " + std::to_string(st.decoder->buffered()) +
             " bytes of it arrived");
    return false;
  }
  return true;
}

} // namespace

caf::behavior session_behavior(self_ptr self, caf::io::connection_handle hdl, caf::actor acceptor,
                               std::shared_ptr<const session_context> ctx, uint64_t session_id) {
  auto& st = self->state;
  st.ctx = std::move(ctx);
  st.acceptor = std::move(acceptor);
  st.hdl = hdl;
  st.session_id = session_id;
  st.decoder = std::make_unique<protocol::frame_decoder>(st.ctx->max_frame_bytes);
  st.peer = self->remote_addr(hdl) + ":" + std::to_string(self->remote_port(hdl));
  st.started = st.last_read = st.last_write = clock::now();
  st.resolver.on_settled = [self] { end_if_done(self); };
  st.resolver.monitor_queues = true;
  self->set_down_handler([self](caf::down_msg& msg) { self->state.resolver.forget(msg.source); });
  st.read_size = small_read_bytes;
  self->configure_read(hdl, caf::io::receive_policy::at_most(st.read_size));
  if (st.ctx->heartbeat_ms > 0 || st.ctx->inactivity_timeout_ms > 0 ||
      st.ctx->connect_timeout_ms > 0)
    schedule_tick(self);
  // An unexpected message is logged and dropped, never answered.
  self->set_default_handler(drop_unexpected);
  return {
      [self](caf::io::new_data_msg& msg) {
        if (!self->state.closing)
          handle_data(self, msg);
      },
      [self](const caf::io::connection_closed_msg&) {
        auto& st = self->state;
        spdlog::debug("session {} ({}) closed by the client", st.session_id, st.peer);
        st.closing = true;
        st.peer_gone = true;
        end_if_done(self);
      },
      [self](dispatch_atom, delivery& d) {
        auto& st = self->state;
        // A delivery for a consumer closed meanwhile is dropped: the queue redelivers it. (The
        // queue answers a subscribe before it dispatches on it.)
        if (st.consumers.find(d.consumer_id) == st.consumers.end())
          return;
        write_delivery(self, d);
      },
      [self](resume_atom) {
        auto& st = self->state;
        if (st.resume_retries == 0)
          return;
        --st.resume_retries;
        if (!resume_unconfirmed(st)) {
          st.resume_retries = 0;
          return;
        }
        self->trigger(st.hdl);
        if (st.resume_retries > 0)
          send_self_later(self, std::chrono::milliseconds(2u << (5 - st.resume_retries)),
                          resume_atom::value);
      },
      [self](tick_atom) {
        auto& st = self->state;
        if (st.closing)
          return;
        auto now = clock::now();
        auto& ctx = *st.ctx;
        if (resume_unconfirmed(st))
          self->trigger(st.hdl);
        if (!check_timeouts(self, now))
          return;
        if (st.connected && ctx.heartbeat_ms > 0 &&
            now - st.last_write >= std::chrono::milliseconds(ctx.heartbeat_ms)) {
          wire::Frame f;
          f.mutable_heartbeat();
          write_frame(self, f);
        }
        schedule_tick(self);
      },
      [self](stop_atom) {
        // A session whose client is gone may still wait for a queue's answer; the node's stop
        // does not wait for it.
        if (self->state.closing)
          self->quit();
        else
          fail(self, wire::ERROR_SHUTTING_DOWN, "the node is stopping");
      },
      [self](stop_atom, const std::string& why) { fail(self, wire::ERROR_LIMIT_EXCEEDED, why); },
      [self](snapshot_atom) {
        auto& st = self->state;
        caf::settings out;
        caf::put(out, "kind", "session");
        put_count(out, "mailbox",
                  self->mailbox().size()); // waiting messages, as this actor sees them
        put_count(out, "id", st.session_id);
        caf::put(out, "peer", st.peer);
        caf::put(out, "client-id", st.client_id);
        put_count(out, "consumers", st.consumers.size());
        put_count(out, "frames-in", st.frames_in);
        put_count(out, "frames-out", st.frames_out);
        put_count(out, "messages-in", st.messages_in);
        put_count(out, "deliveries-out", st.deliveries_out);
        put_count(out, "acks-in", st.acks_in);
        put_count(out, "producers", st.producers.size());
        put_count(out, "unanswered-sends", st.unanswered_sends);
        caf::put(out, "reading-halted", st.reading_halted);
        return out;
      },
  };
}

} // namespace actormq::actors
