// Transfer marks of the bridges (store-and-forward, docs/storage.md): marking a message as
// being forwarded over a link, clearing the mark when the other node confirmed it, and the
// reads of a link's marks and last link sequence.
#include "storage/batch.hpp"
#include "storage/encoding.hpp"
#include "storage/journal_commit.hpp"
#include "storage/lmdb_support.hpp"
#include "storage/store.hpp"
#include "storage/store_impl.hpp"

#include <lmdb.h>

namespace actormq::storage {
namespace detail {
namespace {

// Raises the highest link sequence ever marked on a link (store::last_link_sequence()).
int raise_link_sequence(const environment& e, batch_state& b, const std::string& link_id,
                        uint64_t link_sequence) {
  return raise_u64_record(b, e.link_sequences, "link_sequences", link_id,
                          "link sequence record of link " + link_id, link_sequence);
}

} // namespace

int run(const environment& e, batch_state& b, mark_transfer_op& op, op_result& r) {
  if (!valid_link_id(op.link_id)) {
    r.error = store_errc::io_error; // not usable as a transfer key
    return 0;
  }
  std::string mkey = message_key(op.destination_id, op.sequence);
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
  std::string tkey = transfer_key(op.link_id, op.link_sequence);
  std::string tvalue = encode_transfer(op.destination_id, op.sequence);
  k = as_val(tkey);
  v = as_val(tvalue);
  if ((rc = mdb_put(b.txn, e.transfers, &k, &v, 0)) != 0) {
    b.error = lmdb_text("mdb_put(transfers)", rc);
    return rc;
  }
  return raise_link_sequence(e, b, op.link_id, op.link_sequence);
}

int run(const environment& e, batch_state& b, clear_transfer_op& op, op_result& r) {
  if (!valid_link_id(op.link_id)) {
    r.error = store_errc::not_found; // such a link cannot have marks
    return 0;
  }
  std::string tkey = transfer_key(op.link_id, op.link_sequence);
  MDB_val k = as_val(tkey);
  MDB_val v;
  int rc = mdb_get(b.txn, e.transfers, &k, &v);
  if (rc == MDB_NOTFOUND) {
    r.error = store_errc::not_found;
    return 0;
  }
  if (rc != 0) {
    b.error = lmdb_text("mdb_get(transfers)", rc);
    return rc;
  }
  uint32_t destination_id = 0;
  uint64_t sequence = 0;
  if (!decode_transfer(as_view(v), destination_id, sequence)) {
    b.error =
        "transfer mark " + op.link_id + "/" + std::to_string(op.link_sequence) + " does not decode";
    return MDB_CORRUPTED;
  }
  if ((rc = mdb_del(b.txn, e.transfers, &k, nullptr)) != 0) {
    b.error = lmdb_text("mdb_del(transfers)", rc);
    return rc;
  }
  if (!op.delete_message)
    return 0;
  // A message that is already gone (or whose destination is) leaves just the mark to remove.
  pending_destination* dest = nullptr;
  rc = load_destination(e, b, destination_id, dest);
  if (rc == MDB_NOTFOUND)
    return 0;
  if (rc != 0)
    return rc;
  rc = delete_message(e, b, message_key(destination_id, sequence));
  if (rc == MDB_NOTFOUND)
    return 0;
  if (rc != 0)
    return rc;
  ++dest->record.dequeued;
  dest->dirty = true;
  return 0;
}

} // namespace detail

using namespace detail;

result<std::vector<transfer_record>> store::transfers(const std::string& link_id) const {
  // Lists see every batch so far: they wait for its checkpoint.
  if (auto seen = detail::see_batches(*impl_); !seen)
    return seen.error();
  auto& d = *impl_;
  std::vector<transfer_record> out;
  if (!valid_link_id(link_id))
    return out; // such a link cannot have marks
  txn_guard txn;
  int rc = begin_read(d.env, txn);
  if (rc != 0)
    return lmdb_failure("mdb_txn_begin", rc);
  MDB_cursor* c = nullptr;
  if ((rc = mdb_cursor_open(txn.get(), d.transfers, &c)) != 0)
    return lmdb_failure("mdb_cursor_open(transfers)", rc);
  cursor_guard guard(c);
  std::string prefix = transfer_prefix(link_id);
  MDB_val k = as_val(prefix);
  MDB_val v;
  for (rc = mdb_cursor_get(c, &k, &v, MDB_SET_RANGE); rc == 0;
       rc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
    auto key = as_view(k);
    if (key.size() != prefix.size() + 8 || key.substr(0, prefix.size()) != prefix)
      break;
    transfer_record record;
    record.link_sequence = read_be(key, prefix.size(), 8);
    if (!decode_transfer(as_view(v), record.destination_id, record.sequence))
      return failure{store_errc::corrupt, "transfer mark " + link_id + "/" +
                                              std::to_string(record.link_sequence) +
                                              " does not decode"};
    out.push_back(record);
  }
  if (rc != 0 && rc != MDB_NOTFOUND)
    return lmdb_failure("mdb_cursor_get(transfers)", rc);
  return out;
}

result<std::vector<std::pair<std::string, transfer_record>>> store::all_transfers() const {
  // Lists see every batch so far: they wait for its checkpoint.
  if (auto seen = detail::see_batches(*impl_); !seen)
    return seen.error();
  auto& d = *impl_;
  txn_guard txn;
  int rc = begin_read(d.env, txn);
  if (rc != 0)
    return lmdb_failure("mdb_txn_begin", rc);
  MDB_cursor* c = nullptr;
  if ((rc = mdb_cursor_open(txn.get(), d.transfers, &c)) != 0)
    return lmdb_failure("mdb_cursor_open(transfers)", rc);
  cursor_guard guard(c);
  std::vector<std::pair<std::string, transfer_record>> out;
  MDB_val k;
  MDB_val v;
  for (rc = mdb_cursor_get(c, &k, &v, MDB_FIRST); rc == 0;
       rc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
    std::pair<std::string, transfer_record> entry;
    auto& record = entry.second;
    if (!decode_transfer_key(as_view(k), entry.first, record.link_sequence) ||
        !decode_transfer(as_view(v), record.destination_id, record.sequence))
      return failure{store_errc::corrupt, "a transfer mark does not decode"};
    out.push_back(std::move(entry));
  }
  if (rc != MDB_NOTFOUND)
    return lmdb_failure("mdb_cursor_get(transfers)", rc);
  return out;
}

result<uint64_t> store::last_link_sequence(const std::string& link_id) const {
  // Lists see every batch so far: they wait for its checkpoint.
  if (auto seen = detail::see_batches(*impl_); !seen)
    return seen.error();
  auto& d = *impl_;
  if (!valid_link_id(link_id))
    return uint64_t{0}; // such a link cannot have marks
  txn_guard txn;
  int rc = begin_read(d.env, txn);
  if (rc != 0)
    return lmdb_failure("mdb_txn_begin", rc);
  MDB_val k = as_val(link_id);
  MDB_val v;
  rc = mdb_get(txn.get(), d.link_sequences, &k, &v);
  if (rc == MDB_NOTFOUND)
    return uint64_t{0};
  if (rc != 0)
    return lmdb_failure("mdb_get(link_sequences)", rc);
  uint64_t last = 0;
  if (!decode_u64(as_view(v), last))
    return failure{store_errc::corrupt,
                   "link sequence record of link " + link_id + " does not decode"};
  return last;
}

} // namespace actormq::storage
