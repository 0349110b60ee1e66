// The scheduler actor: holds messages for scheduled delivery (docs/scheduled.md). A message
// with AMQ_SCHEDULED_* properties comes here from the session instead of its destination; it
// is stored ("scheduled" in the store, every one, persistent or not, as ActiveMQ's job store
// keeps them) before the producer's receipt, and waits with no work done: one timer runs for
// the earliest due time. When due, it is sent to its destination like a producer's message,
// under the producer id "scheduler:<id>" and its delivery number as the sequence, so that the
// producer audit drops a delivery made again after a crash; then the store learns its next
// time or loses it. One per node, on the master only; it loads what the store holds when it
// starts, so scheduled messages survive kill -9 and a failover to the slave.
#pragma once

#include "actors/atoms.hpp"
#include "actors/broker.hpp"
#include "actors/destination_resolver.hpp"
#include "actors/store_actor.hpp"
#include "storage/backend.hpp"

#include <caf/typed_actor.hpp>
#include <caf/typed_event_based_actor.hpp>

#include <cstdint>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

namespace actormq::actors {

// A producer's message to schedule: the envelope's bytes and its destination.
struct schedule_message {
  std::string destination; // as the producer named it
  std::string payload;     // the encoded envelope, with its AMQ_SCHEDULED_* properties
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, schedule_message& x) {
  return f(caf::meta::type_name("schedule_message"), x.destination, x.payload);
}

// One scheduled message as the console lists it.
struct scheduled_info {
  uint64_t id = 0;
  std::string destination;
  int64_t next_ms = 0;
  int64_t period_ms = 0;
  int32_t repeats_left = 0; // -1: no end
  std::string cron;
  uint32_t delivered = 0;
  uint64_t size = 0;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, scheduled_info& x) {
  return f(caf::meta::type_name("scheduled_info"), x.id, x.destination, x.next_ms, x.period_ms,
           x.repeats_left, x.cron, x.delivered, x.size);
}

using scheduled_list = std::vector<scheduled_info>;

using scheduler_actor = caf::typed_actor<
    // Stores a message to deliver later; answers its id once stored, 0 for a resend the
    // producer audit recognised (an error for a bad AMQ_SCHEDULED_* value or destination).
    caf::replies_to<schedule_atom, schedule_message>::with<uint64_t>,
    // The timer of this generation ran out (sent to itself).
    caf::reacts_to<due_atom, uint64_t>,
    // What is scheduled, the earliest first.
    caf::replies_to<list_atom>::with<scheduled_list>,
    // Removes a scheduled message; answers false if there is none of that id.
    caf::replies_to<cancel_atom, uint64_t>::with<bool>>;

struct scheduler_state {
  static inline const char* name = "scheduler";

  explicit scheduler_state(caf::local_actor*) {}

  std::shared_ptr<storage::backend> db;
  store_actor store;
  broker_actor broker;
  destination_resolver resolver;
  std::map<uint64_t, storage::scheduled_entry> entries; // by id
  std::set<std::pair<int64_t, uint64_t>> due;           // (next_ms, id)
  std::set<uint64_t> firing;                            // sent, not yet answered
  uint64_t last_id = 0;
  uint64_t timer_generation = 0;
  int64_t timer_due_ms = -1; // the due time the running timer is for; -1: none
  uint64_t delivered = 0;    // deliveries since the start
};

scheduler_actor::behavior_type
scheduler_behavior(scheduler_actor::stateful_pointer<scheduler_state> self,
                   std::shared_ptr<storage::backend> db, store_actor store, broker_actor broker);

} // namespace actormq::actors
