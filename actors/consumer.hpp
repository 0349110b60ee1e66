// A consumer as a queue sees it: the actor its deliveries go to (a session, or a bridge consuming
// for its peer). It registers with the queue's subscribe; every actor that does takes this
// message in its own interface, so that its handle converts to this one.
#pragma once

#include "actors/atoms.hpp"
#include "actors/messages.hpp"

#include <caf/typed_actor.hpp>

namespace actormq::actors {

using consumer_actor = caf::typed_actor<
    // One message for one of its consumers (delivery::consumer_id), from a queue.
    caf::reacts_to<dispatch_atom, delivery>>;

} // namespace actormq::actors
