#include "actors/session.hpp"
#include "actors/session_core.hpp"

#include "actors/errors.hpp"
#include "actors/session_snapshot.hpp"

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
  caf::delayed_anon_send(session_actor{self}, delay, atom);
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

// Grows the read buffer when a read filled it; frees it after a short read on a grown buffer
// with no frame half read (`buf` is the connection's read buffer while its data is handled).
void adapt_read_buffer(self_ptr self, std::vector<char>& buf, size_t bytes_read) {
  auto& st = self->state;
  if (st.read_size < large_read_bytes && bytes_read >= st.read_size) {
    st.read_size = large_read_bytes;
    self->configure_read(st.hdl, caf::io::receive_policy::at_most(st.read_size));
  } else if (st.read_size > small_read_bytes && bytes_read < small_read_bytes &&
             st.codec->buffered() == 0) {
    std::vector<char>().swap(buf);
    st.codec->release_memory();
    st.read_size = small_read_bytes;
    self->configure_read(st.hdl, caf::io::receive_policy::at_most(st.read_size));
  }
}

// Writes what the codec answers by itself (a WebSocket handshake, pong or close).
void write_codec_output(self_ptr self) {
  auto& st = self->state;
  st.scratch.clear();
  if (!st.codec->take_output(st.scratch))
    return;
  auto& buf = self->wr_buf(st.hdl);
  buf.insert(buf.end(), st.scratch.begin(), st.scratch.end());
  self->flush(st.hdl);
  st.last_write = clock::now();
}

// Hands what arrived to the codec and handles every command it makes of it.
void handle_data(self_ptr self, caf::io::new_data_msg& msg) {
  auto& st = self->state;
  auto now = clock::now();
  st.last_read = now;
  auto bytes_read = msg.buf.size();
  st.codec->feed(msg.buf.data(), bytes_read);
  write_codec_output(self);
  while (!st.closing && st.codec->next(st.command)) {
    st.partial_since = {};
    ++st.frames_in;
    write_codec_output(self);
    handle_command(self, st.command);
  }
  if (st.closing)
    return;
  if (st.codec->buffered() > 0 && st.partial_since == clock::time_point{})
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
    fail(self, protocol::error_code::timeout,
         "no connect within " + std::to_string(ctx.connect_timeout_ms) +
             " ms of opening the connection (heartbeats.connect_timeout_ms)");
    return false;
  }
  if (over(st.last_read, st.inactivity_timeout_ms)) {
    fail(self, protocol::error_code::timeout,
         "nothing received for " + std::to_string(st.inactivity_timeout_ms) +
             " ms (inactivity timeout)");
    return false;
  }
  if (over(st.partial_since, ctx.inactivity_timeout_ms)) {
    fail(self, protocol::error_code::timeout,
         "a frame did not complete within " + std::to_string(ctx.inactivity_timeout_ms) +
             " ms (inactivity timeout); " + std::to_string(st.codec->buffered()) +
             " bytes of it arrived");
    return false;
  }
  return true;
}

} // namespace

std::optional<std::chrono::milliseconds> session_tick_period(const session_context& ctx) {
  if (ctx.heartbeat_ms == 0 && ctx.inactivity_timeout_ms == 0 && ctx.connect_timeout_ms == 0)
    return std::nullopt;
  uint32_t period = 1000;
  if (ctx.heartbeat_ms > 0)
    period = std::min(period, ctx.heartbeat_ms);
  if (ctx.inactivity_timeout_ms > 0)
    period = std::min(period, std::max<uint32_t>(ctx.inactivity_timeout_ms / 3, 10));
  if (ctx.connect_timeout_ms > 0)
    period = std::min(period, std::max<uint32_t>(ctx.connect_timeout_ms / 3, 10));
  return std::chrono::milliseconds(period);
}

void send_started(session_ptr self, uint64_t bytes) {
  auto& st = self->state;
  ++st.unanswered_sends;
  st.unanswered_bytes += bytes;
  if ((st.unanswered_sends >= st.ctx->max_unanswered_sends ||
       st.unanswered_bytes >= st.ctx->max_unanswered_bytes) &&
      !st.reading_halted) {
    st.reading_halted = true;
    self->halt(st.hdl);
  }
}

void send_answered(session_ptr self, uint64_t bytes) {
  auto& st = self->state;
  --st.unanswered_sends;
  st.unanswered_bytes -= std::min(st.unanswered_bytes, bytes);
  if (st.reading_halted && st.unanswered_sends <= st.ctx->max_unanswered_sends / 2 &&
      st.unanswered_bytes <= st.ctx->max_unanswered_bytes / 2)
    resume_reading(self);
}

void client_leaves(session_ptr self) {
  auto& st = self->state;
  st.closing = true;
  st.peer_gone = true;
  self->close(st.hdl);
  end_if_done(self);
}

session_actor::behavior_type session_behavior(self_ptr self, caf::io::connection_handle hdl,
                                              handshake_listener_actor acceptor,
                                              std::shared_ptr<const session_context> ctx,
                                              uint64_t session_id) {
  auto& st = self->state;
  st.ctx = std::move(ctx);
  st.acceptor = std::move(acceptor);
  st.hdl = hdl;
  st.session_id = session_id;
  st.codec = protocol::make_session_codec(st.ctx->protocol, st.ctx->codec_limits);
  if (!st.codec) {
    // The configuration loader refuses unknown protocols; this is a bug if it happens.
    spdlog::error("session {}: no codec for protocol {}", session_id, st.ctx->protocol);
    self->close(hdl);
    self->quit();
    return session_actor::behavior_type::make_empty_behavior();
  }
  // No client id yet: the id the node names this connection's temporary destinations after.
  st.codec->set_connection_id(connection_id(st));
  st.peer = self->remote_addr(hdl) + ":" + std::to_string(self->remote_port(hdl));
  st.started = st.last_read = st.last_write = clock::now();
  st.inactivity_timeout_ms = st.ctx->inactivity_timeout_ms;
  st.resolver.on_settled = [self] { end_if_done(self); };
  st.resolver.monitor_queues = true;
  self->set_down_handler([self](caf::down_msg& msg) {
    self->state.resolver.forget(msg.source);
    destination_gone(self, msg.source);
  });
  st.read_size = small_read_bytes;
  self->configure_read(hdl, caf::io::receive_policy::at_most(st.read_size));
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
        auto consumer = st.consumers.find(d.consumer_id);
        if (consumer == st.consumers.end()) {
          if (auto* multi = multi_delivery(self, d))
            if (write_delivery(self, d) && multi->node_acks)
              delivery_written(self, *multi, d.key);
          return;
        }
        if (write_delivery(self, d) && consumer->second.node_acks)
          delivery_written(self, consumer->second, d.key);
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
          emit(self, 0, protocol::heartbeat_event{});
        }
      },
      [self](stop_atom) {
        // A session whose client is gone may still wait for a queue's answer; the node's stop
        // does not wait for it.
        if (self->state.closing)
          self->quit();
        else
          fail(self, protocol::error_code::shutting_down, "the node is stopping");
      },
      [self](stop_atom, const std::string& why) {
        fail(self, protocol::error_code::limit_exceeded, why);
      },
      [self](created_atom, std::string& name) {
        if (!self->state.closing)
          queue_created(self, name);
      },
      [self](snapshot_atom) -> session_snapshot {
        // The mailbox as this actor sees it: messages waiting behind this one.
        return make_session_snapshot(self->state, self->mailbox().size());
      },
  };
}

} // namespace actormq::actors
