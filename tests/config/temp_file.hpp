// A configuration file written to a fresh temporary folder, removed with the object.
#pragma once

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <string>

namespace actormq::config::test {

class temp_conf {
public:
  explicit temp_conf(const std::string& text, const std::string& name = "node.conf") {
    std::string tmpl = (std::filesystem::temp_directory_path() / "actormq-config-XXXXXX").string();
    if (::mkdtemp(tmpl.data()) == nullptr)
      throw std::runtime_error("mkdtemp failed");
    dir_ = tmpl;
    path_ = dir_ / name;
    std::ofstream(path_) << text;
  }
  ~temp_conf() {
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
  temp_conf(const temp_conf&) = delete;
  temp_conf& operator=(const temp_conf&) = delete;

  const std::filesystem::path& path() const { return path_; }
  const std::filesystem::path& dir() const { return dir_; }

private:
  std::filesystem::path dir_;
  std::filesystem::path path_;
};

// The smallest valid file.
inline const char* minimal_conf = "name: \"t\"\ndata_dir: \"data\"\n";

} // namespace actormq::config::test
