// The operations of a batch on messages: put (with the producer audit), a put shared by several
// destinations, move, delete, set flags, record a delivery. Bodies and their references:
// bodies.cpp. Formats: encoding.hpp.
#include "storage/batch.hpp"
#include "storage/encoding.hpp"
#include "storage/lmdb_support.hpp"
#include "storage/store.hpp"
#include "storage/store_impl.hpp"

#include <lmdb.h>

namespace actormq::storage::detail {
namespace {

// Raises the highest sequence ever used by a destination (store::last_sequence()).
int raise_sequence(const environment& e, batch_state& b, uint32_t id, uint64_t sequence) {
  std::string key = destination_key(id);
  return raise_u64_record(b, e.sequences, "sequences", key,
                          "sequence record of destination " + std::to_string(id), sequence);
}

// Rewrites one index entry in place: `change` edits it and says whether anything changed.
// Missing messages: r.error = not_found.
template <class Change>
int update_index(const environment& e, batch_state& b, uint32_t destination_id, uint64_t sequence,
                 op_result& r, Change change) {
  std::string mkey = message_key(destination_id, sequence);
  MDB_val k = as_val(mkey);
  MDB_val v;
  int rc = mdb_get(b.txn, e.index, &k, &v);
  if (rc == MDB_NOTFOUND) {
    r.error = store_errc::not_found;
    return 0;
  }
  if (rc != 0) {
    b.error = lmdb_text("mdb_get(index)", rc);
    return rc;
  }
  index_entry entry;
  uint64_t body_id = 0;
  if (!decode_index(as_view(v), entry, body_id)) {
    b.error = "index entry " + std::to_string(destination_id) + "/" + std::to_string(sequence) +
              " does not decode";
    return MDB_CORRUPTED;
  }
  if (!change(entry))
    return 0;
  std::string value = encode_index(entry, body_id);
  v = as_val(value);
  if ((rc = mdb_put(b.txn, e.index, &k, &v, 0)) != 0)
    b.error = lmdb_text("mdb_put(index)", rc);
  return rc;
}

} // namespace

int run(const environment& e, batch_state& b, put_op& op, op_result& r) {
  if (b.puts_fail_full) {
    r.error = store_errc::store_full; // the retry after MDB_MAP_FULL touches nothing
    return 0;
  }
  pending_destination* dest = nullptr;
  int rc = load_destination(e, b, op.destination_id, dest);
  if (rc == MDB_NOTFOUND) {
    r.error = store_errc::not_found;
    return 0;
  }
  if (rc != 0)
    return rc;
  std::string akey;
  audit_window window;
  if (!op.producer_id.empty()) {
    bool resend = false;
    if ((rc = read_audit(e, b, op.producer_id, op.destination_id, op.producer_sequence, akey,
                         window, resend, r)) != 0 ||
        r.error)
      return rc;
    if (resend) {
      r.duplicate = true;
      ++dest->record.duplicates;
      dest->dirty = true;
      return 0;
    }
  }
  op.entry.size = static_cast<uint32_t>(op.payload.size());
  uint64_t body_id = 0;
  if ((rc = add_body(e, b, op.payload, body_id)) != 0)
    return rc;
  bool added = false; // always true: the body is new
  if ((rc = write_index(e, b, message_key(op.destination_id, op.entry.sequence), op.entry, body_id,
                        added)) != 0)
    return rc;
  if (!op.producer_id.empty() && (rc = write_audit(e, b, op.producer_sequence, akey, window)) != 0)
    return rc;
  if ((rc = raise_sequence(e, b, op.destination_id, op.entry.sequence)) != 0)
    return rc;
  b.stored = true;
  ++dest->record.enqueued;
  dest->dirty = true;
  return 0;
}

int run(const environment& e, batch_state& b, shared_put_op& op, op_result& r) {
  if (b.puts_fail_full) {
    r.error = store_errc::store_full;
    return 0;
  }
  pending_destination* audit_dest = nullptr;
  int rc = load_destination(e, b, op.audit_destination_id, audit_dest);
  for (size_t i = 0; rc == 0 && i < op.targets.size(); ++i) {
    pending_destination* target = nullptr;
    rc = load_destination(e, b, op.targets[i].destination_id, target);
  }
  if (rc == MDB_NOTFOUND) {
    r.error = store_errc::not_found; // checked before anything is written
    return 0;
  }
  if (rc != 0)
    return rc;
  std::string akey;
  audit_window window;
  if (!op.producer_id.empty()) {
    bool resend = false;
    if ((rc = read_audit(e, b, op.producer_id, op.audit_destination_id, op.producer_sequence, akey,
                         window, resend, r)) != 0 ||
        r.error)
      return rc;
    if (resend) {
      r.duplicate = true;
      ++audit_dest->record.duplicates;
      audit_dest->dirty = true;
      return 0;
    }
  }
  if (!op.targets.empty()) {
    uint64_t body_id = 0;
    if ((rc = add_body(e, b, op.payload, body_id)) != 0)
      return rc;
    uint32_t references = 0;
    for (auto& target : op.targets) {
      target.entry.size = static_cast<uint32_t>(op.payload.size());
      bool added = false;
      if ((rc = write_index(e, b, message_key(target.destination_id, target.entry.sequence),
                            target.entry, body_id, added)) != 0)
        return rc;
      references += added ? 1 : 0;
      if ((rc = raise_sequence(e, b, target.destination_id, target.entry.sequence)) != 0)
        return rc;
      pending_destination* dest = nullptr;
      if ((rc = load_destination(e, b, target.destination_id, dest)) != 0)
        return rc;
      ++dest->record.enqueued;
      dest->dirty = true;
    }
    if ((rc = set_references(e, b, body_id, references)) != 0)
      return rc;
    b.stored = true;
  }
  if (!op.producer_id.empty() && (rc = write_audit(e, b, op.producer_sequence, akey, window)) != 0)
    return rc;
  return 0;
}

namespace {

// Takes a message's index entry out of its source destination, for a move to another one: loads
// both destinations, reads and deletes the source's entry (its body reference stays for the
// caller). A missing destination or message: r.error = not_found, return 0 with `from` unset.
int take_for_move(const environment& e, batch_state& b, uint32_t from_id, uint64_t from_sequence,
                  uint32_t to_id, pending_destination*& from, pending_destination*& to,
                  index_entry& entry, uint64_t& body_id, op_result& r) {
  from = nullptr;
  to = nullptr;
  pending_destination* source = nullptr;
  int rc = load_destination(e, b, from_id, source);
  if (rc == 0)
    rc = load_destination(e, b, to_id, to);
  if (rc == MDB_NOTFOUND) {
    r.error = store_errc::not_found;
    return 0;
  }
  if (rc != 0)
    return rc;
  std::string from_key = message_key(from_id, from_sequence);
  MDB_val k = as_val(from_key);
  MDB_val v;
  rc = mdb_get(b.txn, e.index, &k, &v);
  if (rc == MDB_NOTFOUND) {
    r.error = store_errc::not_found;
    return 0;
  }
  if (rc != 0) {
    b.error = lmdb_text("mdb_get(index)", rc);
    return rc;
  }
  if (!decode_index(as_view(v), entry, body_id)) {
    b.error = "index entry " + std::to_string(from_id) + "/" + std::to_string(from_sequence) +
              " does not decode";
    return MDB_CORRUPTED;
  }
  if ((rc = mdb_del(b.txn, e.index, &k, nullptr)) != 0) {
    b.error = lmdb_text("mdb_del(index)", rc);
    return rc;
  }
  from = source;
  return 0;
}

} // namespace

int run(const environment& e, batch_state& b, move_op& op, op_result& r) {
  pending_destination* from = nullptr;
  pending_destination* to = nullptr;
  index_entry entry;
  uint64_t body_id = 0;
  int rc = take_for_move(e, b, op.from_destination_id, op.from_sequence, op.to_destination_id, from,
                         to, entry, body_id, r);
  if (rc != 0 || from == nullptr)
    return rc;
  // The source's reference becomes the target's: the body's count does not change.
  entry.sequence = op.to_sequence;
  bool added = false;
  if ((rc = write_index(e, b, message_key(op.to_destination_id, op.to_sequence), entry, body_id,
                        added)) != 0)
    return rc;
  // The target held this body already: its entry's reference and the moved one are now one.
  if (!added && (rc = release_body(e, b, body_id)) != 0)
    return rc;
  if ((rc = raise_sequence(e, b, op.to_destination_id, op.to_sequence)) != 0)
    return rc;
  ++from->record.dequeued;
  from->dirty = true;
  ++to->record.enqueued;
  to->dirty = true;
  return 0;
}

int run(const environment& e, batch_state& b, relocate_op& op, op_result& r) {
  if (!op.payload.empty() && b.puts_fail_full) {
    r.error = store_errc::store_full; // as a put: the retry after MDB_MAP_FULL touches nothing
    return 0;
  }
  pending_destination* from = nullptr;
  pending_destination* to = nullptr;
  index_entry old;
  uint64_t body_id = 0;
  int rc = take_for_move(e, b, op.from_destination_id, op.from_sequence, op.to_destination_id, from,
                         to, old, body_id, r);
  if (rc != 0 || from == nullptr)
    return rc;
  if (!op.payload.empty()) {
    // The new envelope is a new body; the source's reference to the old one goes.
    if ((rc = release_body(e, b, body_id)) != 0 || (rc = add_body(e, b, op.payload, body_id)) != 0)
      return rc;
    op.entry.size = static_cast<uint32_t>(op.payload.size());
    b.stored = true;
  } else {
    op.entry.size = old.size;
  }
  bool added = false;
  if ((rc = write_index(e, b, message_key(op.to_destination_id, op.entry.sequence), op.entry,
                        body_id, added)) != 0)
    return rc;
  if (!added && op.payload.empty() && (rc = release_body(e, b, body_id)) != 0)
    return rc;
  if ((rc = raise_sequence(e, b, op.to_destination_id, op.entry.sequence)) != 0)
    return rc;
  ++from->record.dequeued;
  from->dirty = true;
  ++to->record.enqueued;
  to->dirty = true;
  return 0;
}

int delete_message(const environment& e, batch_state& b, const std::string& mkey) {
  int rc = 0;
  if (b.index_cursor == nullptr && (rc = mdb_cursor_open(b.txn, e.index, &b.index_cursor)) != 0) {
    b.index_cursor = nullptr;
    b.error = lmdb_text("mdb_cursor_open(index)", rc);
    return rc;
  }
  MDB_val k = as_val(mkey);
  MDB_val v;
  rc = mdb_cursor_get(b.index_cursor, &k, &v, MDB_SET_KEY);
  if (rc != 0) {
    if (rc != MDB_NOTFOUND)
      b.error = lmdb_text("mdb_cursor_get(index)", rc);
    return rc;
  }
  index_entry entry;
  uint64_t body_id = 0;
  if (!decode_index(as_view(v), entry, body_id)) {
    b.error = "index entry " + std::to_string(read_be(mkey, 0, 4)) + "/" +
              std::to_string(read_be(mkey, 4, 8)) + " does not decode";
    return MDB_CORRUPTED;
  }
  if ((rc = mdb_cursor_del(b.index_cursor, 0)) != 0) {
    b.error = lmdb_text("mdb_cursor_del(index)", rc);
    return rc;
  }
  return release_body(e, b, body_id);
}

int run(const environment& e, batch_state& b, delete_op& op, op_result& r) {
  pending_destination* dest = nullptr;
  int rc = load_destination(e, b, op.destination_id, dest);
  if (rc == MDB_NOTFOUND) {
    r.error = store_errc::not_found;
    return 0;
  }
  if (rc != 0)
    return rc;
  rc = delete_message(e, b, message_key(op.destination_id, op.sequence));
  if (rc == MDB_NOTFOUND) {
    r.error = store_errc::not_found;
    return 0;
  }
  if (rc != 0)
    return rc;
  ++dest->record.dequeued;
  dest->dirty = true;
  return 0;
}

int run(const environment& e, batch_state& b, set_flags_op& op, op_result& r) {
  return update_index(e, b, op.destination_id, op.sequence, r, [&](index_entry& entry) {
    entry.flags = op.flags;
    return true;
  });
}

int run(const environment& e, batch_state& b, record_delivery_op& op, op_result& r) {
  return update_index(e, b, op.destination_id, op.sequence, r, [&](index_entry& entry) {
    if (entry.delivery_count >= op.delivery_count)
      return false;
    entry.delivery_count = op.delivery_count;
    return true;
  });
}

} // namespace actormq::storage::detail
