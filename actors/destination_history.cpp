#include "actors/destination_history.hpp"

namespace actormq::actors {

destination_history::destination_history(size_t samples, size_t max_destinations)
    : samples_(samples == 0 ? 1 : samples), max_destinations_(max_destinations) {}

void destination_history::record(const std::map<std::string, history_sample>& now) {
  std::lock_guard<std::mutex> lock(mutex_);
  for (auto i = series_.begin(); i != series_.end();)
    i = now.count(i->first) ? std::next(i) : series_.erase(i);
  size_t kept = 0;
  for (const auto& [name, sample] : now) {
    if (kept++ >= max_destinations_) {
      series_.erase(name);
      continue;
    }
    auto& s = series_[name];
    s.push_back(sample);
    while (s.size() > samples_)
      s.pop_front();
  }
}

std::vector<history_sample> destination_history::series(const std::string& name) const {
  std::lock_guard<std::mutex> lock(mutex_);
  auto i = series_.find(name);
  if (i == series_.end())
    return {};
  return {i->second.begin(), i->second.end()};
}

} // namespace actormq::actors
