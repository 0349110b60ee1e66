#include "actors/session_output.hpp"

#include "actors/errors.hpp"
#include "actors/session_core.hpp"
#include "protocol/frame_codec.hpp"

#include <spdlog/spdlog.h>

namespace actormq::actors {

using clock = session_state::clock;

namespace {

// Writes the frame encoded into the scratch buffer.
void write_scratch(session_ptr self) {
  auto& st = self->state;
  auto& buf = self->wr_buf(st.hdl);
  buf.insert(buf.end(), st.scratch.begin(), st.scratch.end());
  self->flush(st.hdl);
  st.last_write = clock::now();
  ++st.frames_out;
}

void emit_event(session_ptr self, uint64_t request_id, const protocol::event& ev) {
  auto& st = self->state;
  if (st.closing && !std::holds_alternative<protocol::error_event>(ev))
    return;
  st.scratch.clear();
  if (auto ok = st.codec->encode(request_id, ev, st.scratch); !ok) {
    spdlog::error("session {} cannot encode an answer: {}", st.session_id, ok.message());
    return;
  }
  write_scratch(self);
  // A protocol that ends a connection after any error (STOMP) ends it here.
  if (std::holds_alternative<protocol::error_event>(ev) && !st.closing &&
      st.codec->closes_after_error()) {
    spdlog::debug("session {} ({}) closes after an error", st.session_id, st.peer);
    st.closing = true;
    self->close(st.hdl);
    self->quit();
  }
}

} // namespace

void emit(session_ptr self, uint64_t request_id, const protocol::event& ev) {
  auto& st = self->state;
  bool answers_open_request = false;
  if (request_id != 0) {
    if (auto i = st.open_requests.find(request_id); i != st.open_requests.end()) {
      st.open_requests.erase(i);
      answers_open_request = true;
    }
  }
  emit_event(self, request_id, ev);
  if (answers_open_request)
    disconnect_if_due(self);
}

void write_error(session_ptr self, uint64_t request_id, protocol::error_code code,
                 const std::string& text) {
  emit(self, request_id, protocol::error_event{code, text});
}

void write_error(session_ptr self, uint64_t request_id, const caf::error& err) {
  write_error(self, request_id, error_code_of(err), error_text(err));
}

void write_receipt(session_ptr self, uint64_t request_id, uint64_t count, uint64_t duplicates) {
  if (request_id != 0)
    emit(self, request_id, protocol::receipt_event{count, duplicates});
}

void fail(session_ptr self, protocol::error_code code, const std::string& text,
          uint64_t request_id) {
  auto& st = self->state;
  if (st.closing)
    return;
  spdlog::warn("session {} ({}) closes: {}", st.session_id, st.peer, text);
  st.closing = true; // before the error: emit writes errors while closing, and closes only once
  write_error(self, request_id, code, text);
  self->close(st.hdl);
  self->quit();
}

void refuse(session_ptr self, uint64_t request_id, protocol::error_code code,
            const std::string& text) {
  if (request_id != 0)
    write_error(self, request_id, code, text);
  else
    fail(self, code, text);
}

namespace {

protocol::delivery_event delivery_event_of(const delivery& d) {
  return protocol::delivery_event{d.consumer_id, d.key, d.redelivered, d.delivery_count, d.payload};
}

} // namespace

bool write_delivery(session_ptr self, const delivery& d) {
  auto& st = self->state;
  ++st.deliveries_out;
  if (st.closing)
    return false;
  st.scratch.clear();
  if (auto ok = st.codec->encode(0, delivery_event_of(d), st.scratch); !ok) {
    // Not sent: it stays in flight to the consumer until the consumer closes.
    auto consumer = st.consumers.find(d.consumer_id);
    auto destination = consumer == st.consumers.end() ? "?" : consumer->second.destination;
    if (ok.code() == protocol::codec_errc::unreadable_message)
      spdlog::error("session {} ({}): unreadable stored message {} of {}: {}", st.session_id,
                    st.peer, d.key, destination, ok.message());
    else
      spdlog::error("session {} ({}) cannot encode message {} of {}: {}", st.session_id, st.peer,
                    d.key, destination, ok.message());
    return false;
  }
  write_scratch(self);
  return true;
}

void write_browse_reply(session_ptr self, uint64_t request_id, const delivery_list& list,
                        uint64_t pending) {
  protocol::browse_reply_event reply;
  reply.pending = pending;
  reply.messages.reserve(list.size());
  for (auto& d : list)
    reply.messages.push_back(delivery_event_of(d));
  emit(self, request_id, reply);
}

} // namespace actormq::actors
