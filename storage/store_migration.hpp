// Private to storage/: rewriting a store of an older schema in the current layout, inside the
// write transaction that opens it (store_open.cpp), so that a crash leaves the old store whole.
#pragma once

#include "storage/store_impl.hpp"

#include <lmdb.h>

#include <cstdint>
#include <string>

namespace actormq::storage::detail {

// Schema 1 -> 2 in `txn`: every message's body moves from "bodies" (keyed by the message key)
// to "message_bodies" under a new body id with one reference, the index entry gains the body
// id, "bodies" is dropped, and meta's last body id and schema are written. Every other record
// keeps its format. The databases of `e` must be open in `txn`. 0 or the LMDB code that failed
// (`error` names it); nothing is committed here.
int migrate_schema1(const environment& e, MDB_txn* txn, uint64_t& last_body_id, std::string& error);

} // namespace actormq::storage::detail
