#include "actors/lock_holder.hpp"

#include "actors/atoms.hpp"
#include "actors/errors.hpp"
#include "actors/snapshot.hpp"

#include <unistd.h>

namespace actormq::actors {

lock_holder_actor::behavior_type
lock_holder(lock_holder_actor::stateful_pointer<lock_holder_state> self, lock_request request,
            lock_slot slot, lock_owner_actor node) {
  auto& st = self->state;
  st.request = std::move(request);
  auto started = std::chrono::steady_clock::now();
  auto taken = storage::master_lock::try_acquire(st.request.data_dir, st.request.node_name);
  if (!taken && taken.code() == storage::store_errc::lock_held && st.request.wait) {
    taken = storage::master_lock::acquire(
        st.request.data_dir, st.request.node_name, [&](const storage::lock_holder_info& holder) {
          self->send(node, waiting_atom::value, holder.node_name, static_cast<int64_t>(holder.pid));
        });
  }
  if (!taken) {
    if (taken.code() == storage::store_errc::lock_held)
      self->send(node, refused_atom::value, taken.message());
    else
      self->send(node, failed_atom::value, taken.message());
    self->quit();
    return lock_holder_actor::behavior_type::make_empty_behavior();
  }
  slot->emplace(std::move(*taken));
  st.held_since = std::chrono::steady_clock::now();
  st.waited_ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(st.held_since - started).count();
  self->send(node, acquired_atom::value, st.waited_ms);
  // An unexpected message is logged and dropped, never answered.
  self->set_default_handler(drop_unexpected);
  return {
      [self](snapshot_atom) -> lock_holder_snapshot {
        auto& st = self->state;
        lock_holder_snapshot out;
        out.mailbox = self->mailbox().size();
        out.lock_file = storage::master_lock::path(st.request.data_dir).string();
        out.holder = st.request.node_name;
        out.pid = static_cast<uint64_t>(::getpid());
        out.waited_ms = static_cast<uint64_t>(st.waited_ms);
        out.held_ms = static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                                std::chrono::steady_clock::now() - st.held_since)
                                                .count());
        return out;
      },
  };
}

} // namespace actormq::actors
