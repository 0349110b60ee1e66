// The codec of STOMP over WebSocket (protocol "stomp-ws", the `ws` listener): an HTTP upgrade
// (RFC 6455) first, then WebSocket messages that each carry whole STOMP frames, handed to a
// stomp_codec (stomp_codec.hpp) that does everything STOMP. Browser clients (stomp.js) speak it.
// websocketpp parses the upgrade request and the WebSocket frames and computes the handshake
// answer; this codec drives it with the session's bytes, so no second event loop runs beside the
// node's. Plain C++ (no CAF); websocketpp's exceptions stay inside.
//
// The sub-protocols it offers are ActiveMQ's: v12.stomp, v11.stomp, v10.stomp and stomp, the
// first of these in that order that the client lists (none listed: no sub-protocol). The STOMP
// version itself is agreed by CONNECT as over TCP.
//
// What it refuses (every refusal ends the connection): a request that is no WebSocket upgrade
// (HTTP 400, 426 for another WebSocket version), sub-protocols none of which it speaks (400), an
// upgrade request over 16000 bytes of headers (413); after the upgrade a WebSocket protocol error
// (an unmasked frame, a bad opcode, text that is not UTF-8: close 1002/1007), a message over
// limits.max_frame_bytes (close 1009), a message that ends inside a STOMP frame. Errors after
// the upgrade are a STOMP ERROR frame in a message, then a close frame.
#pragma once

#include "protocol/session_codec.hpp"
#include "protocol/stomp_codec.hpp"

#include <deque>
#include <memory>
#include <string>

namespace actormq::protocol {

// The sub-protocols offered, in the order of preference.
const std::vector<std::string>& stomp_ws_subprotocols();

class stomp_ws_codec final : public session_codec {
public:
  explicit stomp_ws_codec(const codec_limits& limits, stomp_options options = {});
  ~stomp_ws_codec() override;

  const char* protocol() const noexcept override { return "stomp-ws"; }
  void feed(const char* data, size_t size) override;
  bool next(command& out) override;
  size_t buffered() const noexcept override;
  void release_memory() override;
  result<void> encode(uint64_t request_id, const event& ev, std::string& out) override;
  bool take_output(std::string& out) override;
  bool closes_after_error() const noexcept override { return true; }
  bool negotiates_heartbeats() const noexcept override { return true; }
  void set_connection_id(std::string id) override { stomp_.set_connection_id(std::move(id)); }

  // The sub-protocol agreed in the upgrade ("" for none, or before it).
  const std::string& subprotocol() const noexcept { return subprotocol_; }
  bool upgraded() const noexcept { return state_ != state::handshake; }

private:
  enum class state : uint8_t { handshake, open, closed };
  struct websocket; // websocketpp's parser and frame processor

  // The next command of the messages fed, of a refusal, or the client's close.
  bool next_command(command& out);
  void feed_handshake(const char* data, size_t size);
  void feed_frames(const char* data, size_t size);
  void answer_handshake();
  // Refuses the connection: a fatal refused_command; `close_code` is the WebSocket close code
  // the error is written with (after the upgrade), `http_status` the HTTP status (before it).
  void refuse(error_code code, std::string text, uint16_t close_code, int http_status = 400);
  void append_message(std::string_view payload, std::string& out) const;
  void append_close(uint16_t code, std::string_view reason, std::string& out) const;

  codec_limits limits_;
  stomp_codec stomp_;
  std::unique_ptr<websocket> ws_;
  state state_ = state::handshake;
  std::string subprotocol_;
  size_t handshake_bytes_ = 0;    // bytes of the upgrade request fed so far
  std::string request_start_;     // its first bytes, up to 4 ("GET ")
  std::deque<std::string> inbox_; // whole messages not yet handed to the STOMP codec
  size_t inbox_bytes_ = 0;
  bool in_message_ = false;         // the STOMP codec holds the current message's frames
  std::deque<command> refusals_;    // a refusal of this layer (at most one)
  std::string output_;              // bytes answered by this layer (handshake, pong, close)
  int http_status_ = 400;           // of a refusal before the upgrade
  uint16_t close_code_ = 1008;      // of the next error after the upgrade
  uint16_t peer_close_code_ = 1000; // of the client's close frame
  bool close_answered_ = false;     // a close frame (or an HTTP refusal) has been written
  bool refused_ = false;
  bool ended_ = false; // a fatal refusal or a disconnect was yielded: nothing more is read
};

} // namespace actormq::protocol
