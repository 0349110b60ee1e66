// The shared snapshot request: every actor answers (snapshot_atom) with caf::settings holding
// its kind, name and counters, which the debug tool and the console show.
#pragma once

#include <caf/settings.hpp>

#include <cstdint>
#include <limits>

namespace actormq::actors {

inline void put_count(caf::settings& out, caf::string_view key, uint64_t value) {
  constexpr uint64_t max = static_cast<uint64_t>(std::numeric_limits<int64_t>::max());
  caf::put(out, key, static_cast<int64_t>(value > max ? max : value));
}

} // namespace actormq::actors
