// Journal record payloads: operations to bytes and back (journal_records.hpp).
#include "storage/journal_records.hpp"

#include "storage/encoding.hpp"

#include <limits>
#include <type_traits>

namespace actormq::storage::detail {
namespace {

class writer {
public:
  explicit writer(std::string& out) : out_(out) {}
  void u8(uint8_t v) { out_.push_back(static_cast<char>(v)); }
  void u32(uint32_t v) { append_le(out_, v, 4); }
  void u64(uint64_t v) { append_le(out_, v, 8); }
  void text(const std::string& s) {
    u32(static_cast<uint32_t>(s.size()));
    out_ += s;
  }
  void entry(const index_entry& e) { out_ += encode_index(e, 0); }

  void op(const put_op& o) {
    u32(o.destination_id);
    entry(o.entry);
    text(o.payload);
    text(o.producer_id);
    u64(o.producer_sequence);
  }
  void op(const delete_op& o) {
    u32(o.destination_id);
    u64(o.sequence);
  }
  void op(const purge_op& o) { u32(o.destination_id); }
  void op(const create_destination_op& o) { text(o.name); }
  void op(const set_flags_op& o) {
    u32(o.destination_id);
    u64(o.sequence);
    u32(o.flags);
  }
  void op(const mark_transfer_op& o) {
    text(o.link_id);
    u64(o.link_sequence);
    u32(o.destination_id);
    u64(o.sequence);
  }
  void op(const clear_transfer_op& o) {
    text(o.link_id);
    u64(o.link_sequence);
    u8(o.delete_message ? 1 : 0);
  }
  void op(const remove_destination_op& o) { u32(o.destination_id); }
  void op(const record_delivery_op& o) {
    u32(o.destination_id);
    u64(o.sequence);
    u32(o.delivery_count);
  }
  void op(const shared_put_op& o) {
    u32(o.audit_destination_id);
    u32(static_cast<uint32_t>(o.targets.size()));
    for (auto& t : o.targets) {
      u32(t.destination_id);
      entry(t.entry);
    }
    text(o.payload);
    text(o.producer_id);
    u64(o.producer_sequence);
  }
  void op(const move_op& o) {
    u32(o.from_destination_id);
    u64(o.from_sequence);
    u32(o.to_destination_id);
    u64(o.to_sequence);
  }
  void op(const schedule_op& o) {
    u64(o.entry.id);
    text(encode_scheduled(o.entry));
    text(o.producer_id);
    u64(o.producer_sequence);
  }
  void op(const unschedule_op& o) { u64(o.id); }
  void op(const relocate_op& o) {
    u32(o.from_destination_id);
    u64(o.from_sequence);
    u32(o.to_destination_id);
    entry(o.entry);
    text(o.payload);
  }

private:
  std::string& out_;
};

class reader {
public:
  explicit reader(std::string_view in) : in_(in) {}
  bool ok() const { return ok_; }
  bool done() const { return pos_ == in_.size(); }

  uint64_t fixed(int bytes) {
    if (!ok_ || in_.size() - pos_ < static_cast<size_t>(bytes)) {
      ok_ = false;
      return 0;
    }
    uint64_t v = read_le(in_, pos_, bytes);
    pos_ += static_cast<size_t>(bytes);
    return v;
  }
  void get(uint8_t& v) { v = static_cast<uint8_t>(fixed(1)); }
  void get(uint32_t& v) { v = static_cast<uint32_t>(fixed(4)); }
  void get(uint64_t& v) { v = fixed(8); }
  void get(bool& v) {
    uint64_t byte = fixed(1);
    ok_ = ok_ && byte <= 1; // only what the writer writes
    v = byte != 0;
  }
  void get(std::string& s) {
    auto size = static_cast<size_t>(fixed(4));
    if (!ok_ || in_.size() - pos_ < size) {
      ok_ = false;
      return;
    }
    s.assign(in_.substr(pos_, size));
    pos_ += size;
  }
  void get(index_entry& e) {
    if (!ok_ || in_.size() - pos_ < index_value_size) {
      ok_ = false;
      return;
    }
    auto value = in_.substr(pos_, index_value_size);
    decode_index_fields(value, e);
    // The writer leaves the body id out (0): the store gives one when it applies the put.
    ok_ = read_le(value, index_value_size - 8, 8) == 0;
    pos_ += index_value_size;
  }
  template <class... Ts> void fields(Ts&... fs) { (get(fs), ...); }

  void op(put_op& o) {
    fields(o.destination_id, o.entry, o.payload, o.producer_id, o.producer_sequence);
  }
  void op(delete_op& o) { fields(o.destination_id, o.sequence); }
  void op(purge_op& o) { fields(o.destination_id); }
  void op(create_destination_op& o) { fields(o.name); }
  void op(set_flags_op& o) { fields(o.destination_id, o.sequence, o.flags); }
  void op(mark_transfer_op& o) { fields(o.link_id, o.link_sequence, o.destination_id, o.sequence); }
  void op(clear_transfer_op& o) { fields(o.link_id, o.link_sequence, o.delete_message); }
  void op(remove_destination_op& o) { fields(o.destination_id); }
  void op(record_delivery_op& o) { fields(o.destination_id, o.sequence, o.delivery_count); }
  void op(shared_put_op& o) {
    uint32_t count = 0;
    fields(o.audit_destination_id, count);
    // Each target takes at least its entry's bytes: a count beyond what is left is damage.
    if (!ok_ || count > (in_.size() - pos_) / index_value_size) {
      ok_ = false;
      return;
    }
    o.targets.resize(count);
    for (auto& t : o.targets)
      fields(t.destination_id, t.entry);
    fields(o.payload, o.producer_id, o.producer_sequence);
  }
  void op(move_op& o) {
    fields(o.from_destination_id, o.from_sequence, o.to_destination_id, o.to_sequence);
  }
  void op(schedule_op& o) {
    std::string value;
    fields(o.entry.id, value, o.producer_id, o.producer_sequence);
    ok_ = ok_ && decode_scheduled(value, o.entry);
  }
  void op(unschedule_op& o) { fields(o.id); }
  void op(relocate_op& o) {
    fields(o.from_destination_id, o.from_sequence, o.to_destination_id, o.entry, o.payload);
  }

private:
  std::string_view in_;
  size_t pos_ = 0;
  bool ok_ = true;
};

// The alternative of `operation` with index `index`, default-constructed.
template <size_t I = 0> bool make_operation(size_t index, operation& out) {
  if constexpr (I < std::variant_size_v<operation>) {
    if (index == I) {
      out.emplace<I>();
      return true;
    }
    return make_operation<I + 1>(index, out);
  } else {
    return false;
  }
}

} // namespace

std::string encode_operations(const std::vector<operation>& batch, size_t first, size_t last) {
  std::string out;
  size_t bytes = 4;
  for (size_t i = first; i < last; ++i)
    if (auto* put = std::get_if<put_op>(&batch[i]))
      bytes += put->payload.size() + 96;
    else
      bytes += 64;
  out.reserve(bytes);
  writer w(out);
  w.u32(static_cast<uint32_t>(last - first));
  for (size_t i = first; i < last; ++i) {
    w.u8(static_cast<uint8_t>(batch[i].index()));
    std::visit([&](const auto& op) { w.op(op); }, batch[i]);
  }
  return out;
}

bool decode_operations(std::string_view payload, std::vector<operation>& out) {
  reader r(payload);
  uint32_t count = 0;
  r.get(count);
  // Each operation takes at least its one-byte index.
  if (!r.ok() || count > payload.size())
    return false;
  out.reserve(out.size() + count);
  for (uint32_t i = 0; i < count && r.ok(); ++i) {
    uint8_t index = 0;
    r.get(index);
    operation op;
    if (!r.ok() || !make_operation(index, op))
      return false;
    std::visit([&](auto& o) { r.op(o); }, op);
    if (r.ok())
      out.push_back(std::move(op));
  }
  return r.ok() && r.done();
}

bool may_answer_unflushed(const std::vector<operation>& batch, size_t first, size_t last) {
  for (size_t i = first; i < last; ++i)
    if (!std::holds_alternative<delete_op>(batch[i]) &&
        !std::holds_alternative<clear_transfer_op>(batch[i]))
      return false;
  return true;
}

uint64_t pages_touched(const std::vector<operation>& batch, size_t first, size_t last,
                       uint64_t page_size) {
  // A tree path: leaf and branches (stores here are a few levels deep), in the index, bodies,
  // references, audit, destinations and the free list.
  constexpr uint64_t path_pages = 12;
  uint64_t pages = 0;
  for (size_t i = first; i < last; ++i) {
    pages += path_pages;
    if (auto* put = std::get_if<put_op>(&batch[i]))
      pages += put->payload.size() / page_size + 1;
    else if (auto* shared = std::get_if<shared_put_op>(&batch[i]))
      pages += shared->payload.size() / page_size + 1 + shared->targets.size() * path_pages;
    else if (auto* scheduled = std::get_if<schedule_op>(&batch[i]))
      pages += scheduled->entry.payload.size() / page_size + 1;
  }
  return pages;
}

} // namespace actormq::storage::detail
