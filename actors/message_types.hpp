// The message types that cross a CAF connection between processes (node to node, and
// actormq-debug to a node), announced in one place for every program that links the actors.
#pragma once

#include <caf/fwd.hpp>

namespace actormq::actors {

void register_message_types(caf::actor_system_config& cfg);

} // namespace actormq::actors
