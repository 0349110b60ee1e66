// The console's memory of each destination's counters over the last minutes: a sample of
// enqueued, dequeued and pending every interval, the newest `samples` kept per destination, for
// at most `max_destinations` destinations (the first by name). The console's charts draw rates
// from the differences between samples. Plain C++, safe to use from several threads.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <map>
#include <mutex>
#include <string>
#include <vector>

namespace actormq::actors {

struct history_sample {
  int64_t time_ms = 0; // wall clock, milliseconds since the epoch
  uint64_t enqueued = 0;
  uint64_t dequeued = 0;
  uint64_t pending = 0;
};

class destination_history {
public:
  destination_history(size_t samples, size_t max_destinations);

  // One sample of every destination listed (by name); a destination not listed has gone and
  // its samples are dropped.
  void record(const std::map<std::string, history_sample>& now);

  // The samples of a destination, oldest first (empty if unknown).
  std::vector<history_sample> series(const std::string& name) const;

  size_t samples() const noexcept { return samples_; }

private:
  const size_t samples_;
  const size_t max_destinations_;
  mutable std::mutex mutex_;
  std::map<std::string, std::deque<history_sample>> series_;
};

} // namespace actormq::actors
