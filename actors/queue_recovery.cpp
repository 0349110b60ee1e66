#include "actors/queue.hpp"

#include "actors/errors.hpp"
#include "actors/incoming.hpp"

#include <spdlog/spdlog.h>

#include <set>

namespace actormq::actors {

void recover_queue(queue_actor::stateful_pointer<queue_state> self,
                   const storage::destination_record& record) {
  auto& st = self->state;
  st.enqueued = record.enqueued;
  st.dequeued = record.dequeued;
  st.duplicates = record.duplicates;
  auto last = st.db->last_sequence(st.settings.destination_id);
  if (last)
    st.next_sequence = *last;
  auto entries = st.db->recover(st.settings.destination_id);
  if (!entries) {
    spdlog::error("queue {} cannot recover: {}", st.settings.name, entries.message());
    self->quit(from_store_error(entries.code(), "recover " + st.settings.name));
    return;
  }
  // Messages marked as in transfer belong to a bridge until its peer confirms them.
  std::set<uint64_t> marked;
  if (auto transfers = st.db->all_transfers())
    for (auto& [link, t] : *transfers)
      if (t.destination_id == st.settings.destination_id)
        marked.insert(t.sequence);
  st.in_transfer_at_start = marked.size();
  for (auto& e : *entries) {
    if (e.sequence > st.next_sequence)
      st.next_sequence = e.sequence;
    if (marked.count(e.sequence))
      continue;
    queued_message q;
    q.sequence = e.sequence;
    q.size = e.size;
    q.expiration_ms = e.expiration_ms;
    q.priority = e.priority;
    q.persistent = true;
    // A recorded delivery may have reached its consumer before the node went down.
    q.redelivered = (e.flags & storage::flag_redelivered) != 0 || e.delivery_count > 0;
    q.delivery_count = e.delivery_count;
    q.recorded_deliveries = e.delivery_count;
    q.forwarded = (e.flags & storage::flag_forwarded) != 0;
    // Group assignments are not stored: a grouped message's group is read from its body and
    // the group picks a consumer again (as ActiveMQ does after a restart).
    if (e.flags & storage::flag_grouped)
      if (auto payload = st.db->read_payload(st.settings.destination_id, e.sequence)) {
        protocol::envelope envelope;
        if (protocol::decode_envelope(*payload, envelope))
          group_of(envelope, q.group, q.group_sequence);
      }
    st.core->enqueue(std::move(q));
  }
  st.recovered = entries->size();
}

} // namespace actormq::actors
