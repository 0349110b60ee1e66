// The one place an incoming_message (actors/messages.hpp) is made: from a producer's envelope
// (sessions of every protocol, the console) or from a message a bridge forwarded.
#pragma once

#include "actors/messages.hpp"
#include "protocol/envelope.hpp"

#include <string>

namespace actormq::actors {

// A producer's message: its envelope's encoding is the payload. `encoded`, if not empty, is that
// encoding already (a codec's bytes, protocol::send_command); else `e` is encoded here.
incoming_message incoming_of(const protocol::envelope& e, std::string encoded = {});

// The message group of an envelope: JMSXGroupID (a string property; empty if none) and
// JMSXGroupSeq (an int property, or the string "-1"); left as they are without a group id.
void group_of(const protocol::envelope& e, std::string& group_id, int32_t& group_sequence);

// A message the bridge from the node with store `peer_store_id` forwarded: its link sequence is
// its producer sequence, so the audit recognises a message sent again after a reconnect.
incoming_message incoming_forwarded(forwarded_message&& fm, const std::string& peer_store_id);

} // namespace actormq::actors
