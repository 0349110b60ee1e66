#include "actors/incoming.hpp"

namespace actormq::actors {

incoming_message incoming_of(const protocol::envelope& e, std::string encoded) {
  incoming_message in;
  in.persistent = e.persistent();
  in.priority = e.priority();
  in.expiration_ms = e.expiration_ms();
  in.producer_id = e.producer_id();
  in.producer_sequence = e.producer_sequence();
  group_of(e, in.group_id, in.group_sequence);
  if (encoded.empty())
    protocol::encode_envelope(e, in.payload);
  else
    in.payload = std::move(encoded);
  return in;
}

void group_of(const protocol::envelope& e, std::string& group_id, int32_t& group_sequence) {
  auto id = e.properties().find("JMSXGroupID");
  if (id == e.properties().end() || id->second.empty())
    return;
  group_id = id->second;
  // An int property as JMS has it, or a string one (STOMP's properties are all strings).
  auto typed = e.typed_properties().find("JMSXGroupSeq");
  if (typed != e.typed_properties().end()) {
    if (typed->second.value_case() == actormq::store::PropertyValue::kIntValue)
      group_sequence = typed->second.int_value();
    else if (typed->second.value_case() == actormq::store::PropertyValue::kLongValue)
      group_sequence = static_cast<int32_t>(typed->second.long_value());
    return;
  }
  auto text = e.properties().find("JMSXGroupSeq");
  if (text != e.properties().end() && text->second == "-1")
    group_sequence = -1;
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
