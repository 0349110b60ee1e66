// The election's decisions (election.hpp).
#include "coordination/election.hpp"

#include "coordination/zk_client.hpp"

#include <charconv>

namespace actormq::coordination {
namespace {

bool parse_u64(std::string_view text, uint64_t& out) {
  if (text.empty())
    return false;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  return ec == std::errc() && end == text.data() + text.size();
}

// The sequence number ZooKeeper appended to "replica-".
std::optional<uint64_t> znode_sequence(std::string_view name) {
  constexpr std::string_view prefix = "replica-";
  uint64_t n = 0;
  if (name.substr(0, prefix.size()) != prefix || !parse_u64(name.substr(prefix.size()), n))
    return std::nullopt;
  return n;
}

} // namespace

std::string encode_replica(const replica_record& r) {
  return r.node_name + "\n" + std::to_string(r.position.epoch) + " " +
         std::to_string(r.position.sequence);
}

std::optional<replica_record> decode_replica(std::string_view data) {
  auto newline = data.find('\n');
  if (newline == std::string_view::npos || newline == 0)
    return std::nullopt;
  auto numbers = data.substr(newline + 1);
  auto space = numbers.find(' ');
  replica_record r;
  r.node_name = std::string(data.substr(0, newline));
  if (space == std::string_view::npos || !parse_u64(numbers.substr(0, space), r.position.epoch) ||
      !parse_u64(numbers.substr(space + 1), r.position.sequence))
    return std::nullopt;
  return r;
}

election_outcome decide(const std::vector<zk_child>& replicas, uint32_t group_size) {
  election_outcome out;
  uint64_t best_sequence = 0;
  for (auto& child : replicas) {
    auto sequence = znode_sequence(child.name);
    auto record = decode_replica(child.data);
    if (!sequence || !record)
      continue;
    ++out.registered;
    bool better = out.candidate.empty() ||
                  storage::newer(record->position, out.candidate_record.position) ||
                  (record->position == out.candidate_record.position && *sequence < best_sequence);
    if (better) {
      out.candidate = child.name;
      out.candidate_record = std::move(*record);
      best_sequence = *sequence;
    }
  }
  out.has_quorum = out.registered >= quorum_of(group_size);
  if (!out.has_quorum) {
    out.candidate.clear();
    out.candidate_record = {};
  }
  return out;
}

} // namespace actormq::coordination
