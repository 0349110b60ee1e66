#include "actors/queue.hpp"

#include "actors/snapshot.hpp"

namespace actormq::actors {

caf::settings queue_snapshot(const queue_state& st, size_t mailbox) {
  caf::settings out;
  caf::put(out, "kind", "queue");
  put_count(out, "mailbox", mailbox);
  caf::put(out, "name", st.settings.name);
  put_count(out, "pending", st.core->pending());
  put_count(out, "in-flight", st.core->in_flight());
  put_count(out, "consumers", st.core->consumers());
  put_count(out, "enqueued", st.enqueued);
  put_count(out, "dequeued", st.dequeued);
  put_count(out, "duplicates-dropped", st.duplicates);
  put_count(out, "expired", st.expired);
  put_count(out, "dispatched", st.dispatched);
  put_count(out, "redelivered", st.redelivered);
  put_count(out, "recovered", st.recovered);
  put_count(out, "handed-over", st.handed_over);
  put_count(out, "in-transfer-at-start", st.in_transfer_at_start);
  put_count(out, "local-consumers", st.core->local_consumers());
  put_count(out, "memory-bytes", st.core->memory_bytes());
  put_count(out, "held-sends", st.held_sends.size());
  put_count(out, "deliveries-recorded", st.records);
  put_count(out, "recorded-with-put", st.premarked);
  put_count(out, "record-failures", st.record_failures);
  put_count(out, "deliveries-waiting-for-record", st.outbox.size());
  put_count(out, "acknowledged-deletes-waiting", st.waiting_deletes.size());
  put_count(out, "acknowledged-deletes-shared", st.deletes_shared);
  return out;
}

} // namespace actormq::actors
