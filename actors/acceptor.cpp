#include "actors/acceptor.hpp"
#include "actors/errors.hpp"

#include "actors/acceptor_snapshot.hpp"
#include "actors/atoms.hpp"

#include <caf/io/network/native_socket.hpp>
#include <caf/send.hpp>
#include <spdlog/spdlog.h>

namespace actormq::actors {

namespace {

using self_ptr = acceptor_actor::stateful_broker_pointer<acceptor_state>;

void forget_handshake(acceptor_state& st, const caf::actor_addr& session) {
  for (auto i = st.handshaking.begin(); i != st.handshaking.end(); ++i)
    if (i->second.address() == session) {
      st.handshaking.erase(i);
      return;
    }
}

// Closes the oldest connection that has not sent Connect; false if there is none.
bool evict_oldest_handshake(self_ptr self, const std::string& why) {
  auto& st = self->state;
  if (st.handshaking.empty())
    return false;
  auto session = st.handshaking.begin()->second;
  st.handshaking.erase(st.handshaking.begin());
  st.sessions.erase(session);
  ++st.evicted;
  self->send(session, stop_atom::value, why);
  return true;
}

void refuse(self_ptr self, caf::io::connection_handle hdl) {
  auto& st = self->state;
  ++st.refused;
  protocol::error_event refusal{protocol::error_code::limit_exceeded,
                                "the node has its maximum of " +
                                    std::to_string(st.max_connections) + " connections"};
  std::string bytes;
  auto codec = protocol::make_session_codec(st.ctx->protocol, st.ctx->codec_limits);
  if (codec && codec->encode(0, refusal, bytes)) {
    auto& buf = self->wr_buf(hdl);
    buf.insert(buf.end(), bytes.begin(), bytes.end());
    self->flush(hdl);
  }
  self->close(hdl);
  spdlog::warn("acceptor refuses a connection: {} connections open", st.sessions.size());
}

// Sends small frames at once (a STOMP RECEIPT or MESSAGE would otherwise wait for Nagle's
// algorithm). CAF 0.17's default multiplexer numbers a connection by its socket.
void set_no_delay(caf::io::connection_handle hdl) {
  auto fd = static_cast<caf::io::network::native_socket>(hdl.id());
  if (auto ok = caf::io::network::tcp_nodelay(fd, true); !ok)
    spdlog::warn("acceptor cannot set TCP_NODELAY on a connection: {}", caf::to_string(ok.error()));
}

// The next tick of every session, as an anonymous message (see send_self_later in session.cpp).
void schedule_tick(self_ptr self) {
  if (auto period = session_tick_period(*self->state.ctx))
    caf::delayed_anon_send(acceptor_actor{self}, *period, tick_atom::value);
}

} // namespace

acceptor_actor::behavior_type acceptor_behavior(self_ptr self,
                                                std::shared_ptr<const session_context> ctx,
                                                uint32_t max_connections) {
  self->state.ctx = std::move(ctx);
  self->state.max_connections = max_connections;
  self->set_down_handler([self](caf::down_msg& msg) {
    forget_handshake(self->state, msg.source);
    auto& sessions = self->state.sessions;
    for (auto i = sessions.begin(); i != sessions.end(); ++i)
      if (i->address() == msg.source) {
        sessions.erase(i);
        break;
      }
  });
  // An unexpected message is logged and dropped, never answered.
  self->set_default_handler(drop_unexpected);
  schedule_tick(self);
  return {
      [self](listen_atom, const std::string& host, uint16_t port) -> caf::result<uint16_t> {
        auto res = self->add_tcp_doorman(port, host.c_str(), true);
        if (!res)
          return std::move(res.error());
        self->state.port = res->second;
        return res->second;
      },
      [self](const caf::io::new_connection_msg& msg) {
        auto& st = self->state;
        auto max_handshaking = std::max<size_t>(1, st.max_connections / 2);
        if (st.sessions.size() >= st.max_connections &&
            !evict_oldest_handshake(self, "closed to make room for a new connection: no connect "
                                          "was received and the node has its maximum of " +
                                              std::to_string(st.max_connections) +
                                              " connections")) {
          refuse(self, msg.handle);
          return;
        }
        if (st.handshaking.size() >= max_handshaking)
          evict_oldest_handshake(self, "closed to make room for a new connection: no connect was "
                                       "received and " +
                                           std::to_string(max_handshaking) +
                                           " connections wait for one");
        ++st.accepted;
        if (st.ctx->tcp_no_delay)
          set_no_delay(msg.handle);
        auto id = st.next_session_id++;
        // Arguments go to fork as lvalues: CAF 0.17's typed_broker::fork forwards them twice,
        // so the second use of an rvalue would get a moved-from (null) handle.
        handshake_listener_actor acceptor{self};
        auto session = self->fork(session_behavior, msg.handle, acceptor, st.ctx, id);
        self->monitor(session);
        st.sessions.insert(session);
        st.handshaking.emplace(id, session);
      },
      [self](tick_atom) {
        for (auto& s : self->state.sessions)
          self->send(s, tick_atom::value);
        schedule_tick(self);
      },
      [self](connect_atom) {
        forget_handshake(self->state, caf::actor_cast<caf::actor_addr>(self->current_sender()));
      },
      [self](const caf::io::acceptor_closed_msg&) {
        spdlog::error("acceptor: the client port closed");
      },
      [self](stop_atom) {
        for (auto& s : self->state.sessions)
          self->send(s, stop_atom::value);
        self->close_all();
        self->quit();
      },
      [self](list_atom) {
        return std::vector<session_actor>(self->state.sessions.begin(), self->state.sessions.end());
      },
      [self](snapshot_atom) -> acceptor_snapshot {
        // The mailbox as this actor sees it: messages waiting behind this one.
        return make_acceptor_snapshot(self->state, self->mailbox().size());
      },
  };
}

} // namespace actormq::actors
