// The "actormq.storage" error category.
#include "storage/store.hpp"

#include <string>

namespace actormq::storage {
namespace {

class store_category_impl : public std::error_category {
public:
  const char* name() const noexcept override { return "actormq.storage"; }

  std::string message(int code) const override {
    switch (static_cast<store_errc>(code)) {
    case store_errc::ok:
      return "success";
    case store_errc::store_full:
      return "the store is full: its configured maximum size, or the room on its file system, is "
             "reached";
    case store_errc::io_error:
      return "a storage call (LMDB or file system) failed";
    case store_errc::corrupt:
      return "a stored record does not decode";
    case store_errc::schema_mismatch:
      return "the store was written by an incompatible schema version";
    case store_errc::not_found:
      return "no such destination or message";
    case store_errc::lock_held:
      return "the master lock is held by another process";
    case store_errc::not_locked:
      return "the store refuses to open without the master lock";
    case store_errc::readers_full:
      return "all LMDB reader slots are in use";
    case store_errc::stale_epoch:
      return "a replicated batch of an older master epoch";
    case store_errc::out_of_order:
      return "a replicated batch that does not follow the replica's position";
    }
    return "unknown storage error " + std::to_string(code);
  }
};

} // namespace

const std::error_category& store_category() {
  static const store_category_impl instance;
  return instance;
}

std::error_code make_error_code(store_errc e) {
  return {static_cast<int>(e), store_category()};
}

} // namespace actormq::storage
