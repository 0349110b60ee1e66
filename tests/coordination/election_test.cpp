// The election's decisions (coordination/election.hpp): what a replica's znode holds, and which
// registered replica is the candidate.
#include "coordination/election.hpp"
#include "coordination/zk_client.hpp"

#include <catch2/catch.hpp>

using namespace actormq;
using namespace actormq::coordination;

namespace {

zk_child replica(uint64_t znode_sequence, const std::string& name, uint64_t epoch,
                 uint64_t sequence) {
  char znode[32];
  std::snprintf(znode, sizeof znode, "replica-%010llu",
                static_cast<unsigned long long>(znode_sequence));
  return {znode, encode_replica({name, {epoch, sequence}})};
}

} // namespace

TEST_CASE("a replica's znode data round-trips, and damaged data does not decode") {
  auto r = decode_replica(encode_replica({"r2", {7, 12345}}));
  REQUIRE(r);
  CHECK(r->node_name == "r2");
  CHECK(r->position == storage::replication_position{7, 12345});
  CHECK_FALSE(decode_replica(""));
  CHECK_FALSE(decode_replica("r2"));
  CHECK_FALSE(decode_replica("\n1 2"));
  CHECK_FALSE(decode_replica("r2\n1"));
  CHECK_FALSE(decode_replica("r2\n1 x"));
  CHECK_FALSE(decode_replica("r2\n-1 2"));
  CHECK_FALSE(decode_replica("r2\n1 2 3"));
}

TEST_CASE("the election waits for a quorum of the group") {
  CHECK(quorum_of(1) == 1);
  CHECK(quorum_of(2) == 2);
  CHECK(quorum_of(3) == 2);
  CHECK(quorum_of(4) == 3);
  CHECK(quorum_of(5) == 3);
  auto one = decide({replica(1, "r1", 1, 10)}, 3);
  CHECK(one.registered == 1);
  CHECK_FALSE(one.has_quorum);
  CHECK(one.candidate.empty());
  // Children that do not decode are not counted.
  auto damaged = decide({replica(1, "r1", 1, 10),
                         {"replica-0000000002", "garbage"},
                         {"other", encode_replica({"r3", {1, 1}})}},
                        3);
  CHECK(damaged.registered == 1);
  CHECK_FALSE(damaged.has_quorum);
  CHECK(decide({replica(1, "r1", 0, 0)}, 1).has_quorum);
}

TEST_CASE("the candidate is the replica with the newest data, then the oldest registration") {
  SECTION("the higher sequence in the same epoch") {
    auto out =
        decide({replica(4, "r1", 2, 10), replica(5, "r2", 2, 12), replica(6, "r3", 2, 11)}, 3);
    CHECK(out.has_quorum);
    CHECK(out.candidate == "replica-0000000005");
    CHECK(out.candidate_record.node_name == "r2");
  }
  SECTION("a newer epoch wins over a higher sequence of an older one") {
    auto out = decide({replica(4, "r1", 1, 50), replica(9, "r2", 2, 12)}, 3);
    CHECK(out.candidate_record.node_name == "r2");
  }
  SECTION("equal positions: the lowest znode sequence, in any order") {
    auto out =
        decide({replica(12, "r3", 2, 12), replica(3, "r1", 2, 12), replica(7, "r2", 2, 12)}, 3);
    CHECK(out.candidate == "replica-0000000003");
    CHECK(out.registered == 3);
  }
}
