#pragma once
// A fresh folder for one test's files, removed with everything in it when the test ends; shared
// by the study tests that write databases and space files.
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>

namespace hpsearch {

class TempDir {
 public:
  TempDir()
      : path_(std::filesystem::temp_directory_path() / ("hpsearch_test_" + std::to_string(::getpid()) + "_" + std::to_string(counter_++))) {
    std::filesystem::create_directories(path_);
  }
  ~TempDir() { std::filesystem::remove_all(path_); }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  std::string file(const std::string& name) const { return (path_ / name).string(); }
  // Writes `document` as the space file `name`; returns its path.
  std::string space(const std::string& name, const nlohmann::json& document) const {
    std::ofstream(file(name)) << document.dump(2);
    return file(name);
  }

 private:
  static inline int counter_ = 0;
  std::filesystem::path path_;
};

}  // namespace hpsearch
