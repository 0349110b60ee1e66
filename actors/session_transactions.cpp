#include "actors/session_transactions.hpp"

#include "actors/errors.hpp"
#include "actors/incoming.hpp"
#include "actors/session_core.hpp"
#include "actors/transaction.hpp"

#include <caf/send.hpp>
#include <spdlog/spdlog.h>

#include <map>
#include <memory>

namespace actormq::actors {

namespace {

using self_ptr = session_ptr;
using protocol::error_code;

// Open transactions one connection may have at once.
constexpr size_t max_open_transactions = 1000;

std::string quoted_id(const std::string& id) {
  return "'" + id + "'";
}

// The open transaction `id`, or an error answered (or, without a request id, the connection
// closed: the client could not learn of it otherwise).
session_state::transaction_entry* find_transaction(self_ptr self, uint64_t request,
                                                   const std::string& id, const char* what) {
  auto& st = self->state;
  auto i = st.transactions.find(id);
  if (i != st.transactions.end())
    return &i->second;
  refuse(self, request, error_code::unknown_transaction,
         std::string(what) + ": no transaction " + quoted_id(id) +
             " is open on this connection (never begun, or committed or rolled back already)");
  return nullptr;
}

// Frees what a transaction holds from the connection's account.
void release(self_ptr self, const session_state::transaction_entry& t) {
  auto& st = self->state;
  for (auto& s : t.sends) {
    st.transaction_messages -= std::min<uint64_t>(st.transaction_messages, 1);
    st.transaction_bytes -= std::min<uint64_t>(st.transaction_bytes, s.message.payload.size());
  }
}

// Rolls back what a transaction held: its sends are dropped, the deliveries it acknowledged or
// rejected go back to their queues, redelivered (the path of STOMP's NACK).
void roll_back(self_ptr self, session_state::transaction_entry& t) {
  release(self, t);
  for (auto& a : t.acks)
    caf::anon_send(a.queue, nack_atom::value, a.subscription, std::move(a.keys));
  ++self->state.rollbacks;
}

// Every destination of the transaction is known: a transaction actor commits it.
void commit_plan(self_ptr self, uint64_t request, transaction_plan plan) {
  auto& st = self->state;
  auto committer = self->spawn(transaction_behavior, std::move(plan), st.ctx->store);
  self->request(committer, caf::infinite, commit_atom::value)
      .then(
          [self, request](transaction_result& r) {
            ++self->state.commits;
            write_receipt(self, request, r.sends + r.acknowledged, r.duplicates);
            disconnect_if_due(self);
          },
          [self, request](caf::error& err) {
            ++self->state.rollbacks;
            if (request != 0)
              write_error(self, request, err);
            else
              spdlog::warn("session {}: a commit nobody waits for failed: {}",
                           self->state.session_id, error_text(err));
            disconnect_if_due(self);
          });
}

} // namespace

void handle_begin(self_ptr self, uint64_t request, const protocol::begin_command& begin) {
  auto& st = self->state;
  if (begin.transaction_id.empty()) {
    refuse(self, request, error_code::invalid_field, "begin: the transaction id is empty");
    return;
  }
  if (st.transactions.count(begin.transaction_id)) {
    refuse(self, request, error_code::invalid_field,
           "begin: transaction " + quoted_id(begin.transaction_id) +
               " is open already on this connection");
    return;
  }
  if (st.transactions.size() >= max_open_transactions) {
    refuse(self, request, error_code::limit_exceeded,
           "begin: this connection has its maximum of " + std::to_string(max_open_transactions) +
               " open transactions");
    return;
  }
  st.transactions[begin.transaction_id];
  write_receipt(self, request, 1);
}

void handle_rollback(self_ptr self, uint64_t request, const protocol::rollback_command& rollback) {
  auto& st = self->state;
  auto* t = find_transaction(self, request, rollback.transaction_id, "rollback");
  if (!t)
    return;
  auto count = t->sends.size() + t->acks.size();
  roll_back(self, *t);
  st.transactions.erase(rollback.transaction_id);
  write_receipt(self, request, count);
}

void handle_commit(self_ptr self, uint64_t request, const protocol::commit_command& commit) {
  auto& st = self->state;
  auto* found = find_transaction(self, request, commit.transaction_id, "commit");
  if (!found)
    return;
  // The transaction ends here, whatever becomes of the commit.
  auto t = std::make_shared<session_state::transaction_entry>(std::move(*found));
  st.transactions.erase(commit.transaction_id);
  release(self, *t);
  if (!t->rollback_only.empty()) {
    roll_back(self, *t);
    refuse(self, request, error_code::transaction_rolled_back,
           "commit: the transaction was rolled back, nothing of it applied: " + t->rollback_only);
    return;
  }
  // Sends are grouped by destination, in the order sent; each destination is resolved once.
  auto plan = std::make_shared<transaction_plan>();
  std::map<std::string, size_t> group_of;
  for (auto& s : t->sends) {
    auto [i, added] = group_of.emplace(s.destination, plan->sends.size());
    if (added)
      plan->sends.emplace_back();
    plan->sends[i->second].messages.push_back(std::move(s.message));
  }
  for (auto& a : t->acks)
    plan->acks.push_back({a.queue, a.subscription, std::move(a.keys), a.reject});
  if (group_of.empty()) {
    commit_plan(self, request, std::move(*plan));
    return;
  }
  auto waiting = std::make_shared<size_t>(group_of.size());
  auto failure = std::make_shared<caf::error>();
  auto one_resolved = [self, request, plan, waiting, failure] {
    if (--*waiting > 0)
      return;
    if (*failure) {
      // Nothing was applied: the deliveries it acknowledged come back.
      session_state::transaction_entry back;
      for (auto& a : plan->acks)
        back.acks.push_back({a.queue, a.subscription, std::move(a.keys), a.reject});
      roll_back(self, back);
      write_error(self, request, error_code::transaction_rolled_back,
                  "commit: the transaction was rolled back, nothing of it applied: " +
                      error_text(*failure));
      disconnect_if_due(self);
      return;
    }
    commit_plan(self, request, std::move(*plan));
  };
  for (auto& [destination, index] : group_of) {
    auto g = index;
    self->state.resolver.resolve(
        self, self->state.ctx->broker, destination,
        [plan, g, one_resolved](const queue_actor& q) {
          plan->sends[g].queue = q;
          one_resolved();
        },
        [failure, one_resolved](const caf::error& err) {
          if (!*failure)
            *failure = err;
          one_resolved();
        });
  }
}

void hold_send(self_ptr self, uint64_t request, protocol::send_command& send) {
  auto& st = self->state;
  auto* t = find_transaction(self, request, send.transaction_id, "send");
  if (!t)
    return;
  auto& e = send.message;
  ++st.messages_in;
  e.clear_origin_store_id();
  e.clear_origin_sequence();
  if (auto refused = protocol::check_envelope(e); refused.code != error_code::none) {
    refuse(self, request, refused.code, refused.text);
    return;
  }
  if (auto parsed = protocol::parse_destination(e.destination()); !parsed) {
    refuse(self, request, error_code::bad_destination, parsed.message());
    return;
  }
  auto in = incoming_of(e, std::move(send.encoded));
  uint64_t bytes = in.payload.size();
  if (!t->rollback_only.empty()) {
    write_error(self, request, error_code::transaction_rolled_back,
                "send: transaction " + quoted_id(send.transaction_id) +
                    " can only roll back: " + t->rollback_only);
    return;
  }
  if (st.transaction_messages + 1 > st.ctx->max_transaction_messages ||
      st.transaction_bytes + bytes > st.ctx->max_transaction_bytes) {
    // What it held is dropped at once: the limit is there to bound the node's memory.
    t->rollback_only = "its sends went over this connection's limit of " +
                       std::to_string(st.ctx->max_transaction_messages) + " messages or " +
                       std::to_string(st.ctx->max_transaction_bytes) +
                       " bytes held by open transactions "
                       "(limits.max_transaction_messages, limits.max_transaction_bytes)";
    release(self, *t);
    t->sends.clear();
    t->sends.shrink_to_fit();
    if (request != 0)
      write_error(self, request, error_code::limit_exceeded, "send: " + t->rollback_only);
    return;
  }
  st.transaction_messages += 1;
  st.transaction_bytes += bytes;
  t->sends.push_back({e.destination(), std::move(in)});
  write_receipt(self, request, 1);
}

void hold_ack(self_ptr self, uint64_t request, protocol::ack_command& ack,
              const session_state::consumer_entry& consumer) {
  auto* t = find_transaction(self, request, ack.transaction_id, ack.reject ? "nack" : "ack");
  if (!t)
    return;
  t->acks.push_back(
      {consumer.queue, consumer.subscription, std::move(ack.delivery_keys), ack.reject});
  write_receipt(self, request, t->acks.back().keys.size());
}

} // namespace actormq::actors
