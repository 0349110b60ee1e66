#include "actors/slow_subscriber_policy.hpp"

namespace actormq::actors {

std::optional<slow_subscriber_policy> parse_slow_subscriber_policy(std::string_view text) {
  if (text == "block")
    return slow_subscriber_policy::block;
  if (text == "drop_oldest")
    return slow_subscriber_policy::drop_oldest;
  return std::nullopt;
}

const char* to_string(slow_subscriber_policy policy) {
  return policy == slow_subscriber_policy::drop_oldest ? "drop_oldest" : "block";
}

bool holds_publishers(slow_subscriber_policy policy, uint64_t pending, uint64_t limit) {
  return policy == slow_subscriber_policy::block && pending > limit;
}

uint64_t messages_to_drop(slow_subscriber_policy policy, uint64_t pending, uint64_t limit) {
  if (policy != slow_subscriber_policy::drop_oldest || pending <= limit)
    return 0;
  return pending - limit;
}

} // namespace actormq::actors
