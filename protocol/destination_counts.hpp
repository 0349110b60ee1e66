// Counters of one destination, as the node keeps them (actors/messages.hpp names them
// destination_stats) and as a client's stats request is answered (session_commands.hpp). Plain
// C++: no CAF, no Protobuf.
#pragma once

#include <cstdint>
#include <string>

namespace actormq::protocol {

struct destination_counts {
  std::string name;
  uint64_t pending = 0;
  uint64_t consumers = 0;
  uint64_t enqueued = 0;
  uint64_t dequeued = 0;
  uint64_t in_flight = 0;
  uint64_t duplicates_dropped = 0;
  uint64_t memory_bytes = 0;
  bool flow_controlled = false;
  uint64_t expired = 0;       // time to live ran out (moved to a dead-letter queue or dropped)
  uint64_t dead_lettered = 0; // moved to a dead-letter queue (expired or over the limit)
  uint64_t dropped = 0;       // non-persistent dead letters dropped (processNonPersistent)
  uint64_t discarded = 0;     // topics: dropped for slow subscribers (limits.slow_topic_subscriber)
  // Why producers are held while flow_controlled: "memory limit N bytes" or "store full".
  std::string flow_reason{};
};

} // namespace actormq::protocol
