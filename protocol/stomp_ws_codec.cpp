#include "protocol/stomp_ws_codec.hpp"

#include <websocketpp/close.hpp>
#include <websocketpp/config/core.hpp>
#include <websocketpp/frame.hpp>
#include <websocketpp/http/request.hpp>
#include <websocketpp/http/response.hpp>
#include <websocketpp/processors/hybi13.hpp>
#include <websocketpp/utf8_validator.hpp>

#include <algorithm>

namespace actormq::protocol {

namespace {

using ws_config = websocketpp::config::core;
namespace ws_close = websocketpp::close::status;
namespace ws_frame = websocketpp::frame;

// A message may be a frame of limits.max_frame_bytes with the end-of-line bytes clients put
// around frames.
constexpr size_t message_slack_bytes = 64;

// The status line's text ("Bad Request") of an HTTP status.
std::string status_text(int status) {
  return websocketpp::http::status_code::get_string(
      static_cast<websocketpp::http::status_code::value>(status));
}

int http_status_of(error_code code) {
  switch (code) {
  case error_code::limit_exceeded:
  case error_code::shutting_down:
    return 503;
  case error_code::timeout:
    return 408;
  case error_code::frame_too_large:
    return 431;
  case error_code::protocol_version:
    return 426;
  case error_code::internal:
    return 500;
  default:
    return 400;
  }
}

uint16_t close_code_of(error_code code) {
  switch (code) {
  case error_code::shutting_down:
    return ws_close::going_away;
  case error_code::frame_too_large:
    return ws_close::message_too_big;
  case error_code::internal:
  case error_code::store_failed:
    return ws_close::internal_endpoint_error;
  default:
    return ws_close::policy_violation;
  }
}

std::string trimmed(std::string_view s) {
  auto not_space = [](char c) { return c != ' ' && c != '\t'; };
  auto b = std::find_if(s.begin(), s.end(), not_space);
  auto e = std::find_if(s.rbegin(), s.rend(), not_space).base();
  return b < e ? std::string(b, e) : std::string();
}

// The sub-protocols a Sec-WebSocket-Protocol header lists (comma-separated).
std::vector<std::string> listed_subprotocols(const std::string& header) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start <= header.size()) {
    auto comma = header.find(',', start);
    auto item = trimmed(std::string_view(header).substr(
        start, comma == std::string::npos ? std::string::npos : comma - start));
    if (!item.empty())
      out.push_back(std::move(item));
    if (comma == std::string::npos)
      break;
    start = comma + 1;
  }
  return out;
}

} // namespace

const std::vector<std::string>& stomp_ws_subprotocols() {
  static const std::vector<std::string> names{"v12.stomp", "v11.stomp", "v10.stomp", "stomp"};
  return names;
}

struct stomp_ws_codec::websocket {
  websocketpp::http::parser::request request;
  ws_config::rng_type rng;
  ws_config::con_msg_manager_type::ptr messages =
      std::make_shared<ws_config::con_msg_manager_type>();
  websocketpp::processor::hybi13<ws_config> processor{false, true, messages, rng};
  size_t frame_bytes = 0; // bytes of the message now arriving that the processor holds
  std::string input;      // the bytes being fed, which the processor unmasks in place
};

stomp_ws_codec::stomp_ws_codec(const codec_limits& limits, stomp_options options)
    : limits_(limits), stomp_(limits, std::move(options)), ws_(std::make_unique<websocket>()) {
  ws_->processor.set_max_message_size(limits.max_frame_bytes + message_slack_bytes);
}

stomp_ws_codec::~stomp_ws_codec() = default;

void stomp_ws_codec::feed(const char* data, size_t size) {
  if (refused_ || ended_ || state_ == state::closed)
    return;
  if (state_ == state::handshake)
    feed_handshake(data, size);
  else
    feed_frames(data, size);
}

void stomp_ws_codec::feed_handshake(const char* data, size_t size) {
  // An upgrade is a GET: anything else (STOMP sent to this port, say) is refused at once rather
  // than waited on for a header end that never comes.
  if (request_start_.size() < 4) {
    request_start_.append(data, std::min(size, 4 - request_start_.size()));
    if (std::string_view("GET ").substr(0, request_start_.size()) != request_start_) {
      refuse(error_code::malformed_frame,
             "this is a STOMP over WebSocket port: the request must be a WebSocket upgrade (GET "
             "with Upgrade: websocket and Connection: Upgrade)",
             0, 400);
      return;
    }
  }
  size_t used = 0;
  try {
    used = ws_->request.consume(data, size);
  } catch (const websocketpp::http::exception& e) {
    refuse(e.m_error_code == websocketpp::http::status_code::request_header_fields_too_large
               ? error_code::frame_too_large
               : error_code::malformed_frame,
           std::string("the WebSocket upgrade request does not parse: ") + e.what(), 0,
           static_cast<int>(e.m_error_code));
    return;
  }
  handshake_bytes_ += used;
  if (!ws_->request.ready())
    return;
  answer_handshake();
  if (state_ == state::open && used < size)
    feed_frames(data + used, size - used);
}

void stomp_ws_codec::answer_handshake() {
  namespace processor = websocketpp::processor;
  auto& request = ws_->request;
  if (!processor::is_websocket_handshake(request)) {
    refuse(error_code::malformed_frame,
           "this is a STOMP over WebSocket port: the request must be a WebSocket upgrade (GET "
           "with Upgrade: websocket and Connection: Upgrade)",
           0, 400);
    return;
  }
  if (auto version = processor::get_websocket_version(request); version != 13) {
    refuse(error_code::protocol_version,
           "WebSocket version " + std::to_string(version) + " is not spoken (13 is)", 0, 426);
    return;
  }
  if (auto ec = ws_->processor.validate_handshake(request)) {
    refuse(error_code::malformed_frame,
           "the WebSocket upgrade request is not valid: " + ec.message(), 0, 400);
    return;
  }
  auto offered = listed_subprotocols(request.get_header("Sec-WebSocket-Protocol"));
  if (!offered.empty()) {
    for (auto& name : stomp_ws_subprotocols())
      if (std::find(offered.begin(), offered.end(), name) != offered.end()) {
        subprotocol_ = name;
        break;
      }
    if (subprotocol_.empty()) {
      std::string names;
      for (auto& name : stomp_ws_subprotocols())
        names += (names.empty() ? "" : ", ") + name;
      refuse(error_code::protocol_version,
             "none of the sub-protocols " + request.get_header("Sec-WebSocket-Protocol") +
                 " is spoken here (" + names + " are)",
             0, 400);
      return;
    }
  }
  websocketpp::http::parser::response response;
  response.set_version("HTTP/1.1");
  response.set_status(websocketpp::http::status_code::switching_protocols);
  if (auto ec = ws_->processor.process_handshake(request, subprotocol_, response)) {
    refuse(error_code::malformed_frame,
           "the WebSocket upgrade request is not valid: " + ec.message(), 0, 400);
    return;
  }
  response.replace_header("Server", "ActorMQ");
  output_ += response.raw();
  state_ = state::open;
  handshake_bytes_ = 0;
  request = websocketpp::http::parser::request(); // its memory is not needed any more
}

void stomp_ws_codec::feed_frames(const char* data, size_t size) {
  // The processor unmasks payloads in the buffer it is given: it gets a copy.
  ws_->input.assign(data, size);
  auto* bytes = reinterpret_cast<uint8_t*>(ws_->input.data());
  while (size > 0 && state_ == state::open && !refused_) {
    websocketpp::lib::error_code ec;
    size_t used = ws_->processor.consume(bytes, size, ec);
    if (ec) {
      if (ec == websocketpp::processor::error::message_too_big)
        refuse(error_code::frame_too_large,
               "a WebSocket message is over the frame limit of " +
                   std::to_string(limits_.max_frame_bytes) + " bytes (limits.max_frame_bytes)",
               ws_close::message_too_big);
      else if (ec == websocketpp::processor::error::invalid_utf8 ||
               ec == websocketpp::processor::error::invalid_payload)
        refuse(error_code::malformed_frame,
               "a WebSocket text message is not valid UTF-8 (send binary messages for binary "
               "bodies)",
               ws_close::invalid_payload);
      else
        refuse(error_code::malformed_frame, "WebSocket protocol error: " + ec.message(),
               ws_close::protocol_error);
      return;
    }
    bytes += used;
    size -= used;
    ws_->frame_bytes += used;
    if (!ws_->processor.ready()) {
      if (used == 0)
        break; // nothing more it can take now
      continue;
    }
    auto message = ws_->processor.get_message();
    ws_->frame_bytes = 0;
    auto op = message->get_opcode();
    auto& payload = message->get_raw_payload();
    if (op == ws_frame::opcode::text || op == ws_frame::opcode::binary) {
      inbox_bytes_ += payload.size();
      inbox_.push_back(std::move(payload));
    } else if (op == ws_frame::opcode::ping) {
      // A pong's payload is at most 125 bytes, as the ping's (the processor checks).
      output_ += ws_frame::prepare_header(
          ws_frame::basic_header(ws_frame::opcode::pong, payload.size(), true, false),
          ws_frame::extended_header(payload.size()));
      output_ += payload;
    } else if (op == ws_frame::opcode::close) {
      // The client closes: what it sent before is handled, then the session ends (next()).
      peer_close_code_ =
          payload.size() >= 2
              ? static_cast<uint16_t>((uint8_t(payload[0]) << 8) | uint8_t(payload[1]))
              : uint16_t{ws_close::normal};
      state_ = state::closed;
    }
  }
}

// True for a command after which the connection reads nothing more: a fatal refusal or a
// disconnect.
static bool ends_reading(const command& c) {
  auto* refused = std::get_if<refused_command>(&c.body);
  return (refused && refused->fatal) || std::holds_alternative<disconnect_command>(c.body);
}

bool stomp_ws_codec::next(command& out) {
  if (ended_ || !next_command(out))
    return false;
  ended_ = ends_reading(out);
  return true;
}

bool stomp_ws_codec::next_command(command& out) {
  for (;;) {
    if (in_message_) {
      if (stomp_.next(out))
        return true;
      in_message_ = false;
      if (stomp_.buffered() > 0) {
        refuse(error_code::malformed_frame,
               "a WebSocket message ended inside a STOMP frame (each message carries whole "
               "frames, ending with NUL)",
               ws_close::policy_violation);
        inbox_.clear();
        inbox_bytes_ = 0;
      }
    }
    // A refusal comes after the messages that arrived before what it refuses.
    if (inbox_.empty() && !refusals_.empty()) {
      out = std::move(refusals_.front());
      refusals_.pop_front();
      return true;
    }
    if (inbox_.empty())
      break;
    auto message = std::move(inbox_.front());
    inbox_.pop_front();
    inbox_bytes_ -= message.size();
    stomp_.feed(message.data(), message.size());
    in_message_ = true;
  }
  if (state_ == state::closed && !refused_ && !close_answered_) {
    // Echoes the client's close (RFC 6455 5.5.1) before the session closes the connection.
    close_answered_ = true;
    auto code = ws_close::invalid(peer_close_code_) || ws_close::reserved(peer_close_code_)
                    ? uint16_t{ws_close::normal}
                    : peer_close_code_;
    append_close(code, "", output_);
    out.request_id = 0;
    out.body = disconnect_command{};
    return true;
  }
  return false;
}

size_t stomp_ws_codec::buffered() const noexcept {
  if (refused_ || ended_)
    return 0;
  if (state_ == state::handshake)
    return handshake_bytes_;
  return ws_->frame_bytes + inbox_bytes_ + (in_message_ ? stomp_.buffered() : 0);
}

void stomp_ws_codec::release_memory() {
  stomp_.release_memory();
  std::string().swap(ws_->input);
  if (inbox_.empty())
    std::deque<std::string>().swap(inbox_);
  if (output_.empty())
    std::string().swap(output_);
}

bool stomp_ws_codec::take_output(std::string& out) {
  if (output_.empty())
    return false;
  out += output_;
  output_.clear();
  return true;
}

result<void> stomp_ws_codec::encode(uint64_t request_id, const event& ev, std::string& out) {
  auto* error = std::get_if<error_event>(&ev);
  if (state_ == state::handshake) {
    // Before the upgrade only an error is written: as an HTTP answer.
    if (!error)
      return {};
    int status = refused_ ? http_status_ : http_status_of(error->code);
    auto body = error->text + "\n";
    out += "HTTP/1.1 " + std::to_string(status) + " " + status_text(status) + "\r\n";
    out += "Server: ActorMQ\r\nContent-Type: text/plain; charset=utf-8\r\nConnection: close\r\n";
    if (status == 426)
      out += "Sec-WebSocket-Version: 13\r\n";
    out += "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
    state_ = state::closed;
    close_answered_ = true;
    return {};
  }
  if (close_answered_)
    return {}; // nothing follows a close frame
  std::string frame;
  if (auto ok = stomp_.encode(request_id, ev, frame); !ok)
    return ok;
  if (!frame.empty())
    append_message(frame, out);
  if (error) {
    append_close(refused_ ? close_code_ : close_code_of(error->code), "see the ERROR frame", out);
    close_answered_ = true;
  }
  return {};
}

void stomp_ws_codec::refuse(error_code code, std::string text, uint16_t close_code,
                            int http_status) {
  if (refused_)
    return;
  refused_ = true;
  close_code_ = close_code;
  http_status_ = http_status;
  refused_command r;
  r.code = code;
  r.text = std::move(text);
  r.fatal = true;
  refusals_.push_back(command{0, std::move(r)});
}

// A text message when the frame is UTF-8 (every frame without a binary body), else binary.
void stomp_ws_codec::append_message(std::string_view payload, std::string& out) const {
  websocketpp::utf8_validator::validator utf8;
  auto op = utf8.decode(payload.begin(), payload.end()) && utf8.complete()
                ? ws_frame::opcode::text
                : ws_frame::opcode::binary;
  out += ws_frame::prepare_header(ws_frame::basic_header(op, payload.size(), true, false),
                                  ws_frame::extended_header(payload.size()));
  out.append(payload);
}

void stomp_ws_codec::append_close(uint16_t code, std::string_view reason, std::string& out) const {
  std::string payload;
  payload.push_back(static_cast<char>(code >> 8));
  payload.push_back(static_cast<char>(code & 0xff));
  payload.append(reason.substr(0, 120));
  out += ws_frame::prepare_header(
      ws_frame::basic_header(ws_frame::opcode::close, payload.size(), true, false),
      ws_frame::extended_header(payload.size()));
  out += payload;
}

} // namespace actormq::protocol
