// The fan-out actor: one per send that goes to several destinations at once (a composite
// destination's send, a virtual topic's message for its consumer queues). It hands the message
// to every part and answers the send once every part has it. A persistent message for two or
// more queues is stored once: each queue reserves a sequence, one body with a reference per
// queue is written in one transaction (storage::shared_put_op, as a topic does for its durable
// subscriptions), and each queue gets its key after the commit. Topics and a single queue get an
// ordinary send. The producer audit runs once, on the first queue (or, with no queue, each topic
// applies its own). The actor ends after its answer.
#pragma once

#include "actors/atoms.hpp"
#include "actors/messages.hpp"
#include "actors/queue.hpp"
#include "actors/store_actor.hpp"

#include <caf/typed_actor.hpp>
#include <caf/typed_event_based_actor.hpp>

#include <string>
#include <vector>

namespace actormq::actors {

using fanout_actor =
    caf::typed_actor<caf::replies_to<send_atom, incoming_message>::with<send_result>>;

struct fanout_parts {
  std::vector<queue_actor> queues; // answer reserve_atom and enqueue_atom
  std::vector<queue_actor> topics; // get the message by send_atom
  store_actor store;
  // Stamps the stored body with this origin identity and the first queue's sequence; empty:
  // the message is stamped already (a topic's).
  std::string store_id;
};

fanout_actor::behavior_type fanout_behavior(fanout_actor::pointer self, fanout_parts parts);

} // namespace actormq::actors
