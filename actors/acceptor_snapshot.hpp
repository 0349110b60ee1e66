// The acceptor's answer to (snapshot_atom), built from its state (acceptor_snapshot.cpp).
#pragma once

#include "actors/snapshot.hpp"

#include <cstddef>

namespace actormq::actors {

struct acceptor_state;

acceptor_snapshot make_acceptor_snapshot(const acceptor_state& st, size_t mailbox);

} // namespace actormq::actors
