// The inspector's snapshot of a node (actors/snapshot.hpp) as the console's JSON: every field
// under its snapshot name, keys sorted, as /api/actors and /api/bridges show them.
#pragma once

#include "actors/console_json.hpp"
#include "actors/snapshot.hpp"

namespace actormq::actors::console_detail {

// One actor's entry: {"actor-id": ..., "kind": ..., fields...}.
json entry_json(const snapshot_fields& fields);
// The whole snapshot: {"acceptor": {...}, "bridges": {"<actor id>": {...}}, "broker": {...},
// "lock_holder": {...}, "node": {...}, "queues": {...}, "sessions": {...}, "store": {...}};
// absent parts and empty groups are left out.
json snapshot_json(const inspector_snapshot& tree);

} // namespace actormq::actors::console_detail
