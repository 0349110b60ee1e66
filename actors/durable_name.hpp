// The store name of a durable subscription: "durable://" + client id + ":" + subscription name
// + "@" + the topic's URI ("durable://app1:s1@topic://prices"), with '%', ':' and '@' in the
// client id and subscription name written as %25, %3A and %40, so that any client id and name
// make one name and can be read back. A subscription with a selector has it as a third part,
// every byte but letters, digits, '.', '_' and '-' written as %XX
// ("durable://app1:s1:color%20%3D%20%27red%27@topic://prices"): the selector is kept with the
// subscription and found again at start. The store
// keeps a subscription as a destination of this name (its messages are references to bodies
// stored once for every subscription); no destination URI starts so, so bridges, patterns and
// clients never take it for a queue. Plain C++ (no CAF).
#pragma once

#include <cstddef>
#include <optional>
#include <string>

namespace actormq::actors {

struct durable_name {
  std::string client_id;
  std::string subscription_name;
  std::string topic;         // "topic://prices"
  std::string selector = {}; // empty: none
};

inline constexpr const char* durable_scheme = "durable://";

// The longest store name: the store keeps destination names as LMDB keys (511 bytes at most
// with LMDB's default build).
inline constexpr size_t max_durable_store_name_bytes = 511;

std::string durable_store_name(const durable_name& d);

// Nothing if `store_name` is not a durable subscription's.
std::optional<durable_name> parse_durable_store_name(const std::string& store_name);

// Network subscriptions: a bridge keeps one on a topic for each peer with demand for it, as a
// durable subscription of the reserved client id "network" named "PEER_STORE_ID/TOPIC_NAME"
// ("durable://network:0c1f.../prices@topic://prices"). Connections may not use that client id.
inline constexpr const char* network_client_id = "network";

// The subscription name of the network subscription on `topic` ("topic://prices") for the link
// to the peer with store `link_id`.
std::string network_subscription_name(const std::string& link_id, const std::string& topic);

// Whether `d` is a network subscription; with a link id, one of that link.
bool is_network_subscription(const durable_name& d, const std::string& link_id = {});

} // namespace actormq::actors
