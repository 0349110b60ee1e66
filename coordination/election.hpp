// The election of a replicated group's master (docs/replication.md), as plain decisions on what
// ZooKeeper holds: every replica registers an ephemeral sequential znode under
// <zk_path>/replicas holding its name and replication position; once a quorum has registered,
// the one with the newest data (then the oldest registration) is the candidate, and the candidate
// becomes master by creating the ephemeral znode <zk_path>/master, which only one session can
// hold. The ZooKeeper transaction id that created it is the master's epoch.
#pragma once

#include "storage/replication.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace actormq::coordination {

struct zk_child;

// What a replica's znode holds: "<node name>\n<epoch> <sequence>".
struct replica_record {
  std::string node_name;
  storage::replication_position position;
};
std::string encode_replica(const replica_record& r);
std::optional<replica_record> decode_replica(std::string_view data);

// How many registered replicas make a quorum of a group of `replicas`.
constexpr uint32_t quorum_of(uint32_t replicas) {
  return replicas / 2 + 1;
}

struct election_outcome {
  size_t registered = 0;   // replicas whose znode decodes
  bool has_quorum = false; // registered >= quorum_of(group size)
  std::string candidate;   // the znode name of the replica to be master (if has_quorum)
  replica_record candidate_record;
};

// The candidate among `replicas` (children of <zk_path>/replicas, named "replica-NNNNNNNNNN"):
// the newest position (storage::newer), then the lowest sequence number. Children that do not
// decode are not counted.
election_outcome decide(const std::vector<zk_child>& replicas, uint32_t group_size);

// Paths of a group.
inline std::string replicas_path(const std::string& zk_path) {
  return zk_path + "/replicas";
}
inline std::string replica_prefix(const std::string& zk_path) {
  return zk_path + "/replicas/replica-";
}
inline std::string master_path(const std::string& zk_path) {
  return zk_path + "/master";
}

} // namespace actormq::coordination
