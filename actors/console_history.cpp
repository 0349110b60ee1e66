// The console's sampler: every limits.console_history_interval_ms it asks the broker for every
// destination's counters (on a thread of its own, as the HTTP threads do) and keeps them in
// destination_history; /api/queues/NAME/history answers them for the charts.
#include "actors/console_impl.hpp"
#include "actors/console_json.hpp"
#include "protocol/destination.hpp"

#include <spdlog/spdlog.h>

#include <map>

namespace actormq::actors {

using namespace console_detail;

namespace {

int64_t wall_clock_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

} // namespace

void console::impl::start_sampling() {
  sampler = std::thread([this] {
    std::unique_lock<std::mutex> lock(sampler_mutex);
    bool warned = false;
    while (!sampler_stopping) {
      lock.unlock();
      std::string why;
      if (auto list = stats(why)) {
        std::map<std::string, history_sample> now;
        const auto t = wall_clock_ms();
        for (const auto& s : *list)
          now[s.name] = history_sample{t, s.enqueued, s.dequeued, s.pending};
        history.record(now);
        warned = false;
      } else if (!warned) {
        spdlog::warn("console: no sample of the destinations' counters for the charts: {}", why);
        warned = true;
      }
      lock.lock();
      sampler_wake.wait_for(lock, history_interval, [this] { return sampler_stopping; });
    }
  });
}

void console::impl::stop_sampling() {
  {
    std::lock_guard<std::mutex> lock(sampler_mutex);
    sampler_stopping = true;
  }
  sampler_wake.notify_all();
  if (sampler.joinable())
    sampler.join();
}

void console::impl::history_of(const std::string& raw, httplib::Response& res) {
  // A durable subscription's name (durable://...) is no destination URI: taken as it is.
  std::string name = raw;
  if (raw.rfind("durable://", 0) != 0) {
    auto canonical = protocol::canonical_destination(raw);
    if (!canonical)
      return set_error(res, 400, canonical.message());
    name = *canonical;
  }
  json samples = json::array();
  for (const auto& s : history.series(name))
    samples.push_back({{"t", s.time_ms},
                       {"enqueued", s.enqueued},
                       {"dequeued", s.dequeued},
                       {"pending", s.pending}});
  json w = json::object();
  w["destination"] = name;
  w["interval_ms"] = history_interval.count();
  w["samples"] = std::move(samples);
  set_json(res, 200, console_text(w));
}

} // namespace actormq::actors
