// Local transactions of a session (docs/transactions.md). Sends and acks of a transaction are
// written one-way in the epoch it began in: after a failover they are dropped (they would name a
// transaction the new node never saw), and the commit reports the transaction rolled back. The
// commit itself is a request valid in that epoch only, so it is never resent to another node:
// a transaction is never applied twice. A rollback (or a commit that did not apply, or whose
// outcome is unknown) sets each of its producers' sequence back, so that redoing the same sends
// reuses the same (producer id, sequence) pairs and the node's producer audit drops whatever of
// them a commit stored already.
#include "client/session.hpp"

#include <utility>

namespace actormq::client::detail {

uint64_t session::connected_epoch() {
  std::unique_lock<std::mutex> guard(mutex_);
  auto ready = [this] { return connected_ || ended_ || closed_; };
  const auto& o = url_.options;
  if (!failover_ || o.timeout_ms < 0)
    connected_cv_.wait(guard, ready);
  else
    connected_cv_.wait_for(guard, std::chrono::milliseconds(o.timeout_ms), ready);
  return epoch_;
}

void session::begin_transaction_locked(uint64_t epoch) {
  open_transaction t;
  t.id = random_hex(8) + "-" + std::to_string(++transactions_begun_);
  t.epoch = epoch;
  wire::Frame frame;
  frame.mutable_begin_transaction()->set_transaction_id(t.id);
  (void)send_oneway(frame, epoch);
  txn_ = std::move(t);
}

std::pair<std::string, uint64_t>
session::join_transaction(const std::shared_ptr<producer_state>& p) {
  std::lock_guard<std::mutex> guard(txn_mutex_);
  if (!txn_)
    begin_transaction_locked(connected_epoch());
  bool joined = false;
  for (auto& [producer, before] : txn_->producers)
    joined |= producer == p;
  if (!joined) {
    std::lock_guard<std::mutex> g(p->mutex);
    txn_->producers.emplace_back(p, p->sequence);
  }
  return {txn_->id, txn_->epoch};
}

result<void> session::end_transaction(bool commit) {
  if (auto open = check_open(); !open)
    return open;
  std::lock_guard<std::mutex> guard(txn_mutex_);
  uint64_t epoch = 0;
  std::vector<std::shared_ptr<consumer_state>> consumers;
  {
    std::lock_guard<std::mutex> g(mutex_);
    epoch = epoch_;
    for (auto& [id, c] : consumers_)
      if (c->options.transacted)
        consumers.push_back(c);
  }
  // What the transacted consumers handed to the application in this epoch (older keys mean
  // nothing to this node: it redelivers those messages anyway).
  std::vector<std::pair<uint64_t, std::vector<uint64_t>>> acks;
  std::vector<uint64_t> identities;
  for (auto& c : consumers) {
    std::lock_guard<std::mutex> g(c->mutex);
    if (c->epoch != epoch || c->unacked.empty())
      continue;
    std::vector<uint64_t> keys;
    for (auto& [key, identity] : c->unacked) {
      keys.push_back(key);
      identities.push_back(identity);
    }
    c->unacked.clear();
    acks.emplace_back(c->id, std::move(keys));
  }
  if (!txn_ && acks.empty())
    return {};
  if (!txn_)
    begin_transaction_locked(connected_epoch());
  auto t = std::move(*txn_);
  txn_.reset();
  result<wire::Frame> reply =
      make_failure(client_errc::failed_over,
                   "the connection failed over since the transaction began: the node that held "
                   "it is gone");
  if (t.epoch == epoch) {
    for (auto& [consumer, keys] : acks) {
      wire::Frame ack;
      ack.mutable_ack()->set_consumer_id(consumer);
      for (auto key : keys)
        ack.mutable_ack()->add_delivery_keys(key);
      ack.mutable_ack()->set_transaction_id(t.id);
      (void)send_oneway(ack, t.epoch);
    }
    wire::Frame end;
    if (commit)
      end.mutable_commit_transaction()->set_transaction_id(t.id);
    else
      end.mutable_rollback_transaction()->set_transaction_id(t.id);
    reply = request(std::move(end), false, t.epoch);
    if (!reply && reply.code() == client_errc::failed_over)
      reply = make_failure(client_errc::failed_over,
                           "the connection failed over before the answer to the commit came: its "
                           "outcome is unknown (redone with the same sends, it is stored once)");
  }
  if (commit && reply) {
    note_acked(identities);
    for (auto& [p, before] : t.producers) {
      std::lock_guard<std::mutex> g(p->mutex);
      p->receipted += p->sequence - before;
    }
    return {};
  }
  for (auto& [p, before] : t.producers) {
    std::lock_guard<std::mutex> g(p->mutex);
    p->sequence = before;
  }
  if (!commit)
    // A transaction the node no longer holds (failed over) is rolled back already.
    return reply || t.epoch != epoch ? result<void>{} : result<void>{reply.error()};
  return make_failure(client_errc::transaction_rolled_back,
                      "the transaction was rolled back: " + reply.error().message());
}

} // namespace actormq::client::detail
