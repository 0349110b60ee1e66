// Private to storage/: the byte layout of every LMDB key and value (see docs/storage.md).
// Keys are big-endian so that LMDB's byte order is numeric order; values are little-endian
// with fixed widths. Nothing here depends on the host's struct layout.
#pragma once

#include "storage/store.hpp"

#include <bitset>
#include <cstdint>
#include <string>
#include <string_view>

namespace actormq::storage::detail {

inline void append_be(std::string& out, uint64_t v, int bytes) {
  for (int i = bytes - 1; i >= 0; --i)
    out.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}

inline void append_le(std::string& out, uint64_t v, int bytes) {
  for (int i = 0; i < bytes; ++i)
    out.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}

inline uint64_t read_be(std::string_view in, size_t pos, int bytes) {
  uint64_t v = 0;
  for (int i = 0; i < bytes; ++i)
    v = (v << 8) | static_cast<unsigned char>(in[pos + i]);
  return v;
}

inline uint64_t read_le(std::string_view in, size_t pos, int bytes) {
  uint64_t v = 0;
  for (int i = bytes - 1; i >= 0; --i)
    v = (v << 8) | static_cast<unsigned char>(in[pos + i]);
  return v;
}

// "meta" keys. schema: u32; store_id: the UUID text.
inline const std::string meta_schema_key = "schema";
inline const std::string meta_store_id_key = "store_id";
// u32: the highest destination id ever given, so that a removed destination's id is never
// reused (audit windows and transfer marks are keyed by it).
inline const std::string meta_last_destination_key = "last_destination_id";
// u64: the highest body id ever given (body ids are never reused).
inline const std::string meta_last_body_key = "last_body_id";
// u64: rewritten by a commit whose only purpose is to advance the transaction id (apply()).
inline const std::string meta_touch_key = "touch";
// u64: the number of the last journal record in the store (journal.hpp), written by each
// checkpoint; opening the store applies the records after it.
inline const std::string meta_journal_applied_key = "journal_applied";
// u64 epoch, u64 sequence: the replication position (replication.hpp) of the last replicated or
// shipped batch, written in that batch's transaction.
inline const std::string meta_replication_position_key = "replication_position";

// "destinations" and "sequences" key: the destination id, 4 bytes big-endian.
inline std::string destination_key(uint32_t destination_id) {
  std::string k;
  append_be(k, destination_id, 4);
  return k;
}

// "index" key: destination id (4 bytes BE) + sequence (8 bytes BE).
constexpr size_t message_key_size = 12;
inline std::string message_key(uint32_t destination_id, uint64_t sequence) {
  std::string k;
  k.reserve(message_key_size);
  append_be(k, destination_id, 4);
  append_be(k, sequence, 8);
  return k;
}

// "message_bodies" and "body_refs" key: the body id, 8 bytes big-endian (ids only grow, so a
// new body is appended). "message_bodies" value: the payload bytes. "body_refs" value: the
// references, u32 LE, only for a body referenced more than once (no record: one reference).
constexpr size_t body_key_size = 8;
inline std::string body_key(uint64_t body_id) {
  std::string k;
  k.reserve(body_key_size);
  append_be(k, body_id, 8);
  return k;
}

// "audit" key: producer id + '\0' + destination id (4 bytes BE).
inline std::string audit_key(const std::string& producer_id, uint32_t destination_id) {
  std::string k = producer_id;
  k.push_back('\0');
  append_be(k, destination_id, 4);
  return k;
}

// "transfers" key: link id + '\0' + link sequence (8 bytes BE). The link id is at most
// max_link_id_size bytes and holds no '\0', so that a link's marks share one prefix.
constexpr size_t max_link_id_size = 200;
constexpr size_t transfer_key_suffix_size = 9; // '\0' + link sequence

inline bool valid_link_id(const std::string& link_id) {
  return !link_id.empty() && link_id.size() <= max_link_id_size &&
         link_id.find('\0') == std::string::npos;
}

// The prefix shared by every key of one link.
inline std::string transfer_prefix(const std::string& link_id) {
  std::string k = link_id;
  k.push_back('\0');
  return k;
}

inline std::string transfer_key(const std::string& link_id, uint64_t link_sequence) {
  std::string k = transfer_prefix(link_id);
  append_be(k, link_sequence, 8);
  return k;
}

inline bool decode_transfer_key(std::string_view in, std::string& link_id,
                                uint64_t& link_sequence) {
  if (in.size() <= transfer_key_suffix_size)
    return false;
  size_t split = in.size() - transfer_key_suffix_size;
  if (in[split] != '\0' || in.substr(0, split).find('\0') != std::string_view::npos)
    return false;
  link_id.assign(in.substr(0, split));
  link_sequence = read_be(in, split + 1, 8);
  return true;
}

// "transfers" value, 12 bytes LE: destination id u32, sequence u64.
constexpr size_t transfer_value_size = 12;

inline std::string encode_transfer(uint32_t destination_id, uint64_t sequence) {
  std::string out;
  out.reserve(transfer_value_size);
  append_le(out, destination_id, 4);
  append_le(out, sequence, 8);
  return out;
}

inline bool decode_transfer(std::string_view in, uint32_t& destination_id, uint64_t& sequence) {
  if (in.size() != transfer_value_size)
    return false;
  destination_id = static_cast<uint32_t>(read_le(in, 0, 4));
  sequence = read_le(in, 4, 8);
  return true;
}

// Fixed-width little-endian integers ("meta" schema, "audit", "sequences", "link_sequences").
inline std::string encode_u32(uint32_t v) {
  std::string out;
  append_le(out, v, 4);
  return out;
}

inline std::string encode_u64(uint64_t v) {
  std::string out;
  append_le(out, v, 8);
  return out;
}

inline bool decode_u32(std::string_view in, uint32_t& v) {
  if (in.size() != 4)
    return false;
  v = static_cast<uint32_t>(read_le(in, 0, 4));
  return true;
}

inline bool decode_u64(std::string_view in, uint64_t& v) {
  if (in.size() != 8)
    return false;
  v = read_le(in, 0, 8);
  return true;
}

// "audit" value: the producer audit's exact window of one (producer, destination). `high` is the
// highest producer sequence stored; bit i of `seen` says whether sequence high - i was stored
// (i < audit_window_size). A sequence at or below high - audit_window_size counts as seen.
// 8 + 128 bytes LE: high u64, then the bits (byte j holds bits 8j..8j+7, lowest first).
// A record of 8 bytes (written before the window existed) is a high-water mark: every sequence
// at or below it counts as seen.
// "scheduled": key the id (8 bytes, big-endian); value next_ms u64, period_ms u64, repeats_left
// u32, delivered u32, then destination, cron and payload, each a u32 length and its bytes.
inline std::string encode_scheduled(const scheduled_entry& e) {
  std::string out;
  out.reserve(32 + e.destination.size() + e.cron.size() + e.payload.size());
  append_le(out, static_cast<uint64_t>(e.next_ms), 8);
  append_le(out, static_cast<uint64_t>(e.period_ms), 8);
  append_le(out, static_cast<uint32_t>(e.repeats_left), 4);
  append_le(out, e.delivered, 4);
  for (auto* s : {&e.destination, &e.cron, &e.payload}) {
    append_le(out, s->size(), 4);
    out += *s;
  }
  return out;
}

inline bool decode_scheduled(std::string_view in, scheduled_entry& e) {
  if (in.size() < 24)
    return false;
  e.next_ms = static_cast<int64_t>(read_le(in, 0, 8));
  e.period_ms = static_cast<int64_t>(read_le(in, 8, 8));
  e.repeats_left = static_cast<int32_t>(static_cast<uint32_t>(read_le(in, 16, 4)));
  e.delivered = static_cast<uint32_t>(read_le(in, 20, 4));
  size_t pos = 24;
  for (auto* s : {&e.destination, &e.cron, &e.payload}) {
    if (in.size() - pos < 4)
      return false;
    auto size = static_cast<size_t>(read_le(in, pos, 4));
    pos += 4;
    if (in.size() - pos < size)
      return false;
    s->assign(in.substr(pos, size));
    pos += size;
  }
  return pos == in.size();
}

constexpr size_t audit_window_size = 1024;
constexpr size_t audit_value_size = 8 + audit_window_size / 8;

struct audit_window {
  uint64_t high = 0;
  std::bitset<audit_window_size> seen;

  bool stored(uint64_t sequence) const {
    if (sequence > high)
      return false;
    uint64_t behind = high - sequence;
    return behind >= audit_window_size || seen.test(static_cast<size_t>(behind));
  }
  void add(uint64_t sequence) {
    if (sequence > high) {
      uint64_t ahead = sequence - high;
      if (ahead >= audit_window_size)
        seen.reset();
      else
        seen <<= static_cast<size_t>(ahead);
      high = sequence;
      seen.set(0);
    } else if (high - sequence < audit_window_size) {
      seen.set(static_cast<size_t>(high - sequence));
    }
  }
};

inline std::string encode_audit(const audit_window& w) {
  std::string out;
  out.reserve(audit_value_size);
  append_le(out, w.high, 8);
  for (size_t byte = 0; byte < audit_window_size / 8; ++byte) {
    unsigned bits = 0;
    for (size_t bit = 0; bit < 8; ++bit)
      if (w.seen.test(byte * 8 + bit))
        bits |= 1u << bit;
    out.push_back(static_cast<char>(bits));
  }
  return out;
}

inline bool decode_audit(std::string_view in, audit_window& w) {
  if (in.size() == 8) { // a high-water mark of an older store
    w.high = read_le(in, 0, 8);
    w.seen.set();
    return true;
  }
  if (in.size() != audit_value_size)
    return false;
  w.high = read_le(in, 0, 8);
  w.seen.reset();
  for (size_t byte = 0; byte < audit_window_size / 8; ++byte) {
    auto bits = static_cast<unsigned char>(in[8 + byte]);
    for (size_t bit = 0; bit < 8; ++bit)
      if (bits & (1u << bit))
        w.seen.set(byte * 8 + bit);
  }
  return true;
}

// "index" value, 40 bytes LE: sequence u64, size u32, priority i32, expiration_ms i64,
// flags u32, delivery_count u32, body id u64 (0: no body; only a message migrated from a
// schema 1 store whose body was missing has none).
constexpr size_t index_value_size = 40;
// Schema 1 wrote the first 32 bytes only (the body was keyed by the message key).
constexpr size_t schema1_index_value_size = 32;

inline std::string encode_index(const index_entry& e, uint64_t body_id) {
  std::string out;
  out.reserve(index_value_size);
  append_le(out, e.sequence, 8);
  append_le(out, e.size, 4);
  append_le(out, static_cast<uint32_t>(e.priority), 4);
  append_le(out, static_cast<uint64_t>(e.expiration_ms), 8);
  append_le(out, e.flags, 4);
  append_le(out, e.delivery_count, 4);
  append_le(out, body_id, 8);
  return out;
}

// The entry fields shared by both schemas' values.
inline void decode_index_fields(std::string_view in, index_entry& e) {
  e.sequence = read_le(in, 0, 8);
  e.size = static_cast<uint32_t>(read_le(in, 8, 4));
  e.priority = static_cast<int32_t>(static_cast<uint32_t>(read_le(in, 12, 4)));
  e.expiration_ms = static_cast<int64_t>(read_le(in, 16, 8));
  e.flags = static_cast<uint32_t>(read_le(in, 24, 4));
  e.delivery_count = static_cast<uint32_t>(read_le(in, 28, 4));
}

inline bool decode_index(std::string_view in, index_entry& e, uint64_t& body_id) {
  if (in.size() != index_value_size)
    return false;
  decode_index_fields(in, e);
  body_id = read_le(in, 32, 8);
  return true;
}

inline bool decode_schema1_index(std::string_view in, index_entry& e) {
  if (in.size() != schema1_index_value_size)
    return false;
  decode_index_fields(in, e);
  return true;
}

// "destinations" value, LE: enqueued u64, dequeued u64, duplicates u64, then the name bytes.
constexpr size_t destination_fixed_size = 24;

inline std::string encode_destination(const destination_record& d) {
  std::string out;
  out.reserve(destination_fixed_size + d.name.size());
  append_le(out, d.enqueued, 8);
  append_le(out, d.dequeued, 8);
  append_le(out, d.duplicates, 8);
  out += d.name;
  return out;
}

inline bool decode_destination(uint32_t id, std::string_view in, destination_record& d) {
  if (in.size() < destination_fixed_size)
    return false;
  d.id = id;
  d.enqueued = read_le(in, 0, 8);
  d.dequeued = read_le(in, 8, 8);
  d.duplicates = read_le(in, 16, 8);
  d.name.assign(in.substr(destination_fixed_size));
  return true;
}

} // namespace actormq::storage::detail
