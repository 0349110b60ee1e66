// The queue actor's part in a local transaction (docs/transactions.md): the commit actor has it
// prepare the transaction's sends and acknowledgements, then tells it how the store write went.
#include "actors/errors.hpp"
#include "actors/queue_internal.hpp"
#include "protocol/origin_stamp.hpp"

namespace actormq::actors::queue_detail {

// A transaction's sends get their sequences and origin identity; they wait for its commit.
prepared_sends prepare_sends(self_ptr self, incoming_list& messages) {
  auto& st = self->state;
  prepared_sends out;
  out.destination_id = st.settings.destination_id;
  out.first_sequence = st.next_sequence + 1;
  for (auto& m : messages) {
    auto sequence = ++st.next_sequence;
    if (!m.forwarded)
      protocol::origin_stamp(m.payload, st.db->info().store_id, sequence);
  }
  out.messages = std::move(messages);
  return out;
}

// A transaction's commit is done: its stored (or non-persistent) sends become dispatchable,
// and its acknowledged messages are gone, or pending again where their delete failed.
void settle_transaction(self_ptr self, transaction_settlement& done) {
  for (size_t i = 0; i < done.messages.size() && i < done.sequences.size(); ++i) {
    auto& m = done.messages[i];
    auto body = std::make_shared<const std::string>(std::move(m.payload));
    m.payload.clear();
    accept(self, done.sequences[i], m, std::move(body), m.persistent ? m.prior_deliveries : 0);
  }
  if (!done.deleted.empty() || !done.failed_deletes.empty())
    settle_deletes(self, done.deleted, done.failed_deletes,
                   make_broker_error(broker_errc::store_failed, done.failure), "acknowledged");
}

// A transaction's acknowledgements: out of flight now, deleted by its commit.
caf::result<prepared_acks> prepare_acks(self_ptr self, uint64_t sub, const key_list& keys) {
  auto out = acknowledge(self, sub, keys);
  if (!out)
    return std::move(out.error());
  return prepared_acks{self->state.settings.destination_id, std::move(out->persistent_keys),
                       out->acknowledged};
}

} // namespace actormq::actors::queue_detail
