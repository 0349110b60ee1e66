#include "actors/queue.hpp"

#include "actors/snapshot.hpp"

namespace actormq::actors {

queue_snapshot make_queue_snapshot(const queue_state& st, size_t mailbox) {
  queue_snapshot out;
  out.mailbox = mailbox;
  out.name = st.settings.name;
  out.pending = st.core->pending();
  out.in_flight = st.core->in_flight();
  out.consumers = st.core->consumers();
  out.enqueued = st.enqueued;
  out.dequeued = st.dequeued;
  out.duplicates_dropped = st.duplicates;
  out.expired = st.expired;
  out.dispatched = st.dispatched;
  out.redelivered = st.redelivered;
  out.recovered = st.recovered;
  out.handed_over = st.handed_over;
  out.in_transfer_at_start = st.in_transfer_at_start;
  out.local_consumers = st.core->local_consumers();
  out.memory_bytes = st.core->memory_bytes();
  out.held_sends = st.held_sends.size();
  out.deliveries_recorded = st.records;
  out.recorded_with_put = st.premarked;
  out.record_failures = st.record_failures;
  out.deliveries_waiting_for_record = st.outbox.size();
  out.acknowledged_deletes_waiting = st.waiting_deletes.size();
  out.acknowledged_deletes_shared = st.deletes_shared;
  out.selector_evaluations = st.core->selector_evaluations();
  out.dead_lettered = st.dead_lettered;
  out.dropped = st.dropped;
  out.waiting_redelivery = st.core->waiting_redelivery();
  return out;
}

} // namespace actormq::actors
