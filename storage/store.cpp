// The LMDB message store. Layout and record formats: docs/storage.md and encoding.hpp.
#include "storage/store.hpp"

#include "storage/encoding.hpp"
#include "storage/space.hpp"

#include <lmdb.h>

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <map>
#include <mutex>
#include <set>
#include <string_view>

namespace actormq::storage {
namespace {

using namespace detail;

MDB_val as_val(const std::string& s) {
  return MDB_val{s.size(), const_cast<char*>(s.data())};
}

std::string_view as_view(const MDB_val& v) {
  return {static_cast<const char*>(v.mv_data), v.mv_size};
}

std::string lmdb_text(const char* call, int rc) {
  return std::string(call) + ": " + mdb_strerror(rc);
}

// Maps an LMDB return code of a read path to our codes.
std::error_code read_code(int rc) {
  switch (rc) {
  case MDB_NOTFOUND:
    return store_errc::not_found;
  case MDB_MAP_FULL:
    return store_errc::store_full;
  case MDB_READERS_FULL:
    return store_errc::readers_full;
  case MDB_CORRUPTED:
  case MDB_PAGE_NOTFOUND:
  case MDB_INVALID:
    return store_errc::corrupt;
  default:
    return store_errc::io_error;
  }
}

failure lmdb_failure(const char* call, int rc) {
  return failure{read_code(rc), lmdb_text(call, rc)};
}

// Aborts the transaction unless it was committed or released.
class txn_guard {
public:
  txn_guard() = default;
  ~txn_guard() { abort(); }
  txn_guard(const txn_guard&) = delete;
  txn_guard& operator=(const txn_guard&) = delete;

  MDB_txn** out() { return &txn_; }
  MDB_txn* get() const { return txn_; }
  void abort() {
    if (txn_ != nullptr)
      mdb_txn_abort(txn_);
    txn_ = nullptr;
  }
  int commit() {
    int rc = mdb_txn_commit(txn_); // frees the transaction even on failure
    txn_ = nullptr;
    return rc;
  }

private:
  MDB_txn* txn_ = nullptr;
};

class cursor_guard {
public:
  explicit cursor_guard(MDB_cursor* c) : cursor_(c) {}
  ~cursor_guard() { mdb_cursor_close(cursor_); }
  cursor_guard(const cursor_guard&) = delete;
  cursor_guard& operator=(const cursor_guard&) = delete;
  MDB_cursor* get() const { return cursor_; }

private:
  MDB_cursor* cursor_;
};

result<std::string> random_uuid() {
  unsigned char b[16];
  int fd = ::open("/dev/urandom", O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return {store_errc::io_error, "open /dev/urandom failed"};
  size_t got = 0;
  while (got < sizeof b) {
    ssize_t n = ::read(fd, b + got, sizeof b - got);
    if (n <= 0) {
      ::close(fd);
      return {store_errc::io_error, "read /dev/urandom failed"};
    }
    got += static_cast<size_t>(n);
  }
  ::close(fd);
  b[6] = static_cast<unsigned char>((b[6] & 0x0f) | 0x40); // version 4
  b[8] = static_cast<unsigned char>((b[8] & 0x3f) | 0x80); // RFC 4122 variant
  char text[37];
  std::snprintf(text, sizeof text,
                "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", b[0], b[1],
                b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13], b[14],
                b[15]);
  return std::string(text);
}

// LMDB forbids opening one environment twice in a process (closing either copy would drop the
// other's locks), so open() refuses a folder that is already open here.
std::mutex open_folders_mutex;
std::set<std::string> open_folders;

const std::string meta_schema_key = "schema";
const std::string meta_store_id_key = "store_id";
// The highest destination id ever given, so that a removed destination's id is never reused
// (audit windows and transfer marks are keyed by it).
const std::string meta_last_destination_key = "last_destination_id";
// Rewritten by a commit whose only purpose is to advance the transaction id (see apply()).
const std::string meta_touch_key = "touch";

} // namespace

struct store::impl {
  MDB_env* env = nullptr;
  MDB_dbi meta = 0;
  MDB_dbi destinations = 0;
  MDB_dbi destination_names = 0;
  MDB_dbi index = 0;
  MDB_dbi bodies = 0;
  MDB_dbi audit = 0;
  MDB_dbi sequences = 0;
  MDB_dbi transfers = 0;
  MDB_dbi link_sequences = 0;
  size_t max_key_size = 511;
  uint64_t page_size = 4096;
  uint64_t reserve_pages = 0; // kept free for deletes: puts stop above map pages minus these
  store_info info;

  mutable std::mutex stats_mutex; // guards counters and last_error
  store_stats counters;
  std::string last_error; // the text of the last failed apply(), for people
  impl() = default;
  impl(const impl&) = delete;
  impl& operator=(const impl&) = delete;
  ~impl() {
    if (env != nullptr)
      mdb_env_close(env);
    if (!folder.empty()) {
      std::lock_guard<std::mutex> lock(open_folders_mutex);
      open_folders.erase(folder);
    }
  }

  std::string folder; // registered in open_folders while this store is open

  result<void> register_folder(const std::filesystem::path& directory) {
    std::error_code ec;
    auto canonical = std::filesystem::canonical(directory, ec);
    if (ec)
      return failure{store_errc::io_error, "canonical " + directory.string() + ": " + ec.message()};
    std::lock_guard<std::mutex> lock(open_folders_mutex);
    if (!open_folders.insert(canonical.string()).second)
      return failure{store_errc::io_error,
                     "store " + canonical.string() + " is already open in this process"};
    folder = canonical.string();
    return {};
  }

  // A write transaction; adopts a map grown by another process (MDB_MAP_RESIZED).
  int begin_write(txn_guard& txn) {
    int rc = mdb_txn_begin(env, nullptr, 0, txn.out());
    if (rc == MDB_MAP_RESIZED) {
      rc = mdb_env_set_mapsize(env, 0);
      if (rc == 0)
        rc = mdb_txn_begin(env, nullptr, 0, txn.out());
    }
    return rc;
  }

  int begin_read(txn_guard& txn) const {
    return mdb_txn_begin(env, nullptr, MDB_RDONLY, txn.out());
  }

  // One message's record in `db` (index or bodies), copied before the read transaction ends.
  // Errors: not_found, io_error.
  result<std::string> read_message_record(MDB_dbi db, const char* db_name, uint32_t destination_id,
                                          uint64_t sequence) const {
    txn_guard txn;
    int rc = begin_read(txn);
    if (rc != 0)
      return lmdb_failure("mdb_txn_begin", rc);
    std::string key = message_key(destination_id, sequence);
    MDB_val k = as_val(key);
    MDB_val v;
    rc = mdb_get(txn.get(), db, &k, &v);
    if (rc == MDB_NOTFOUND)
      return failure{store_errc::not_found, "message " + std::to_string(destination_id) + "/" +
                                                std::to_string(sequence) + " is not stored"};
    if (rc != 0)
      return lmdb_failure((std::string("mdb_get(") + db_name + ")").c_str(), rc);
    return std::string(as_view(v));
  }

  // --- apply() ---

  // A destination's record as changed by the running batch; written back before the commit.
  struct pending_destination {
    destination_record record;
    bool dirty = false;
  };

  struct batch_state {
    MDB_txn* txn = nullptr;
    bool puts_fail_full = false; // the retry above the high-water mark or after MDB_MAP_FULL
    bool stored = false;         // a put wrote a message
    std::map<uint32_t, pending_destination> destinations;
    std::string error; // names the failed call when a handler returns non-zero
  };

  // Loads (once per batch) the record of a destination; MDB_NOTFOUND if there is none.
  int load_destination(batch_state& b, uint32_t id, pending_destination*& out) {
    auto it = b.destinations.find(id);
    if (it != b.destinations.end()) {
      out = &it->second;
      return 0;
    }
    std::string key = destination_key(id);
    MDB_val k = as_val(key);
    MDB_val v;
    int rc = mdb_get(b.txn, destinations, &k, &v);
    if (rc != 0) {
      if (rc != MDB_NOTFOUND)
        b.error = lmdb_text("mdb_get(destinations)", rc);
      return rc;
    }
    pending_destination p;
    if (!decode_destination(id, as_view(v), p.record)) {
      b.error = "destination " + std::to_string(id) + ": record does not decode";
      return MDB_CORRUPTED;
    }
    out = &b.destinations.emplace(id, std::move(p)).first->second;
    return 0;
  }

  // Handlers return 0 (the op's own result is set) or an LMDB code that fails the batch.
  int run(batch_state& b, put_op& op, op_result& r) {
    if (b.puts_fail_full) {
      r.error = store_errc::store_full; // the retry after MDB_MAP_FULL touches nothing
      return 0;
    }
    pending_destination* dest = nullptr;
    int rc = load_destination(b, op.destination_id, dest);
    if (rc == MDB_NOTFOUND) {
      r.error = store_errc::not_found;
      return 0;
    }
    if (rc != 0)
      return rc;
    std::string akey;
    audit_window window;
    if (!op.producer_id.empty()) {
      akey = audit_key(op.producer_id, op.destination_id);
      if (akey.size() > max_key_size) {
        r.error = store_errc::io_error; // the producer id cannot be an LMDB key
        return 0;
      }
      MDB_val k = as_val(akey);
      MDB_val v;
      rc = mdb_get(b.txn, audit, &k, &v);
      if (rc == 0) {
        if (!decode_audit(as_view(v), window)) {
          b.error = "audit record of producer " + op.producer_id + " does not decode";
          return MDB_CORRUPTED;
        }
      } else if (rc != MDB_NOTFOUND) {
        b.error = lmdb_text("mdb_get(audit)", rc);
        return rc;
      }
      // Exact: a send that overtook an earlier one is no reason to drop the earlier one.
      if (rc == 0 && window.stored(op.producer_sequence)) {
        r.duplicate = true;
        ++dest->record.duplicates;
        dest->dirty = true;
        return 0;
      }
    }
    op.entry.size = static_cast<uint32_t>(op.payload.size());
    std::string mkey = message_key(op.destination_id, op.entry.sequence);
    std::string ivalue = encode_index(op.entry);
    MDB_val k = as_val(mkey);
    MDB_val v = as_val(ivalue);
    if ((rc = mdb_put(b.txn, index, &k, &v, 0)) != 0) {
      b.error = lmdb_text("mdb_put(index)", rc);
      return rc;
    }
    v = as_val(op.payload);
    if ((rc = mdb_put(b.txn, bodies, &k, &v, 0)) != 0) {
      b.error = lmdb_text("mdb_put(bodies)", rc);
      return rc;
    }
    if (!op.producer_id.empty()) {
      window.add(op.producer_sequence);
      std::string value = encode_audit(window);
      MDB_val ak = as_val(akey);
      MDB_val av = as_val(value);
      if ((rc = mdb_put(b.txn, audit, &ak, &av, 0)) != 0) {
        b.error = lmdb_text("mdb_put(audit)", rc);
        return rc;
      }
    }
    if ((rc = raise_sequence(b, op.destination_id, op.entry.sequence)) != 0)
      return rc;
    b.stored = true;
    ++dest->record.enqueued;
    dest->dirty = true;
    return 0;
  }

  int raise_sequence(batch_state& b, uint32_t id, uint64_t sequence) {
    std::string key = destination_key(id);
    MDB_val k = as_val(key);
    MDB_val v;
    uint64_t last = 0;
    int rc = mdb_get(b.txn, sequences, &k, &v);
    if (rc == 0) {
      if (!decode_u64(as_view(v), last)) {
        b.error = "sequence record of destination " + std::to_string(id) + " does not decode";
        return MDB_CORRUPTED;
      }
      if (sequence <= last)
        return 0;
    } else if (rc != MDB_NOTFOUND) {
      b.error = lmdb_text("mdb_get(sequences)", rc);
      return rc;
    }
    std::string value = encode_u64(sequence);
    v = as_val(value);
    if ((rc = mdb_put(b.txn, sequences, &k, &v, 0)) != 0)
      b.error = lmdb_text("mdb_put(sequences)", rc);
    return rc;
  }

  // Deletes the index entry and body of one message; MDB_NOTFOUND if it is not stored.
  int delete_message(batch_state& b, const std::string& mkey) {
    MDB_val k = as_val(mkey);
    int rc = mdb_del(b.txn, index, &k, nullptr);
    if (rc != 0) {
      if (rc != MDB_NOTFOUND)
        b.error = lmdb_text("mdb_del(index)", rc);
      return rc;
    }
    rc = mdb_del(b.txn, bodies, &k, nullptr);
    if (rc != 0 && rc != MDB_NOTFOUND) {
      b.error = lmdb_text("mdb_del(bodies)", rc);
      return rc;
    }
    return 0;
  }

  int run(batch_state& b, delete_op& op, op_result& r) {
    pending_destination* dest = nullptr;
    int rc = load_destination(b, op.destination_id, dest);
    if (rc == MDB_NOTFOUND) {
      r.error = store_errc::not_found;
      return 0;
    }
    if (rc != 0)
      return rc;
    rc = delete_message(b, message_key(op.destination_id, op.sequence));
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

  // Deletes every message of a destination (loaded into `dest`); r.count says how many.
  // 0, or the LMDB code that failed; r.error is set (not_found) if there is no such destination.
  int delete_all(batch_state& b, uint32_t id, pending_destination*& dest, op_result& r) {
    int rc = load_destination(b, id, dest);
    if (rc == MDB_NOTFOUND) {
      r.error = store_errc::not_found;
      return rc;
    }
    if (rc != 0)
      return rc;
    std::vector<std::string> keys;
    if ((rc = collect_keys(b.txn, id, keys)) != 0) {
      b.error = lmdb_text("mdb_cursor_get(index)", rc);
      return rc;
    }
    for (const auto& key : keys)
      if ((rc = delete_message(b, key)) != 0)
        return rc;
    r.count = keys.size();
    return 0;
  }

  int run(batch_state& b, purge_op& op, op_result& r) {
    pending_destination* dest = nullptr;
    int rc = delete_all(b, op.destination_id, dest, r);
    if (r.error)
      return 0; // no such destination; the batch goes on
    if (rc != 0)
      return rc;
    dest->record.dequeued += r.count;
    dest->dirty = true;
    return 0;
  }

  int run(batch_state& b, remove_destination_op& op, op_result& r) {
    pending_destination* dest = nullptr;
    int rc = delete_all(b, op.destination_id, dest, r);
    if (r.error)
      return 0; // no such destination; the batch goes on
    if (rc != 0)
      return rc;
    MDB_val nk = as_val(dest->record.name);
    if ((rc = mdb_del(b.txn, destination_names, &nk, nullptr)) != 0 && rc != MDB_NOTFOUND) {
      b.error = lmdb_text("mdb_del(destination_names)", rc);
      return rc;
    }
    std::string key = destination_key(op.destination_id);
    MDB_val k = as_val(key);
    if ((rc = mdb_del(b.txn, destinations, &k, nullptr)) != 0 && rc != MDB_NOTFOUND) {
      b.error = lmdb_text("mdb_del(destinations)", rc);
      return rc;
    }
    // Not written back at the end of the batch.
    b.destinations.erase(op.destination_id);
    return 0;
  }

  // The index keys of one destination, in sequence order.
  int collect_keys(MDB_txn* txn, uint32_t id, std::vector<std::string>& keys) const {
    MDB_cursor* c = nullptr;
    int rc = mdb_cursor_open(txn, index, &c);
    if (rc != 0)
      return rc;
    cursor_guard guard(c);
    std::string prefix = destination_key(id);
    MDB_val k = as_val(prefix);
    MDB_val v;
    for (rc = mdb_cursor_get(c, &k, &v, MDB_SET_RANGE); rc == 0;
         rc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
      auto key = as_view(k);
      if (key.size() != message_key_size || key.substr(0, 4) != prefix)
        break;
      keys.emplace_back(key);
    }
    return rc == MDB_NOTFOUND || rc == 0 ? 0 : rc;
  }

  int run(batch_state& b, create_destination_op& op, op_result& r) {
    if (op.name.empty() || op.name.size() > max_key_size) {
      r.error = store_errc::io_error; // not usable as an LMDB key
      return 0;
    }
    MDB_val nk = as_val(op.name);
    MDB_val v;
    int rc = mdb_get(b.txn, destination_names, &nk, &v);
    if (rc == 0) {
      std::string_view idv = as_view(v);
      uint32_t id = 0;
      if (!decode_u32(idv, id)) {
        b.error = "destination name record of " + op.name + " does not decode";
        return MDB_CORRUPTED;
      }
      r.destination_id = id;
      return 0;
    }
    if (rc != MDB_NOTFOUND) {
      b.error = lmdb_text("mdb_get(destination_names)", rc);
      return rc;
    }
    uint32_t id = 0;
    if ((rc = next_destination_id(b.txn, id)) != 0) {
      b.error = lmdb_text("mdb_cursor_get(destinations)", rc);
      return rc;
    }
    destination_record record;
    record.id = id;
    record.name = op.name;
    std::string key = destination_key(id);
    std::string value = encode_destination(record);
    MDB_val k = as_val(key);
    v = as_val(value);
    if ((rc = mdb_put(b.txn, destinations, &k, &v, 0)) != 0) {
      b.error = lmdb_text("mdb_put(destinations)", rc);
      return rc;
    }
    std::string idv = encode_u32(id);
    v = as_val(idv);
    if ((rc = mdb_put(b.txn, destination_names, &nk, &v, 0)) != 0) {
      b.error = lmdb_text("mdb_put(destination_names)", rc);
      return rc;
    }
    b.destinations[id] = pending_destination{record, false};
    r.destination_id = id;
    return 0;
  }

  // Ids start at 1; the next is one above the highest (keys are big-endian, so MDB_LAST).
  int next_destination_id(MDB_txn* txn, uint32_t& id) {
    MDB_cursor* c = nullptr;
    int rc = mdb_cursor_open(txn, destinations, &c);
    if (rc != 0)
      return rc;
    cursor_guard guard(c);
    MDB_val k;
    MDB_val v;
    rc = mdb_cursor_get(c, &k, &v, MDB_LAST);
    uint32_t highest = 0;
    if (rc == 0) {
      if (k.mv_size != 4)
        return MDB_CORRUPTED;
      highest = static_cast<uint32_t>(read_be(as_view(k), 0, 4));
    } else if (rc != MDB_NOTFOUND) {
      return rc;
    }
    MDB_val mk = as_val(meta_last_destination_key);
    rc = mdb_get(txn, meta, &mk, &v);
    if (rc == 0) {
      uint32_t last = 0;
      if (!decode_u32(as_view(v), last))
        return MDB_CORRUPTED;
      highest = std::max(highest, last);
    } else if (rc != MDB_NOTFOUND) {
      return rc;
    }
    id = highest + 1;
    std::string value = encode_u32(id);
    v = as_val(value);
    return mdb_put(txn, meta, &mk, &v, 0);
  }

  // Rewrites one index entry in place: `change` edits it and says whether anything changed.
  // Missing messages: r.error = not_found.
  template <class Change>
  int update_index(batch_state& b, uint32_t destination_id, uint64_t sequence, op_result& r,
                   Change change) {
    std::string mkey = message_key(destination_id, sequence);
    MDB_val k = as_val(mkey);
    MDB_val v;
    int rc = mdb_get(b.txn, index, &k, &v);
    if (rc == MDB_NOTFOUND) {
      r.error = store_errc::not_found;
      return 0;
    }
    if (rc != 0) {
      b.error = lmdb_text("mdb_get(index)", rc);
      return rc;
    }
    index_entry entry;
    if (!decode_index(as_view(v), entry)) {
      b.error = "index entry " + std::to_string(destination_id) + "/" + std::to_string(sequence) +
                " does not decode";
      return MDB_CORRUPTED;
    }
    if (!change(entry))
      return 0;
    std::string value = encode_index(entry);
    v = as_val(value);
    if ((rc = mdb_put(b.txn, index, &k, &v, 0)) != 0)
      b.error = lmdb_text("mdb_put(index)", rc);
    return rc;
  }

  int run(batch_state& b, set_flags_op& op, op_result& r) {
    return update_index(b, op.destination_id, op.sequence, r, [&](index_entry& e) {
      e.flags = op.flags;
      return true;
    });
  }

  int run(batch_state& b, record_delivery_op& op, op_result& r) {
    return update_index(b, op.destination_id, op.sequence, r, [&](index_entry& e) {
      if (e.delivery_count >= op.delivery_count)
        return false;
      e.delivery_count = op.delivery_count;
      return true;
    });
  }

  int run(batch_state& b, mark_transfer_op& op, op_result& r) {
    if (!valid_link_id(op.link_id)) {
      r.error = store_errc::io_error; // not usable as a transfer key
      return 0;
    }
    std::string mkey = message_key(op.destination_id, op.sequence);
    MDB_val k = as_val(mkey);
    MDB_val v;
    int rc = mdb_get(b.txn, index, &k, &v);
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
    if ((rc = mdb_put(b.txn, transfers, &k, &v, 0)) != 0) {
      b.error = lmdb_text("mdb_put(transfers)", rc);
      return rc;
    }
    return raise_link_sequence(b, op.link_id, op.link_sequence);
  }

  int raise_link_sequence(batch_state& b, const std::string& link_id, uint64_t link_sequence) {
    MDB_val k = as_val(link_id);
    MDB_val v;
    uint64_t last = 0;
    int rc = mdb_get(b.txn, link_sequences, &k, &v);
    if (rc == 0) {
      if (!decode_u64(as_view(v), last)) {
        b.error = "link sequence record of link " + link_id + " does not decode";
        return MDB_CORRUPTED;
      }
      if (link_sequence <= last)
        return 0;
    } else if (rc != MDB_NOTFOUND) {
      b.error = lmdb_text("mdb_get(link_sequences)", rc);
      return rc;
    }
    std::string value = encode_u64(link_sequence);
    v = as_val(value);
    if ((rc = mdb_put(b.txn, link_sequences, &k, &v, 0)) != 0)
      b.error = lmdb_text("mdb_put(link_sequences)", rc);
    return rc;
  }

  int run(batch_state& b, clear_transfer_op& op, op_result& r) {
    if (!valid_link_id(op.link_id)) {
      r.error = store_errc::not_found; // such a link cannot have marks
      return 0;
    }
    std::string tkey = transfer_key(op.link_id, op.link_sequence);
    MDB_val k = as_val(tkey);
    MDB_val v;
    int rc = mdb_get(b.txn, transfers, &k, &v);
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
      b.error = "transfer mark " + op.link_id + "/" + std::to_string(op.link_sequence) +
                " does not decode";
      return MDB_CORRUPTED;
    }
    if ((rc = mdb_del(b.txn, transfers, &k, nullptr)) != 0) {
      b.error = lmdb_text("mdb_del(transfers)", rc);
      return rc;
    }
    if (!op.delete_message)
      return 0;
    // A message that is already gone (or whose destination is) leaves just the mark to remove.
    pending_destination* dest = nullptr;
    rc = load_destination(b, destination_id, dest);
    if (rc == MDB_NOTFOUND)
      return 0;
    if (rc != 0)
      return rc;
    rc = delete_message(b, message_key(destination_id, sequence));
    if (rc == MDB_NOTFOUND)
      return 0;
    if (rc != 0)
      return rc;
    ++dest->record.dequeued;
    dest->dirty = true;
    return 0;
  }

  int write_destinations(batch_state& b) {
    for (auto& [id, p] : b.destinations) {
      if (!p.dirty)
        continue;
      std::string key = destination_key(id);
      std::string value = encode_destination(p.record);
      MDB_val k = as_val(key);
      MDB_val v = as_val(value);
      int rc = mdb_put(b.txn, destinations, &k, &v, 0);
      if (rc != 0) {
        b.error = lmdb_text("mdb_put(destinations)", rc);
        return rc;
      }
    }
    return 0;
  }

  // Puts stop here, so that deletes always find free pages (docs/storage.md).
  int check_high_water(batch_state& b, std::string& error) {
    MDB_envinfo ei;
    int rc = mdb_env_info(env, &ei);
    if (rc != 0) {
      error = lmdb_text("mdb_env_info", rc);
      return rc;
    }
    const MDB_dbi dbis[] = {meta,  destinations, destination_names, index,         bodies,
                            audit, sequences,    transfers,         link_sequences};
    uint64_t used = 0;
    if ((rc = pages_in_use(b.txn, dbis, std::size(dbis), used)) != 0) {
      error = lmdb_text("mdb_stat", rc);
      return rc;
    }
    uint64_t map_pages = ei.me_mapsize / page_size;
    uint64_t high_water = map_pages > reserve_pages ? map_pages - reserve_pages : 0;
    if (used <= high_water)
      return 0;
    error = "the store is full: " + std::to_string(used) + " pages in use, " +
            std::to_string(reserve_pages) + " of " + std::to_string(map_pages) +
            " are kept for acknowledgements";
    return above_high_water;
  }

  // Operations [first, last) of the batch in one write transaction; their results go to the
  // same places in `results`. 0, above_high_water, or the LMDB code that failed it.
  int run_batch(std::vector<operation>& batch, size_t first, size_t last, bool puts_fail_full,
                std::vector<op_result>& results, std::string& error) {
    std::fill(results.begin() + first, results.begin() + last, op_result{});
    txn_guard txn;
    int rc = begin_write(txn);
    if (rc != 0) {
      error = lmdb_text("mdb_txn_begin", rc);
      return rc;
    }
    batch_state b;
    b.txn = txn.get();
    b.puts_fail_full = puts_fail_full;
    for (size_t i = first; i < last; ++i) {
      rc = std::visit([&](auto& op) { return run(b, op, results[i]); }, batch[i]);
      if (rc != 0) {
        error = b.error.empty() ? lmdb_text("apply", rc) : b.error;
        return rc;
      }
    }
    if ((rc = write_destinations(b)) != 0) {
      error = b.error;
      return rc;
    }
    if (b.stored && (rc = check_high_water(b, error)) != 0)
      return rc;
    auto start = std::chrono::steady_clock::now();
    rc = txn.commit();
    auto elapsed = std::chrono::steady_clock::now() - start;
    if (rc != 0) {
      error = lmdb_text("mdb_txn_commit", rc);
      return rc;
    }
    std::lock_guard<std::mutex> lock(stats_mutex);
    auto& s = counters;
    ++s.commits;
    s.operations += last - first;
    s.last_batch_size = last - first;
    s.max_batch_size = std::max<uint64_t>(s.max_batch_size, last - first);
    s.mean_batch_size = static_cast<double>(s.operations) / static_cast<double>(s.commits);
    s.last_commit_ms = std::chrono::duration<double, std::milli>(elapsed).count();
    return 0;
  }

  // A commit that changes one small record, so that pages freed by the last commit become
  // usable by the next one. 0 or the LMDB code that failed it.
  int advance_transaction() {
    txn_guard txn;
    int rc = begin_write(txn);
    if (rc != 0)
      return rc;
    MDB_val k = as_val(meta_touch_key);
    MDB_val v;
    uint64_t touches = 0;
    rc = mdb_get(txn.get(), meta, &k, &v);
    if (rc == 0 && !decode_u64(as_view(v), touches))
      return MDB_CORRUPTED;
    if (rc != 0 && rc != MDB_NOTFOUND)
      return rc;
    std::string value = encode_u64(touches + 1);
    v = as_val(value);
    if ((rc = mdb_put(txn.get(), meta, &k, &v, 0)) != 0)
      return rc;
    return txn.commit();
  }

  // --- open() ---

  result<void> open_databases(const store_options& options) {
    txn_guard txn;
    int rc = begin_write(txn);
    if (rc != 0)
      return lmdb_failure("mdb_txn_begin", rc);
    struct named {
      const char* name;
      MDB_dbi* dbi;
    } dbs[] = {{"meta", &meta},
               {"destinations", &destinations},
               {"destination_names", &destination_names},
               {"index", &index},
               {"bodies", &bodies},
               {"audit", &audit},
               {"sequences", &sequences},
               {"transfers", &transfers},
               {"link_sequences", &link_sequences}};
    for (auto& db : dbs) {
      if ((rc = mdb_dbi_open(txn.get(), db.name, MDB_CREATE, db.dbi)) != 0)
        return failure{store_errc::io_error,
                       std::string("mdb_dbi_open(") + db.name + "): " + mdb_strerror(rc)};
    }
    MDB_val k = as_val(meta_schema_key);
    MDB_val v;
    rc = mdb_get(txn.get(), meta, &k, &v);
    if (rc == MDB_NOTFOUND) {
      auto id = random_uuid();
      if (!id)
        return id.error();
      std::string schema = encode_u32(schema_version);
      v = as_val(schema);
      if ((rc = mdb_put(txn.get(), meta, &k, &v, 0)) != 0)
        return lmdb_failure("mdb_put(meta)", rc);
      MDB_val ik = as_val(meta_store_id_key);
      MDB_val iv = as_val(*id);
      if ((rc = mdb_put(txn.get(), meta, &ik, &iv, 0)) != 0)
        return lmdb_failure("mdb_put(meta)", rc);
      info.created = true;
      info.schema = schema_version;
      info.store_id = *id;
    } else if (rc != 0) {
      return lmdb_failure("mdb_get(meta)", rc);
    } else {
      uint32_t schema = 0;
      if (!decode_u32(as_view(v), schema))
        return failure{store_errc::corrupt,
                       "store " + options.directory.string() + ": schema record does not decode"};
      info.schema = schema;
      if (schema != schema_version)
        return failure{store_errc::schema_mismatch,
                       "store " + options.directory.string() + " has schema version " +
                           std::to_string(schema) + ", this build reads version " +
                           std::to_string(schema_version)};
      MDB_val ik = as_val(meta_store_id_key);
      MDB_val iv;
      rc = mdb_get(txn.get(), meta, &ik, &iv);
      if (rc == MDB_NOTFOUND)
        return failure{store_errc::corrupt,
                       "store " + options.directory.string() + " has no store id"};
      if (rc != 0)
        return lmdb_failure("mdb_get(meta)", rc);
      info.store_id.assign(as_view(iv));
    }
    if ((rc = txn.commit()) != 0)
      return lmdb_failure("mdb_txn_commit", rc);
    return {};
  }
};

// --- store ---

store::store(std::unique_ptr<impl> p) : impl_(std::move(p)) {}
store::~store() = default;

result<std::unique_ptr<store>> store::open(const store_options& options) {
  std::error_code ec;
  std::filesystem::create_directories(options.directory, ec);
  if (ec)
    return failure{store_errc::io_error,
                   "create_directories " + options.directory.string() + ": " + ec.message()};
  auto d = std::make_unique<impl>();
  if (auto registered = d->register_folder(options.directory); !registered)
    return registered.error();
  int rc = mdb_env_create(&d->env);
  if (rc != 0) {
    d->env = nullptr;
    return lmdb_failure("mdb_env_create", rc);
  }
  if ((rc = mdb_env_set_maxdbs(d->env, 16)) != 0)
    return lmdb_failure("mdb_env_set_maxdbs", rc);
  if ((rc = mdb_env_set_mapsize(d->env, options.max_size_bytes)) != 0)
    return lmdb_failure("mdb_env_set_mapsize", rc);
  if ((rc = mdb_env_set_maxreaders(d->env, options.max_readers)) != 0)
    return lmdb_failure("mdb_env_set_maxreaders", rc);
  unsigned flags = MDB_NOTLS;
  if (!options.sync)
    flags |= MDB_NOSYNC;
  if ((rc = mdb_env_open(d->env, options.directory.c_str(), flags, 0644)) != 0)
    return failure{rc == MDB_INVALID ? store_errc::corrupt : store_errc::io_error,
                   "mdb_env_open " + options.directory.string() + ": " + mdb_strerror(rc)};
  d->max_key_size = static_cast<size_t>(mdb_env_get_maxkeysize(d->env));
  MDB_stat env_stat;
  MDB_envinfo env_info;
  if ((rc = mdb_env_stat(d->env, &env_stat)) != 0)
    return lmdb_failure("mdb_env_stat", rc);
  if ((rc = mdb_env_info(d->env, &env_info)) != 0)
    return lmdb_failure("mdb_env_info", rc);
  d->page_size = env_stat.ms_psize;
  uint64_t map_pages = env_info.me_mapsize / d->page_size;
  d->reserve_pages = options.reserve_bytes > 0
                         ? std::min(map_pages, options.reserve_bytes / d->page_size)
                         : default_reserve_pages(map_pages, d->page_size);
  int dead = 0;
  if ((rc = mdb_reader_check(d->env, &dead)) != 0)
    return lmdb_failure("mdb_reader_check", rc);
  d->info.stale_readers_cleared = dead;
  d->counters.stale_readers_cleared = static_cast<uint64_t>(dead);
  if (auto opened = d->open_databases(options); !opened)
    return opened.error();
  return std::unique_ptr<store>(new store(std::move(d)));
}

const store_info& store::info() const {
  return impl_->info;
}

std::vector<op_result> store::apply(std::vector<operation>& batch) {
  auto& d = *impl_;
  std::vector<op_result> results;
  if (batch.empty())
    return results;
  results.assign(batch.size(), op_result{});
  std::string error; // the last failure's text, kept for people
  batch_steps steps;
  steps.run = [&](size_t first, size_t last, bool puts_fail_full) {
    return d.run_batch(batch, first, last, puts_fail_full, results, error);
  };
  steps.advance = [&] { return d.advance_transaction(); };
  steps.has_put = [&](size_t first, size_t last) {
    return std::any_of(batch.begin() + first, batch.begin() + last,
                       [](const operation& op) { return std::holds_alternative<put_op>(op); });
  };
  steps.fail = [&](size_t first, size_t last, int rc) {
    std::error_code code = rc == MDB_MAP_FULL ? make_error_code(store_errc::store_full)
                                              : make_error_code(store_errc::io_error);
    for (size_t i = first; i < last; ++i)
      results[i] = op_result{code};
  };
  commit_with_room(steps, 0, batch.size());
  if (!error.empty()) {
    std::lock_guard<std::mutex> lock(d.stats_mutex);
    d.last_error = error;
  }
  return results;
}

result<std::vector<destination_record>> store::destinations() const {
  auto& d = *impl_;
  txn_guard txn;
  int rc = d.begin_read(txn);
  if (rc != 0)
    return lmdb_failure("mdb_txn_begin", rc);
  MDB_cursor* c = nullptr;
  if ((rc = mdb_cursor_open(txn.get(), d.destinations, &c)) != 0)
    return lmdb_failure("mdb_cursor_open(destinations)", rc);
  cursor_guard guard(c);
  std::vector<destination_record> out;
  MDB_val k;
  MDB_val v;
  for (rc = mdb_cursor_get(c, &k, &v, MDB_FIRST); rc == 0;
       rc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
    destination_record record;
    if (k.mv_size != 4 ||
        !decode_destination(static_cast<uint32_t>(read_be(as_view(k), 0, 4)), as_view(v), record))
      return failure{store_errc::corrupt, "a destination record does not decode"};
    out.push_back(std::move(record));
  }
  if (rc != MDB_NOTFOUND)
    return lmdb_failure("mdb_cursor_get(destinations)", rc);
  return out;
}

result<std::vector<index_entry>> store::recover(uint32_t destination_id) const {
  auto& d = *impl_;
  txn_guard txn;
  int rc = d.begin_read(txn);
  if (rc != 0)
    return lmdb_failure("mdb_txn_begin", rc);
  MDB_cursor* c = nullptr;
  if ((rc = mdb_cursor_open(txn.get(), d.index, &c)) != 0)
    return lmdb_failure("mdb_cursor_open(index)", rc);
  cursor_guard guard(c);
  std::string prefix = destination_key(destination_id);
  std::vector<index_entry> out;
  MDB_val k = as_val(prefix);
  MDB_val v;
  for (rc = mdb_cursor_get(c, &k, &v, MDB_SET_RANGE); rc == 0;
       rc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
    auto key = as_view(k);
    if (key.size() != message_key_size || key.substr(0, 4) != prefix)
      break;
    index_entry entry;
    if (!decode_index(as_view(v), entry))
      return failure{store_errc::corrupt, "index entry " + std::to_string(destination_id) + "/" +
                                              std::to_string(read_be(key, 4, 8)) +
                                              " does not decode"};
    entry.sequence = read_be(key, 4, 8); // the key is authoritative
    out.push_back(entry);
  }
  if (rc != 0 && rc != MDB_NOTFOUND)
    return lmdb_failure("mdb_cursor_get(index)", rc);
  return out;
}

result<uint64_t> store::last_sequence(uint32_t destination_id) const {
  auto& d = *impl_;
  txn_guard txn;
  int rc = d.begin_read(txn);
  if (rc != 0)
    return lmdb_failure("mdb_txn_begin", rc);
  std::string key = destination_key(destination_id);
  MDB_val k = as_val(key);
  MDB_val v;
  rc = mdb_get(txn.get(), d.sequences, &k, &v);
  if (rc == MDB_NOTFOUND)
    return uint64_t{0};
  if (rc != 0)
    return lmdb_failure("mdb_get(sequences)", rc);
  uint64_t last = 0;
  if (!decode_u64(as_view(v), last))
    return failure{store_errc::corrupt, "sequence record of destination " +
                                            std::to_string(destination_id) + " does not decode"};
  return last;
}

result<index_entry> store::read_entry(uint32_t destination_id, uint64_t sequence) const {
  auto raw = impl_->read_message_record(impl_->index, "index", destination_id, sequence);
  if (!raw)
    return raw.error();
  index_entry entry;
  if (!decode_index(*raw, entry))
    return failure{store_errc::corrupt, "index entry " + std::to_string(destination_id) + "/" +
                                            std::to_string(sequence) + " does not decode"};
  entry.sequence = sequence;
  return entry;
}

result<std::string> store::read_payload(uint32_t destination_id, uint64_t sequence) const {
  return impl_->read_message_record(impl_->bodies, "bodies", destination_id, sequence);
}

result<std::vector<transfer_record>> store::transfers(const std::string& link_id) const {
  auto& d = *impl_;
  std::vector<transfer_record> out;
  if (!valid_link_id(link_id))
    return out; // such a link cannot have marks
  txn_guard txn;
  int rc = d.begin_read(txn);
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
  auto& d = *impl_;
  txn_guard txn;
  int rc = d.begin_read(txn);
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
  auto& d = *impl_;
  if (!valid_link_id(link_id))
    return uint64_t{0}; // such a link cannot have marks
  txn_guard txn;
  int rc = d.begin_read(txn);
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

int store::clear_stale_readers() {
  int dead = 0;
  if (mdb_reader_check(impl_->env, &dead) != 0)
    return 0;
  std::lock_guard<std::mutex> lock(impl_->stats_mutex);
  impl_->counters.stale_readers_cleared += static_cast<uint64_t>(dead);
  return dead;
}

store_stats store::stats() const {
  auto& d = *impl_;
  store_stats s;
  {
    std::lock_guard<std::mutex> lock(d.stats_mutex);
    s = d.counters;
  }
  MDB_envinfo ei;
  MDB_stat st;
  if (mdb_env_info(d.env, &ei) == 0 && mdb_env_stat(d.env, &st) == 0) {
    s.map_size = ei.me_mapsize;
    s.used_bytes = (static_cast<uint64_t>(ei.me_last_pgno) + 1) * st.ms_psize;
    s.readers_in_use = ei.me_numreaders;
    s.reserved_bytes = d.reserve_pages * st.ms_psize;
    s.last_txn_id = ei.me_last_txnid;
  }
  // mdb_reader_list is LMDB's only view of the reader table: one text line per slot,
  // "pid thread txnid", with "-" for a slot that holds no snapshot.
  mdb_reader_list(
      d.env,
      [](const char* line, void* ctx) -> int {
        auto& out = *static_cast<store_stats*>(ctx);
        long long pid = 0;
        unsigned long long txn = 0;
        char thread[32];
        if (std::sscanf(line, "%lld %31s %llu", &pid, thread, &txn) != 3 || pid <= 0)
          return 0; // the header, a free slot or "(no active readers)"
        ++out.open_readers;
        if (out.oldest_reader_pid == 0 || txn < out.oldest_reader_txn) {
          out.oldest_reader_pid = pid;
          out.oldest_reader_txn = txn;
        }
        return 0;
      },
      &s);
  if (s.oldest_reader_pid != 0 && s.last_txn_id > s.oldest_reader_txn)
    s.oldest_reader_lag = s.last_txn_id - s.oldest_reader_txn;
  return s;
}

} // namespace actormq::storage
