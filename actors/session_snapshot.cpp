#include "actors/session_snapshot.hpp"

#include "actors/session.hpp"

namespace actormq::actors {

session_snapshot make_session_snapshot(const session_state& st, size_t mailbox) {
  session_snapshot out;
  out.mailbox = mailbox;
  out.id = st.session_id;
  out.listener = st.ctx->listener;
  out.peer = st.peer;
  out.client_id = st.client_id;
  out.consumers = st.consumers.size();
  out.frames_in = st.frames_in;
  out.frames_out = st.frames_out;
  out.messages_in = st.messages_in;
  out.deliveries_out = st.deliveries_out;
  out.acks_in = st.acks_in;
  out.producers = st.producers.size();
  out.unanswered_sends = st.unanswered_sends;
  out.reading_halted = st.reading_halted;
  return out;
}

} // namespace actormq::actors
