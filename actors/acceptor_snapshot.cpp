#include "actors/acceptor_snapshot.hpp"

#include "actors/acceptor.hpp"

namespace actormq::actors {

acceptor_snapshot make_acceptor_snapshot(const acceptor_state& st, size_t mailbox) {
  acceptor_snapshot out;
  out.mailbox = mailbox;
  out.listener = st.ctx->listener;
  out.protocol = st.ctx->protocol;
  out.port = st.port;
  out.sessions = st.sessions.size();
  out.accepted = st.accepted;
  out.refused = st.refused;
  out.waiting_for_connect = st.handshaking.size();
  out.evicted = st.evicted;
  return out;
}

} // namespace actormq::actors
