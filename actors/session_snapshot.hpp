// A session's answer to (snapshot_atom), built from its state (session_snapshot.cpp).
#pragma once

#include "actors/snapshot.hpp"

#include <cstddef>

namespace actormq::actors {

struct session_state;

session_snapshot make_session_snapshot(const session_state& st, size_t mailbox);

} // namespace actormq::actors
