// Opening a store: the LMDB environment in its folder, the named databases, the schema check
// and the store's identity. Layout: docs/storage.md and encoding.hpp.
#include "storage/encoding.hpp"
#include "storage/journal_commit.hpp"
#include "storage/lmdb_support.hpp"
#include "storage/space.hpp"
#include "storage/store.hpp"
#include "storage/store_impl.hpp"
#include "storage/store_migration.hpp"

#include <lmdb.h>

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <mutex>
#include <set>

namespace actormq::storage {
namespace {

using namespace detail;

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

// Registers the folder as open; returns its canonical name (for ~impl to unregister).
result<std::string> register_folder(const std::filesystem::path& directory) {
  std::error_code ec;
  auto canonical = std::filesystem::canonical(directory, ec);
  if (ec)
    return failure{store_errc::io_error, "canonical " + directory.string() + ": " + ec.message()};
  std::lock_guard<std::mutex> lock(open_folders_mutex);
  if (!open_folders.insert(canonical.string()).second)
    return failure{store_errc::io_error,
                   "store " + canonical.string() + " is already open in this process"};
  return canonical.string();
}

// The highest body id ever given: meta's record, or the highest stored id if that is higher.
int read_last_body_id(const environment& e, MDB_txn* txn, uint64_t& last) {
  MDB_val k = as_val(meta_last_body_key);
  MDB_val v;
  int rc = mdb_get(txn, e.meta, &k, &v);
  if (rc == 0 && !decode_u64(as_view(v), last))
    return MDB_CORRUPTED;
  if (rc != 0 && rc != MDB_NOTFOUND)
    return rc;
  MDB_cursor* c = nullptr;
  if ((rc = mdb_cursor_open(txn, e.message_bodies, &c)) != 0)
    return rc;
  cursor_guard guard(c);
  rc = mdb_cursor_get(c, &k, &v, MDB_LAST);
  if (rc == MDB_NOTFOUND)
    return 0;
  if (rc != 0)
    return rc;
  if (k.mv_size != body_key_size)
    return MDB_CORRUPTED;
  last = std::max(last, read_be(as_view(k), 0, 8));
  return 0;
}

// Opens (creates) the named databases; writes the schema version and a new store id into a
// new store, checks them in an existing one and migrates a store of schema 1.
result<void> open_databases(environment& e, store_info& info, const store_options& options) {
  txn_guard txn;
  int rc = begin_write(e.env, txn);
  if (rc != 0)
    return lmdb_failure("mdb_txn_begin", rc);
  struct named {
    const char* name;
    MDB_dbi* dbi;
  } dbs[] = {{"meta", &e.meta},
             {"destinations", &e.destinations},
             {"destination_names", &e.destination_names},
             {"index", &e.index},
             {"message_bodies", &e.message_bodies},
             {"body_refs", &e.body_refs},
             {"audit", &e.audit},
             {"sequences", &e.sequences},
             {"transfers", &e.transfers},
             {"link_sequences", &e.link_sequences},
             {"scheduled", &e.scheduled}};
  for (auto& db : dbs) {
    if ((rc = mdb_dbi_open(txn.get(), db.name, MDB_CREATE, db.dbi)) != 0)
      return failure{store_errc::io_error,
                     std::string("mdb_dbi_open(") + db.name + "): " + mdb_strerror(rc)};
  }
  MDB_val k = as_val(meta_schema_key);
  MDB_val v;
  rc = mdb_get(txn.get(), e.meta, &k, &v);
  if (rc == MDB_NOTFOUND) {
    auto id = random_uuid();
    if (!id)
      return id.error();
    std::string schema = encode_u32(schema_version);
    v = as_val(schema);
    if ((rc = mdb_put(txn.get(), e.meta, &k, &v, 0)) != 0)
      return lmdb_failure("mdb_put(meta)", rc);
    MDB_val ik = as_val(meta_store_id_key);
    MDB_val iv = as_val(*id);
    if ((rc = mdb_put(txn.get(), e.meta, &ik, &iv, 0)) != 0)
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
    if (schema == 0 || schema > schema_version)
      return failure{store_errc::schema_mismatch,
                     "store " + options.directory.string() + " has schema version " +
                         std::to_string(schema) + ", this build reads versions 1 to " +
                         std::to_string(schema_version) +
                         ": open it with the ActorMQ release that wrote it (or a later one); "
                         "a store is never converted back to an older schema"};
    if (schema < schema_version) {
      std::string error;
      rc = migrate_schema1(e, txn.get(), e.last_body_id, error);
      if (rc != 0)
        return failure{read_code(rc),
                       "store " + options.directory.string() + ": migrating schema " +
                           std::to_string(schema) + " to " + std::to_string(schema_version) +
                           " failed (the store is unchanged): " + error +
                           (rc == MDB_MAP_FULL ? "; raise store.max_size_mb and start again" : "")};
      info.migrated_from = schema;
      info.schema = schema_version;
    }
    MDB_val ik = as_val(meta_store_id_key);
    MDB_val iv;
    rc = mdb_get(txn.get(), e.meta, &ik, &iv);
    if (rc == MDB_NOTFOUND)
      return failure{store_errc::corrupt,
                     "store " + options.directory.string() + " has no store id"};
    if (rc != 0)
      return lmdb_failure("mdb_get(meta)", rc);
    info.store_id.assign(as_view(iv));
  }
  if ((rc = read_last_body_id(e, txn.get(), e.last_body_id)) != 0)
    return lmdb_failure("last body id", rc);
  if ((rc = txn.commit()) != 0)
    return lmdb_failure("mdb_txn_commit", rc);
  return {};
}

} // namespace

store::impl::~impl() {
  if (open_txn != nullptr)
    mdb_txn_abort(open_txn); // its batches are in the journal: the next open applies them
  if (env != nullptr)
    mdb_env_close(env);
  if (!folder.empty()) {
    std::lock_guard<std::mutex> lock(open_folders_mutex);
    open_folders.erase(folder);
  }
}

store::store(std::unique_ptr<impl> p) : impl_(std::move(p)) {}
store::~store() = default;

result<std::unique_ptr<store>> store::open(const store_options& options) {
  std::error_code ec;
  std::filesystem::create_directories(options.directory, ec);
  if (ec)
    return failure{store_errc::io_error,
                   "create_directories " + options.directory.string() + ": " + ec.message()};
  auto d = std::make_unique<impl>();
  auto registered = register_folder(options.directory);
  if (!registered)
    return registered.error();
  d->folder = *registered;
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
  d->reserve_configured = options.reserve_bytes > 0;
  d->directory = options.directory.string();
  d->reserve_pages = options.reserve_bytes > 0
                         ? std::min(map_pages, options.reserve_bytes / d->page_size)
                         : default_reserve_pages(map_pages, d->page_size);
  int dead = 0;
  if ((rc = mdb_reader_check(d->env, &dead)) != 0)
    return lmdb_failure("mdb_reader_check", rc);
  d->info.stale_readers_cleared = dead;
  d->counters.stale_readers_cleared = static_cast<uint64_t>(dead);
  if (auto opened = open_databases(*d, d->info, options); !opened)
    return opened.error();
  // A journal left by an earlier open is applied even when this one runs without.
  bool journal = options.sync && options.journal;
  if (journal || std::filesystem::exists(options.directory / "journal"))
    if (auto replayed = open_journal(*d, options, journal); !replayed)
      return replayed.error();
  return std::unique_ptr<store>(new store(std::move(d)));
}

const store_info& store::info() const {
  return impl_->info;
}

} // namespace actormq::storage
