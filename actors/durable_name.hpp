// The store name of a durable subscription: "durable://" + client id + ":" + subscription name
// + "@" + the topic's URI ("durable://app1:s1@topic://prices"), with '%', ':' and '@' in the
// client id and subscription name written as %25, %3A and %40, so that any client id and name
// make one name and can be read back. The store
// keeps a subscription as a destination of this name (its messages are references to bodies
// stored once for every subscription); no destination URI starts so, so bridges, patterns and
// clients never take it for a queue. Plain C++ (no CAF).
#pragma once

#include <optional>
#include <string>

namespace actormq::actors {

struct durable_name {
  std::string client_id;
  std::string subscription_name;
  std::string topic; // "topic://prices"
};

inline constexpr const char* durable_scheme = "durable://";

std::string durable_store_name(const durable_name& d);

// Nothing if `store_name` is not a durable subscription's.
std::optional<durable_name> parse_durable_store_name(const std::string& store_name);

} // namespace actormq::actors
