// Loads a node's configuration: defaults, then the file (Protobuf text format, strict), then
// command-line overrides; validates ranges; resolves relative paths. Plain C++ (no CAF).
#pragma once

#include "common/result.hpp"
#include "config/node.pb.h"

#include <filesystem>
#include <string>
#include <vector>

namespace actormq::config {

enum class config_errc {
  ok = 0,
  unreadable = 1,   // the file cannot be read
  syntax = 2,       // parse error, unknown key or type error: "FILE:LINE:COL: what"
  out_of_range = 3, // a value outside its documented range: names the key and the range
  missing = 4,      // a required key (name, data_dir) is not set
  bad_override = 5, // a command-line override that does not parse
};
const std::error_category& config_category();
std::error_code make_error_code(config_errc e);

// The configuration with every default filled in (no file).
NodeConfig defaults();

// Loads FILE, applies overrides ("key.path=value", e.g. "client.port=61700" or
// "store.max_size_mb=64"; repeated fields take one value per override and append), fills
// defaults for what is unset, validates, and makes data_dir and logging.file absolute against
// the file's folder. Errors name the file, line, column or key.
result<NodeConfig> load(const std::filesystem::path& file,
                        const std::vector<std::string>& overrides = {});

// Validates a complete configuration (ranges, required keys). Errors: out_of_range, missing.
result<void> validate(const NodeConfig& config);

// The configuration in the same text format the loader reads.
std::string dump(const NodeConfig& config);

} // namespace actormq::config

namespace std {
template <> struct is_error_code_enum<actormq::config::config_errc> : true_type {};
} // namespace std
