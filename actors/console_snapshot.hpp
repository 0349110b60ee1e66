// Reading the inspector's snapshot of a node (a caf::settings tree) for the console's answers:
// values with defaults for what a snapshot lacks, and the tree itself as JSON.
#pragma once

#include "actors/console_json.hpp"

#include <caf/settings.hpp>
#include <caf/string_view.hpp>

#include <cstdint>
#include <string>

namespace actormq::actors::console_detail {

// 0, 0.0 or "" when the key is missing; get_real also takes an integer.
int64_t get_int(const caf::settings& s, caf::string_view key);
double get_real(const caf::settings& s, caf::string_view key);
std::string get_str(const caf::settings& s, caf::string_view key);
// The sub-tree at `key`, or nullptr.
const caf::settings* get_dict(const caf::settings& s, caf::string_view key);

// The tree (or one value of it) as JSON, keys in the tree's order.
json settings_json(const caf::settings& s);
json value_json(const caf::config_value& v);

} // namespace actormq::actors::console_detail
