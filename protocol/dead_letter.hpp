// The envelope of a message on its way into a dead-letter queue and back out of it (actormq
// retry, the console). Plain C++ (no CAF).
#pragma once

#include <string>

namespace actormq::protocol {

// ActiveMQ's property names.
inline const std::string dead_letter_cause_property = "dlqDeliveryFailureCause";
inline const std::string original_destination_property = "originalDestination";

// The envelope `payload` becomes in the dead-letter queue `dead_letter_queue` (canonical):
// its destination is the dead-letter queue, originalDestination names where it was (kept if it
// was dead-lettered before), dlqDeliveryFailureCause says why, and it no longer expires. Its
// identity (origin store and sequence, message id, producer) is kept. False if `payload` is not
// an envelope.
bool make_dead_letter(const std::string& payload, const std::string& dead_letter_queue,
                      const std::string& cause, std::string& out);

// The envelope a dead letter gets when it goes back: its destination is its originalDestination
// (set in `target`), and the two dead-letter properties are removed. False if `payload` is not
// an envelope or names no original destination.
bool make_retry(const std::string& payload, std::string& out, std::string& target);

} // namespace actormq::protocol
