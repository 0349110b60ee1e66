#include "actors/acceptor.hpp"
#include "actors/errors.hpp"

#include "actors/atoms.hpp"
#include "actors/snapshot.hpp"

#include <spdlog/spdlog.h>

namespace actormq::actors {

caf::behavior acceptor_behavior(caf::io::stateful_broker<acceptor_state>* self,
                                std::shared_ptr<const session_context> ctx,
                                uint32_t max_connections) {
  self->state.ctx = std::move(ctx);
  self->state.max_connections = max_connections;
  self->set_down_handler([self](caf::down_msg& msg) {
    auto& sessions = self->state.sessions;
    for (auto i = sessions.begin(); i != sessions.end(); ++i)
      if (i->address() == msg.source) {
        sessions.erase(i);
        break;
      }
  });
  // An unexpected message is logged and dropped, never answered.
  self->set_default_handler(drop_unexpected);
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
        if (st.sessions.size() >= st.max_connections) {
          ++st.refused;
          wire::Frame f;
          f.mutable_error()->set_code(wire::ERROR_LIMIT_EXCEEDED);
          f.mutable_error()->set_message("the node has its maximum of " +
                                         std::to_string(st.max_connections) + " connections");
          std::string bytes;
          if (protocol::encode_frame(f, bytes)) {
            auto& buf = self->wr_buf(msg.handle);
            buf.insert(buf.end(), bytes.begin(), bytes.end());
            self->flush(msg.handle);
          }
          self->close(msg.handle);
          spdlog::warn("acceptor refuses a connection: {} connections open", st.sessions.size());
          return;
        }
        ++st.accepted;
        auto session = self->fork(session_behavior, msg.handle, st.ctx, st.next_session_id++);
        self->monitor(session);
        st.sessions.insert(session);
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
        return std::vector<caf::actor>(self->state.sessions.begin(), self->state.sessions.end());
      },
      [self](snapshot_atom) {
        auto& st = self->state;
        caf::settings out;
        caf::put(out, "kind", "acceptor");
        put_count(out, "mailbox",
                  self->mailbox().size()); // waiting messages, as this actor sees them
        put_count(out, "port", st.port);
        put_count(out, "sessions", st.sessions.size());
        put_count(out, "accepted", st.accepted);
        put_count(out, "refused", st.refused);
        return out;
      },
  };
}

} // namespace actormq::actors
