#include "actors/incoming.hpp"

namespace actormq::actors {

incoming_message incoming_of(const protocol::envelope& e, std::string encoded) {
  incoming_message in;
  in.persistent = e.persistent();
  in.priority = e.priority();
  in.expiration_ms = e.expiration_ms();
  in.producer_id = e.producer_id();
  in.producer_sequence = e.producer_sequence();
  if (encoded.empty())
    protocol::encode_envelope(e, in.payload);
  else
    in.payload = std::move(encoded);
  return in;
}

incoming_message incoming_forwarded(forwarded_message&& fm, const std::string& peer_store_id) {
  incoming_message in;
  in.payload = std::move(fm.payload);
  in.persistent = fm.persistent;
  in.priority = fm.priority;
  in.expiration_ms = fm.expiration_ms;
  in.producer_id = "link:" + peer_store_id;
  in.producer_sequence = fm.link_sequence;
  in.forwarded = true;
  in.prior_deliveries = fm.prior_deliveries;
  return in;
}

} // namespace actormq::actors
