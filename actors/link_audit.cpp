#include "actors/link_audit.hpp"

namespace actormq::actors {

bool link_audit::first_time(const std::string& producer_id, uint64_t sequence) {
  auto& w = seen_[producer_id];
  if (w.highest > window_ && sequence <= w.highest - window_)
    return false;
  if (!w.sequences.insert(sequence).second)
    return false;
  if (sequence > w.highest) {
    w.highest = sequence;
    if (w.highest > window_)
      w.sequences.erase(w.sequences.begin(), w.sequences.upper_bound(w.highest - window_));
  }
  return true;
}

void link_audit::forget(const std::string& producer_id, uint64_t sequence) {
  auto i = seen_.find(producer_id);
  if (i != seen_.end())
    i->second.sequences.erase(sequence);
}

} // namespace actormq::actors
