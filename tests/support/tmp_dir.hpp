#pragma once
// A fresh directory under the system temp dir, removed with its contents on destruction.
#include <filesystem>
#include <random>
#include <string>

namespace ternbench::testing {

class TmpDir {
 public:
  TmpDir() {
    std::random_device rd;
    path_ = std::filesystem::temp_directory_path() /
            ("ternbench-test-" + std::to_string(rd()) + std::to_string(rd()));
    std::filesystem::create_directories(path_);
  }
  ~TmpDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  TmpDir(const TmpDir&) = delete;
  TmpDir& operator=(const TmpDir&) = delete;
  const std::filesystem::path& path() const { return path_; }
  std::string file(const std::string& name) const { return (path_ / name).string(); }

 private:
  std::filesystem::path path_;
};

}  // namespace ternbench::testing
