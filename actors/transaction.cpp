#include "actors/transaction.hpp"

#include "actors/errors.hpp"

#include <caf/send.hpp>
#include <spdlog/spdlog.h>

namespace actormq::actors {

namespace {

using self_ptr = transaction_actor::stateful_pointer<transaction_state>;

caf::error rolled_back(const std::string& why) {
  return make_broker_error(broker_errc::transaction_rolled_back,
                           "the transaction was rolled back, nothing of it applied: " + why);
}

// Rejected deliveries (STOMP's NACK) go back to their queues, redelivered; so do they when the
// commit fails.
void return_rejected(self_ptr self) {
  for (auto& group : self->state.plan.acks)
    if (group.reject)
      caf::anon_send(group.queue, nack_atom::value, group.subscription, group.keys);
}

void finish(self_ptr self, caf::error err, transaction_result result) {
  return_rejected(self);
  if (err)
    self->state.promise.deliver(std::move(err));
  else
    self->state.promise.deliver(result);
  self->quit();
}

// A destination could not prepare: what the others set aside returns to them.
void undo(self_ptr self) {
  auto& st = self->state;
  for (size_t i = 0; i < st.plan.acks.size(); ++i) {
    auto& keys = st.prepared_acks_of[i].persistent_keys;
    if (keys.empty())
      continue;
    transaction_settlement back;
    back.deleted = keys;
    back.failed_deletes = keys;
    back.failure = "the transaction was rolled back";
    self->send(st.plan.acks[i].queue, txn_done_atom::value, std::move(back));
  }
  finish(self, rolled_back(error_text(st.failure)), {});
}

// Where each operation of the batch came from.
struct op_origin {
  bool put = false;
  size_t group = 0; // index into plan.sends or plan.acks
  size_t item = 0;  // message or key index within it
};

bool failed(const storage::op_result& r) {
  return r.error && r.error != storage::store_errc::not_found;
}

// The store answered (`results`, empty with `err` if the write itself was lost): each
// destination learns its part of the outcome.
void settle(self_ptr self, const std::vector<op_origin>& origins, const op_result_list& results,
            const caf::error& err) {
  auto& st = self->state;
  caf::error first_failure = err;
  for (size_t i = 0; i < origins.size() && !first_failure; ++i)
    if (i >= results.size() || failed(results[i]))
      first_failure = i < results.size() ? from_store_error(results[i].error, "commit")
                                         : make_broker_error(broker_errc::store_failed, "commit");
  std::vector<transaction_settlement> sends(st.plan.sends.size());
  std::vector<transaction_settlement> acks(st.plan.acks.size());
  std::vector<std::vector<bool>> stored(st.plan.sends.size());
  std::vector<std::vector<bool>> duplicate(st.plan.sends.size());
  for (size_t g = 0; g < st.prepared_sends_of.size(); ++g) {
    stored[g].assign(st.prepared_sends_of[g].messages.size(), !first_failure);
    duplicate[g].assign(st.prepared_sends_of[g].messages.size(), false);
  }
  transaction_result result;
  for (size_t i = 0; i < origins.size(); ++i) {
    auto& o = origins[i];
    bool ok = i < results.size() && !failed(results[i]);
    if (o.put) {
      stored[o.group][o.item] = ok && !first_failure;
      duplicate[o.group][o.item] = ok && results[i].duplicate;
    } else if (!ok) {
      acks[o.group].failed_deletes.push_back(st.prepared_acks_of[o.group].persistent_keys[o.item]);
    }
  }
  for (size_t g = 0; g < st.prepared_sends_of.size(); ++g) {
    auto& p = st.prepared_sends_of[g];
    for (size_t m = 0; m < p.messages.size(); ++m) {
      if (!stored[g][m] || duplicate[g][m]) {
        result.duplicates += duplicate[g][m] ? 1 : 0;
        continue;
      }
      sends[g].sequences.push_back(p.first_sequence + m);
      sends[g].messages.push_back(std::move(p.messages[m]));
    }
    result.sends += p.messages.size();
    if (!sends[g].messages.empty())
      self->send(st.plan.sends[g].queue, txn_done_atom::value, std::move(sends[g]));
  }
  for (size_t g = 0; g < st.prepared_acks_of.size(); ++g) {
    auto& p = st.prepared_acks_of[g];
    result.acknowledged += p.acknowledged;
    if (p.persistent_keys.empty())
      continue;
    acks[g].deleted = p.persistent_keys;
    if (!acks[g].failed_deletes.empty())
      acks[g].failure = error_text(first_failure);
    self->send(st.plan.acks[g].queue, txn_done_atom::value, std::move(acks[g]));
  }
  if (first_failure) {
    spdlog::warn("a transaction's commit failed: {}", error_text(first_failure));
    finish(self, rolled_back(error_text(first_failure)), {});
    return;
  }
  finish(self, {}, result);
}

// Every destination prepared its part: one write to the store.
void write(self_ptr self) {
  auto& st = self->state;
  op_list ops;
  std::vector<op_origin> origins;
  for (size_t g = 0; g < st.prepared_sends_of.size(); ++g) {
    auto& p = st.prepared_sends_of[g];
    if (p.publish_after_commit)
      continue;
    for (size_t m = 0; m < p.messages.size(); ++m) {
      auto& msg = p.messages[m];
      if (!msg.persistent)
        continue;
      storage::put_op put;
      put.destination_id = p.destination_id;
      put.entry.sequence = p.first_sequence + m;
      put.entry.size = static_cast<uint32_t>(msg.payload.size());
      put.entry.priority = msg.priority;
      put.entry.expiration_ms = msg.expiration_ms;
      put.entry.delivery_count = msg.prior_deliveries;
      put.payload = msg.payload;
      put.producer_id = msg.producer_id;
      put.producer_sequence = msg.producer_sequence;
      ops.emplace_back(std::move(put));
      origins.push_back({true, g, m});
    }
  }
  for (size_t g = 0; g < st.prepared_acks_of.size(); ++g) {
    auto& p = st.prepared_acks_of[g];
    for (size_t k = 0; k < p.persistent_keys.size(); ++k) {
      ops.emplace_back(storage::delete_op{p.destination_id, p.persistent_keys[k]});
      origins.push_back({false, g, k});
    }
  }
  if (ops.empty()) {
    settle(self, origins, {}, {});
    return;
  }
  self->request(st.store, caf::infinite, write_atom::value, std::move(ops))
      .then([self, origins](op_result_list& results) { settle(self, origins, results, {}); },
            [self, origins](caf::error& err) { settle(self, origins, {}, err); });
}

void prepared(self_ptr self) {
  auto& st = self->state;
  if (--st.waiting > 0)
    return;
  if (st.failure)
    undo(self);
  else
    write(self);
}

} // namespace

transaction_actor::behavior_type transaction_behavior(self_ptr self, transaction_plan plan,
                                                      store_actor store) {
  self->state.plan = std::move(plan);
  self->state.store = std::move(store);
  return {
      [self](commit_atom) -> caf::result<transaction_result> {
        auto& st = self->state;
        st.promise = self->make_response_promise<transaction_result>();
        st.prepared_sends_of.resize(st.plan.sends.size());
        st.prepared_acks_of.resize(st.plan.acks.size());
        auto on_error = [self](caf::error& err) {
          if (!self->state.failure)
            self->state.failure = std::move(err);
          prepared(self);
        };
        st.waiting = 1; // this handler's own, so that nothing finishes before every request
        for (size_t g = 0; g < st.plan.sends.size(); ++g) {
          ++st.waiting;
          self->request(st.plan.sends[g].queue, caf::infinite, txn_put_atom::value,
                        std::move(st.plan.sends[g].messages))
              .then(
                  [self, g](prepared_sends& p) {
                    self->state.prepared_sends_of[g] = std::move(p);
                    prepared(self);
                  },
                  on_error);
        }
        for (size_t g = 0; g < st.plan.acks.size(); ++g) {
          auto& group = st.plan.acks[g];
          if (group.reject)
            continue;
          ++st.waiting;
          self->request(group.queue, caf::infinite, txn_ack_atom::value, group.subscription,
                        group.keys)
              .then(
                  [self, g](prepared_acks& p) {
                    self->state.prepared_acks_of[g] = std::move(p);
                    prepared(self);
                  },
                  on_error);
        }
        prepared(self);
        return st.promise;
      },
  };
}

} // namespace actormq::actors
