// libFuzzer target: the node configuration loader (config/loader.hpp): the text-format file, the
// command-line overrides and validation. Input: the file's text, then optionally a NUL and the
// overrides, one a line. Must hold, besides no crash and no sanitizer report: a configuration that
// loads is valid, and its dump (the same text format) loads again to the same configuration.
#include "config/loader.hpp"
#include "fuzz/fuzz_check.hpp"

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>
#include <vector>

namespace {

namespace fs = std::filesystem;

// The loader reads a file: one folder per fuzzing process, in TMPDIR (tools/fuzz.sh points it
// into the run's folder: libFuzzer ends a run without running exit handlers).
const fs::path& work_dir() {
  static const fs::path dir = [] {
    std::string pattern = (fs::temp_directory_path() / "actormq-fuzz-config-XXXXXX").string();
    if (!mkdtemp(pattern.data()))
      std::abort();
    return fs::path(pattern);
  }();
  return dir;
}

fs::path write(const char* name, std::string_view text) {
  fs::path file = work_dir() / name;
  std::ofstream out(file, std::ios::binary | std::ios::trunc);
  out.write(text.data(), static_cast<std::streamsize>(text.size()));
  return file;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace actormq::config;
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  const size_t nul = input.find('\0');
  std::vector<std::string> overrides;
  if (nul != std::string_view::npos) {
    std::string_view rest = input.substr(nul + 1);
    while (!rest.empty()) {
      const size_t eol = rest.find('\n');
      overrides.emplace_back(rest.substr(0, eol));
      rest = eol == std::string_view::npos ? std::string_view{} : rest.substr(eol + 1);
    }
  }
  auto config = load(write("node.conf", input.substr(0, nul)), overrides);
  if (!config)
    return 0;
  FUZZ_CHECK(validate(*config));
  const std::string dumped = dump(*config);
  auto again = load(write("dumped.conf", dumped));
  FUZZ_CHECK(again);
  FUZZ_CHECK(dump(*again) == dumped);
  return 0;
}
