#include "actors/lock_holder.hpp"

#include "actors/atoms.hpp"

#include <chrono>

namespace actormq::actors {

caf::behavior lock_holder(caf::event_based_actor* self, lock_request request, lock_slot slot,
                          caf::actor node) {
  auto started = std::chrono::steady_clock::now();
  auto taken = storage::master_lock::try_acquire(request.data_dir, request.node_name);
  if (!taken && taken.code() == storage::store_errc::lock_held && request.wait) {
    taken = storage::master_lock::acquire(
        request.data_dir, request.node_name, [&](const storage::lock_holder_info& holder) {
          self->send(node, waiting_atom::value, holder.node_name, static_cast<int64_t>(holder.pid));
        });
  }
  if (!taken) {
    if (taken.code() == storage::store_errc::lock_held)
      self->send(node, refused_atom::value, taken.message());
    else
      self->send(node, failed_atom::value, taken.message());
  } else {
    slot->emplace(std::move(*taken));
    auto waited = std::chrono::duration_cast<std::chrono::milliseconds>(
        std::chrono::steady_clock::now() - started);
    self->send(node, acquired_atom::value, static_cast<int64_t>(waited.count()));
  }
  self->quit();
  return {};
}

} // namespace actormq::actors
