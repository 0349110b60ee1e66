// Private to storage/: what a shipping master's batch commit adds (replicated_apply.cpp): the
// next replication position written in the part's transaction, and the part handed to the
// shipper after its commit.
#pragma once

#include "storage/store_impl.hpp"

#include <string>
#include <vector>

namespace actormq::storage::detail {

// Writes the position after d.position (epoch d.shipping_epoch) into `txn`; `at` gets it.
// 0 or the LMDB code (`error` says why).
int record_shipped(store::impl& d, MDB_txn* txn, replication_position& at, std::string& error);

// After the commit of [first, last) at `at`: the store's position is `at`, and the part goes to
// the shipper.
void ship_committed(store::impl& d, const std::vector<operation>& batch, size_t first, size_t last,
                    bool puts_fail_full, replication_position at);

} // namespace actormq::storage::detail
