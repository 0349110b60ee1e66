// How much a node's store grew during a run (actormq-bench --durable --storeGrowth): the
// node's /metrics (the console) is read before the first send and after the last, once the
// store has settled (no operation waiting, the journal checkpointed into the map). The figure
// is actormq_store_used_bytes, the LMDB map's high-water mark: on a fresh data folder it grows
// by what the run stored; pages freed by earlier runs are reused first and hide growth.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

namespace actormq::bench {

// The value of an unlabelled metric in the Prometheus text at `url` (http://host:port/path);
// nothing, with `why`, if the page cannot be read or lacks it.
std::optional<double> read_metric(const std::string& url, const std::string& metric,
                                  std::string& why);

// actormq_store_used_bytes once the store has settled: no waiting operation, and the same
// value on two reads `quiet_ms` apart (the journal's checkpoint lands in between), within
// `timeout_ms`.
std::optional<uint64_t> settled_store_used_bytes(const std::string& url, std::string& why,
                                                 int quiet_ms = 1500, int timeout_ms = 60000);

} // namespace actormq::bench
