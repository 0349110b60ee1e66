#include "actors/fanout.hpp"

#include "actors/errors.hpp"
#include "protocol/origin_stamp.hpp"

#include <caf/event_based_actor.hpp>

#include <memory>

namespace actormq::actors {

namespace {

using self_ptr = fanout_actor::pointer;

// The answers of every part, joined into one.
struct joined_answer {
  caf::typed_response_promise<send_result> promise;
  size_t waiting = 0;
  caf::error error;
  bool duplicate = false;
  self_ptr self = nullptr;

  void part_done(const caf::error& err, bool part_duplicate) {
    if (err && !error)
      error = err;
    duplicate = duplicate || part_duplicate;
    if (--waiting > 0)
      return;
    if (error)
      promise.deliver(error);
    else
      promise.deliver(send_result{duplicate});
    self->quit();
  }
};

using join_ptr = std::shared_ptr<joined_answer>;

void send_to(self_ptr self, const queue_actor& target, const incoming_message& m, join_ptr join) {
  self->request(target, caf::infinite, send_atom::value, m)
      .then([join](send_result& r) { join->part_done(caf::error{}, r.duplicate); },
            [join](caf::error& err) { join->part_done(err, false); });
}

// Every queue has reserved a sequence: one body, a reference per queue, one commit.
void store_once(self_ptr self, const fanout_parts& parts, incoming_message m,
                std::shared_ptr<std::vector<std::pair<uint32_t, uint64_t>>> keys, join_ptr join) {
  if (!parts.store_id.empty())
    protocol::origin_stamp(m.payload, parts.store_id, keys->front().second);
  storage::shared_put_op put;
  for (auto& [id, sequence] : *keys) {
    storage::shared_put_target t;
    t.destination_id = id;
    t.entry.sequence = sequence;
    t.entry.priority = m.priority;
    t.entry.expiration_ms = m.expiration_ms;
    put.targets.push_back(t);
  }
  put.audit_destination_id = keys->front().first;
  put.payload = m.payload;
  put.producer_id = m.producer_id;
  put.producer_sequence = m.producer_sequence;
  op_list ops;
  ops.emplace_back(std::move(put));
  self->request(parts.store, caf::infinite, write_atom::value, std::move(ops))
      .then(
          [self, queues = parts.queues, keys, m, join](op_result_list& results) {
            auto& r = results.front();
            if (r.error) {
              join->part_done(from_store_error(r.error, "store a composite send"), false);
              return;
            }
            if (!r.duplicate)
              for (size_t i = 0; i < queues.size(); ++i)
                self->send(queues[i], enqueue_atom::value, (*keys)[i].second, m);
            join->part_done(caf::error{}, r.duplicate);
          },
          [join](caf::error& err) { join->part_done(err, false); });
}

void reserve_and_store(self_ptr self, const fanout_parts& parts, const incoming_message& m,
                       join_ptr join) {
  auto keys = std::make_shared<std::vector<std::pair<uint32_t, uint64_t>>>(parts.queues.size());
  auto remaining = std::make_shared<size_t>(parts.queues.size());
  auto failed = std::make_shared<caf::error>();
  for (size_t i = 0; i < parts.queues.size(); ++i) {
    auto one_done = [self, parts, m, keys, remaining, failed, join] {
      if (--*remaining > 0)
        return;
      if (*failed)
        join->part_done(*failed, false);
      else
        store_once(self, parts, m, keys, join);
    };
    self->request(parts.queues[i], std::chrono::seconds(30), reserve_atom::value)
        .then(
            [keys, i, one_done](uint32_t id, uint64_t sequence) {
              (*keys)[i] = {id, sequence};
              one_done();
            },
            [failed, one_done](caf::error& err) {
              if (!*failed)
                *failed = err;
              one_done();
            });
  }
}

} // namespace

fanout_actor::behavior_type fanout_behavior(self_ptr self, fanout_parts parts) {
  self->set_default_handler(drop_unexpected);
  return {
      [self, parts](send_atom, incoming_message& m) -> caf::result<send_result> {
        bool store_once = m.persistent && parts.queues.size() > 1;
        auto join = std::make_shared<joined_answer>();
        join->promise = self->make_response_promise<send_result>();
        join->self = self;
        join->waiting = parts.topics.size() + (store_once ? 1 : parts.queues.size());
        if (join->waiting == 0) {
          self->quit();
          return send_result{false};
        }
        auto promise = join->promise;
        for (auto& t : parts.topics)
          send_to(self, t, m, join);
        if (store_once)
          reserve_and_store(self, parts, m, join);
        else
          for (auto& q : parts.queues)
            send_to(self, q, m, join);
        return promise;
      },
  };
}

} // namespace actormq::actors
