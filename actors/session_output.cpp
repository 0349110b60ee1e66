#include "actors/session_output.hpp"

#include "actors/errors.hpp"

#include <spdlog/spdlog.h>

namespace actormq::actors {

using clock = session_state::clock;

void write_frame(session_ptr self, const wire::Frame& frame) {
  auto& st = self->state;
  if (st.closing && !frame.has_error())
    return;
  st.scratch.clear();
  if (auto ok = protocol::encode_frame(frame, st.scratch, st.ctx->max_frame_bytes); !ok) {
    spdlog::error("session {} cannot encode a {} frame: {}", st.session_id,
                  protocol::command_name(frame), ok.message());
    return;
  }
  auto& buf = self->wr_buf(st.hdl);
  buf.insert(buf.end(), st.scratch.begin(), st.scratch.end());
  self->flush(st.hdl);
  st.last_write = clock::now();
  ++st.frames_out;
}

void write_error(session_ptr self, uint64_t correlation_id, uint32_t code,
                 const std::string& text) {
  wire::Frame f;
  f.set_correlation_id(correlation_id);
  f.mutable_error()->set_code(static_cast<wire::ErrorCode>(code));
  f.mutable_error()->set_message(text);
  write_frame(self, f);
}

void write_error(session_ptr self, uint64_t correlation_id, const caf::error& err) {
  write_error(self, correlation_id, wire_code(err), error_text(err));
}

void write_receipt(session_ptr self, uint64_t correlation_id, uint64_t count, uint64_t duplicates) {
  if (correlation_id == 0)
    return;
  wire::Frame f;
  f.set_correlation_id(correlation_id);
  f.mutable_receipt()->set_count(count);
  f.mutable_receipt()->set_duplicates(duplicates);
  write_frame(self, f);
}

void fail(session_ptr self, wire::ErrorCode code, const std::string& text,
          uint64_t correlation_id) {
  auto& st = self->state;
  if (st.closing)
    return;
  spdlog::warn("session {} ({}) closes: {}", st.session_id, st.peer, text);
  write_error(self, correlation_id, code, text);
  st.closing = true;
  self->close(st.hdl);
  self->quit();
}

void write_delivery(session_ptr self, delivery& d) {
  wire::Frame f;
  auto* out = f.mutable_dispatch();
  out->set_consumer_id(d.consumer_id);
  out->set_delivery_key(d.key);
  out->set_redelivered(d.redelivered);
  out->set_delivery_count(d.delivery_count);
  if (!out->mutable_message()->ParseFromString(d.payload))
    spdlog::error("session {} got an unreadable stored message {}", self->state.session_id, d.key);
  ++self->state.deliveries_out;
  write_frame(self, f);
}

void refuse(session_ptr self, uint64_t corr, wire::ErrorCode code, const std::string& text) {
  if (corr != 0)
    write_error(self, corr, code, text);
  else
    fail(self, code, text);
}

void write_browse_reply(session_ptr self, uint64_t corr, const delivery_list& list,
                        uint64_t pending) {
  wire::Frame out;
  out.set_correlation_id(corr);
  auto* reply = out.mutable_browse_reply();
  reply->set_pending(pending);
  // The frame's correlation id, the reply's tag and length, and `pending` take at most 28 bytes.
  constexpr size_t reply_header_bytes = 32;
  size_t room = self->state.ctx->max_frame_bytes - reply_header_bytes;
  for (auto& d : list) {
    wire::Dispatch item;
    item.set_delivery_key(d.key);
    item.set_redelivered(d.redelivered);
    item.set_delivery_count(d.delivery_count);
    item.mutable_message()->ParseFromString(d.payload);
    auto size = item.ByteSizeLong() + 6; // the field's tag and length
    if (size > room)
      break;
    room -= size;
    *reply->add_messages() = std::move(item);
  }
  write_frame(self, out);
}

} // namespace actormq::actors
