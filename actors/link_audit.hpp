// The in-memory audit of a topic for persistent messages that bridges forwarded: a bridge sends
// its marked messages again after every reconnect (and the standby that takes over its store
// does too), and a topic's non-durable subscribers, served from memory, must not get one twice.
// Keyed by the link's producer id ("link:" + the sending store's id), whose link sequences of
// persistent messages are never reused; an exact window of the last `window` sequences below the
// highest seen, as the store's producer audit keeps (storage/backend.hpp, put_op). Plain C++.
#pragma once

#include <cstdint>
#include <map>
#include <set>
#include <string>

namespace actormq::actors {

class link_audit {
public:
  explicit link_audit(uint64_t window = 65536) : window_(window) {}

  // True if (producer, sequence) is new, and remembers it; false for a resend (or a sequence
  // more than the window below the highest seen).
  bool first_time(const std::string& producer_id, uint64_t sequence);

  // Forgets a sequence whose message was not taken after all (its store write failed), so that
  // the resend is taken.
  void forget(const std::string& producer_id, uint64_t sequence);

  size_t producers() const noexcept { return seen_.size(); }

private:
  struct seen_window {
    uint64_t highest = 0;
    std::set<uint64_t> sequences; // within the window below highest
  };
  uint64_t window_;
  std::map<std::string, seen_window> seen_;
};

} // namespace actormq::actors
