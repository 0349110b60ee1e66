// The in-memory storage::backend: one std::map per LMDB database, the operations in the order
// and with the checks of the LMDB handlers (message_ops.cpp, producer_audit.cpp,
// destination_ops.cpp, transfer_marks.cpp), so that both give the same results.
#include "storage/memory_backend.hpp"

#include "storage/encoding.hpp"

#include <algorithm>
#include <cstdio>
#include <map>
#include <mutex>
#include <random>
#include <tuple>

namespace actormq::storage {
namespace {

using detail::audit_window;
using detail::valid_link_id;

using message_key = std::pair<uint32_t, uint64_t>; // destination id, sequence

struct stored_message {
  index_entry entry;
  uint64_t body_id = 0;
};

struct stored_body {
  std::string payload;
  uint32_t references = 0;
};

std::string random_store_id() {
  std::random_device device;
  std::mt19937_64 bits(static_cast<uint64_t>(device()) << 32 | device());
  uint64_t hi = bits();
  uint64_t lo = bits();
  hi = (hi & ~0xf000ull) | 0x4000ull;       // version 4
  lo = (lo & ~(3ull << 62)) | (2ull << 62); // RFC 4122 variant
  char text[37];
  std::snprintf(text, sizeof text, "%08x-%04x-%04x-%04x-%012llx", static_cast<unsigned>(hi >> 32),
                static_cast<unsigned>((hi >> 16) & 0xffff), static_cast<unsigned>(hi & 0xffff),
                static_cast<unsigned>(lo >> 48),
                static_cast<unsigned long long>(lo & 0xffffffffffffull));
  return text;
}

failure message_not_stored(uint32_t destination_id, uint64_t sequence) {
  return failure{store_errc::not_found, "message " + std::to_string(destination_id) + "/" +
                                            std::to_string(sequence) + " is not stored"};
}

} // namespace

struct memory_backend::impl {
  mutable std::mutex mutex; // guards everything below
  store_info info;
  store_stats counters;

  // The LMDB store's databases (docs/storage.md), keyed alike so that the orders agree.
  std::map<uint32_t, destination_record> destinations;
  std::map<std::string, uint32_t> destination_names;
  std::map<message_key, stored_message> messages; // "index"
  std::map<uint64_t, stored_body> bodies;         // "message_bodies" and "body_refs"
  uint64_t last_body_id = 0;                      // body ids are never reused
  std::map<std::pair<std::string, uint32_t>, audit_window> audit;
  std::map<uint32_t, uint64_t> sequences; // kept when a destination is removed, as in LMDB
  std::map<std::pair<std::string, uint64_t>, message_key> transfer_marks;
  std::map<std::string, uint64_t> link_sequences;
  uint32_t last_destination_id = 0; // ids are never reused
  std::map<uint64_t, scheduled_entry> scheduled;

  destination_record* destination(uint32_t id) {
    auto it = destinations.find(id);
    return it == destinations.end() ? nullptr : &it->second;
  }

  uint64_t add_body(const std::string& payload) {
    uint64_t id = ++last_body_id;
    bodies[id] = stored_body{payload, 0};
    return id;
  }

  // Drops one reference to a body; the last one deletes it.
  void release_body(uint64_t id) {
    auto it = bodies.find(id);
    if (it != bodies.end() && --it->second.references == 0)
      bodies.erase(it);
  }

  // Stores (key -> entry, body_id), replacing a message stored there, as write_index does in
  // the LMDB store: false if the replaced message referenced the same body.
  bool write_index(const message_key& key, const index_entry& entry, uint64_t body_id) {
    auto [it, inserted] = messages.try_emplace(key, stored_message{entry, body_id});
    if (inserted)
      return true;
    uint64_t old_body = it->second.body_id;
    it->second = stored_message{entry, body_id};
    if (old_body == body_id)
      return false;
    release_body(old_body);
    return true;
  }

  // Deletes one message and releases its body; false if it is not stored.
  bool delete_message(const message_key& key) {
    auto it = messages.find(key);
    if (it == messages.end())
      return false;
    uint64_t body_id = it->second.body_id;
    messages.erase(it);
    release_body(body_id);
    return true;
  }

  // Deletes every message of destination `id`; returns how many.
  uint64_t delete_all(uint32_t id) {
    uint64_t count = 0;
    for (auto it = messages.lower_bound({id, 0}); it != messages.end() && it->first.first == id;) {
      release_body(it->second.body_id);
      it = messages.erase(it);
      ++count;
    }
    return count;
  }

  void raise_sequence(uint32_t id, uint64_t sequence) {
    auto& last = sequences[id];
    last = std::max(last, sequence);
  }

  // The producer audit of a put on destination `audit_id` (`dest`): io_error for a producer id
  // that cannot be an LMDB key, a counted duplicate for a resend. Returns the window to add the
  // sequence to once stored, or nullptr (no producer id, or the put ends here: see r).
  audit_window* check_audit(const std::string& producer_id, uint32_t audit_id,
                            uint64_t producer_sequence, destination_record& dest, op_result& r) {
    if (producer_id.empty())
      return nullptr;
    // The LMDB key is producer id + '\0' + 4 bytes of destination id.
    if (producer_id.size() + 5 > max_key_size) {
      r.error = store_errc::io_error;
      return nullptr;
    }
    audit_window* window = &audit[{producer_id, audit_id}];
    if (window->stored(producer_sequence)) {
      r.duplicate = true;
      ++dest.duplicates;
      return nullptr;
    }
    return window;
  }

  void run(put_op& op, op_result& r) {
    auto* dest = destination(op.destination_id);
    if (dest == nullptr) {
      r.error = store_errc::not_found;
      return;
    }
    audit_window* window =
        check_audit(op.producer_id, op.destination_id, op.producer_sequence, *dest, r);
    if (r.error || r.duplicate)
      return;
    op.entry.size = static_cast<uint32_t>(op.payload.size());
    uint64_t body_id = add_body(op.payload);
    bodies[body_id].references = 1;
    write_index({op.destination_id, op.entry.sequence}, op.entry, body_id);
    if (window != nullptr)
      window->add(op.producer_sequence);
    raise_sequence(op.destination_id, op.entry.sequence);
    ++dest->enqueued;
  }

  void run(shared_put_op& op, op_result& r) {
    auto* audit_dest = destination(op.audit_destination_id);
    bool targets_exist = std::all_of(op.targets.begin(), op.targets.end(), [&](const auto& t) {
      return destination(t.destination_id) != nullptr;
    });
    if (audit_dest == nullptr || !targets_exist) {
      r.error = store_errc::not_found;
      return;
    }
    audit_window* window =
        check_audit(op.producer_id, op.audit_destination_id, op.producer_sequence, *audit_dest, r);
    if (r.error || r.duplicate)
      return;
    if (!op.targets.empty()) {
      uint64_t body_id = add_body(op.payload);
      uint32_t references = 0;
      for (auto& target : op.targets) {
        target.entry.size = static_cast<uint32_t>(op.payload.size());
        references +=
            write_index({target.destination_id, target.entry.sequence}, target.entry, body_id);
        raise_sequence(target.destination_id, target.entry.sequence);
        ++destination(target.destination_id)->enqueued;
      }
      bodies[body_id].references = references;
    }
    if (window != nullptr)
      window->add(op.producer_sequence);
  }

  void run(move_op& op, op_result& r) {
    auto* from = destination(op.from_destination_id);
    auto* to = destination(op.to_destination_id);
    auto it = messages.find({op.from_destination_id, op.from_sequence});
    if (from == nullptr || to == nullptr || it == messages.end()) {
      r.error = store_errc::not_found;
      return;
    }
    stored_message moved = it->second;
    messages.erase(it); // the source's reference becomes the target's
    moved.entry.sequence = op.to_sequence;
    if (!write_index({op.to_destination_id, op.to_sequence}, moved.entry, moved.body_id))
      release_body(moved.body_id); // the target held this body already
    raise_sequence(op.to_destination_id, op.to_sequence);
    ++from->dequeued;
    ++to->enqueued;
  }

  void run(relocate_op& op, op_result& r) {
    auto* from = destination(op.from_destination_id);
    auto* to = destination(op.to_destination_id);
    auto it = messages.find({op.from_destination_id, op.from_sequence});
    if (from == nullptr || to == nullptr || it == messages.end()) {
      r.error = store_errc::not_found;
      return;
    }
    uint64_t body_id = it->second.body_id;
    messages.erase(it);
    if (!op.payload.empty()) {
      release_body(body_id);
      body_id = add_body(op.payload);
      bodies[body_id].references = 1;
      op.entry.size = static_cast<uint32_t>(op.payload.size());
    } else {
      auto body = bodies.find(body_id);
      op.entry.size = body == bodies.end() ? 0 : static_cast<uint32_t>(body->second.payload.size());
    }
    if (!write_index({op.to_destination_id, op.entry.sequence}, op.entry, body_id))
      release_body(body_id); // the target held this body already
    raise_sequence(op.to_destination_id, op.entry.sequence);
    ++from->dequeued;
    ++to->enqueued;
  }

  void run(delete_op& op, op_result& r) {
    auto* dest = destination(op.destination_id);
    if (dest == nullptr || !delete_message({op.destination_id, op.sequence})) {
      r.error = store_errc::not_found;
      return;
    }
    ++dest->dequeued;
  }

  void run(purge_op& op, op_result& r) {
    auto* dest = destination(op.destination_id);
    if (dest == nullptr) {
      r.error = store_errc::not_found;
      return;
    }
    r.count = delete_all(op.destination_id);
    dest->dequeued += r.count;
  }

  void run(create_destination_op& op, op_result& r) {
    if (op.name.empty() || op.name.size() > max_key_size) {
      r.error = store_errc::io_error;
      return;
    }
    auto it = destination_names.find(op.name);
    if (it != destination_names.end()) {
      r.destination_id = it->second;
      return;
    }
    uint32_t id = ++last_destination_id;
    destination_record record;
    record.id = id;
    record.name = op.name;
    destinations[id] = record;
    destination_names[op.name] = id;
    r.destination_id = id;
  }

  void run(set_flags_op& op, op_result& r) {
    auto it = messages.find({op.destination_id, op.sequence});
    if (it == messages.end()) {
      r.error = store_errc::not_found;
      return;
    }
    it->second.entry.flags = op.flags;
  }

  void run(mark_transfer_op& op, op_result& r) {
    if (!valid_link_id(op.link_id)) {
      r.error = store_errc::io_error;
      return;
    }
    if (messages.count({op.destination_id, op.sequence}) == 0) {
      r.error = store_errc::not_found;
      return;
    }
    transfer_marks[{op.link_id, op.link_sequence}] = {op.destination_id, op.sequence};
    auto& last = link_sequences[op.link_id];
    last = std::max(last, op.link_sequence);
  }

  void run(clear_transfer_op& op, op_result& r) {
    auto it = valid_link_id(op.link_id) ? transfer_marks.find({op.link_id, op.link_sequence})
                                        : transfer_marks.end();
    if (it == transfer_marks.end()) {
      r.error = store_errc::not_found;
      return;
    }
    message_key marked = it->second;
    transfer_marks.erase(it);
    if (!op.delete_message)
      return;
    // A message that is already gone (or whose destination is) leaves just the mark to remove.
    auto* dest = destination(marked.first);
    if (dest != nullptr && delete_message(marked))
      ++dest->dequeued;
  }

  void run(remove_destination_op& op, op_result& r) {
    auto* dest = destination(op.destination_id);
    if (dest == nullptr) {
      r.error = store_errc::not_found;
      return;
    }
    r.count = delete_all(op.destination_id);
    destination_names.erase(dest->name);
    destinations.erase(op.destination_id);
  }

  void run(schedule_op& op, op_result& r) {
    if (op.entry.id == 0) {
      r.error = store_errc::io_error;
      return;
    }
    if (!op.producer_id.empty()) {
      destination_record uncounted; // scheduled sends count duplicates nowhere
      audit_window* window = check_audit(op.producer_id, scheduled_audit_destination,
                                         op.producer_sequence, uncounted, r);
      if (window == nullptr)
        return; // a resend, or a producer id that cannot be a key
      window->add(op.producer_sequence);
    }
    scheduled[op.entry.id] = op.entry;
  }

  void run(unschedule_op& op, op_result& r) {
    if (scheduled.erase(op.id) == 0)
      r.error = store_errc::not_found;
  }

  void run(record_delivery_op& op, op_result& r) {
    auto it = messages.find({op.destination_id, op.sequence});
    if (it == messages.end()) {
      r.error = store_errc::not_found;
      return;
    }
    auto& count = it->second.entry.delivery_count;
    count = std::max(count, op.delivery_count);
  }
};

memory_backend::memory_backend() : memory_backend(random_store_id()) {}

memory_backend::memory_backend(std::string store_id) : impl_(std::make_unique<impl>()) {
  impl_->info.store_id = std::move(store_id);
  impl_->info.created = true;
}

memory_backend::~memory_backend() = default;

const store_info& memory_backend::info() const {
  return impl_->info;
}

std::vector<op_result> memory_backend::apply(std::vector<operation>& batch) {
  auto& d = *impl_;
  std::vector<op_result> results(batch.size());
  if (batch.empty())
    return results;
  std::lock_guard<std::mutex> lock(d.mutex);
  for (size_t i = 0; i < batch.size(); ++i)
    std::visit([&](auto& op) { d.run(op, results[i]); }, batch[i]);
  auto& s = d.counters;
  ++s.commits;
  s.operations += batch.size();
  s.last_batch_size = batch.size();
  s.max_batch_size = std::max<uint64_t>(s.max_batch_size, batch.size());
  s.mean_batch_size = static_cast<double>(s.operations) / static_cast<double>(s.commits);
  s.last_txn_id = s.commits;
  return results;
}

result<std::vector<destination_record>> memory_backend::destinations() const {
  std::lock_guard<std::mutex> lock(impl_->mutex);
  std::vector<destination_record> out;
  for (const auto& entry : impl_->destinations)
    out.push_back(entry.second);
  return out;
}

result<std::vector<index_entry>> memory_backend::recover(uint32_t destination_id) const {
  std::lock_guard<std::mutex> lock(impl_->mutex);
  std::vector<index_entry> out;
  const auto& messages = impl_->messages;
  for (auto it = messages.lower_bound({destination_id, 0});
       it != messages.end() && it->first.first == destination_id; ++it) {
    out.push_back(it->second.entry);
    out.back().sequence = it->first.second; // the key is authoritative, as in LMDB
  }
  return out;
}

result<uint64_t> memory_backend::last_sequence(uint32_t destination_id) const {
  std::lock_guard<std::mutex> lock(impl_->mutex);
  auto it = impl_->sequences.find(destination_id);
  return it == impl_->sequences.end() ? uint64_t{0} : it->second;
}

result<index_entry> memory_backend::read_entry(uint32_t destination_id, uint64_t sequence) const {
  std::lock_guard<std::mutex> lock(impl_->mutex);
  auto it = impl_->messages.find({destination_id, sequence});
  if (it == impl_->messages.end())
    return message_not_stored(destination_id, sequence);
  index_entry entry = it->second.entry;
  entry.sequence = sequence;
  return entry;
}

result<std::string> memory_backend::read_payload(uint32_t destination_id, uint64_t sequence) const {
  std::lock_guard<std::mutex> lock(impl_->mutex);
  auto it = impl_->messages.find({destination_id, sequence});
  if (it == impl_->messages.end())
    return message_not_stored(destination_id, sequence);
  auto body = impl_->bodies.find(it->second.body_id);
  if (body == impl_->bodies.end())
    return failure{store_errc::corrupt, "body " + std::to_string(it->second.body_id) +
                                            " of message " + std::to_string(destination_id) + "/" +
                                            std::to_string(sequence) + " is missing"};
  return body->second.payload;
}

result<body_record> memory_backend::read_body(uint32_t destination_id, uint64_t sequence) const {
  std::lock_guard<std::mutex> lock(impl_->mutex);
  auto it = impl_->messages.find({destination_id, sequence});
  if (it == impl_->messages.end())
    return message_not_stored(destination_id, sequence);
  auto body = impl_->bodies.find(it->second.body_id);
  if (body == impl_->bodies.end())
    return failure{store_errc::corrupt,
                   "body " + std::to_string(it->second.body_id) + " is missing"};
  return body_record{body->first, body->second.references, body->second.payload.size()};
}

result<std::vector<body_record>> memory_backend::bodies() const {
  std::lock_guard<std::mutex> lock(impl_->mutex);
  std::vector<body_record> out;
  for (const auto& [id, body] : impl_->bodies)
    out.push_back(body_record{id, body.references, body.payload.size()});
  return out;
}

result<std::vector<transfer_record>> memory_backend::transfers(const std::string& link_id) const {
  std::lock_guard<std::mutex> lock(impl_->mutex);
  std::vector<transfer_record> out;
  const auto& marks = impl_->transfer_marks;
  for (auto it = marks.lower_bound({link_id, 0}); it != marks.end() && it->first.first == link_id;
       ++it)
    out.push_back(transfer_record{it->first.second, it->second.first, it->second.second});
  return out; // an invalid link id has no marks: mark_transfer_op refuses it
}

result<std::vector<std::pair<std::string, transfer_record>>> memory_backend::all_transfers() const {
  std::lock_guard<std::mutex> lock(impl_->mutex);
  // std::string orders bytes as unsigned char, shorter first, as LMDB orders link id + '\0'
  // (link ids hold no '\0').
  std::vector<std::pair<std::string, transfer_record>> out;
  for (const auto& [key, marked] : impl_->transfer_marks)
    out.emplace_back(key.first, transfer_record{key.second, marked.first, marked.second});
  return out;
}

result<uint64_t> memory_backend::last_link_sequence(const std::string& link_id) const {
  std::lock_guard<std::mutex> lock(impl_->mutex);
  auto it = impl_->link_sequences.find(link_id);
  return it == impl_->link_sequences.end() ? uint64_t{0} : it->second;
}

result<std::vector<scheduled_entry>> memory_backend::scheduled() const {
  std::lock_guard lock(impl_->mutex);
  std::vector<scheduled_entry> out;
  for (auto& [id, e] : impl_->scheduled)
    out.push_back(e);
  return out;
}

int memory_backend::clear_stale_readers() {
  return 0;
}

store_stats memory_backend::stats() const {
  std::lock_guard<std::mutex> lock(impl_->mutex);
  return impl_->counters;
}

} // namespace actormq::storage
