#include "snapshot.hpp"

#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <system_error>

namespace ternbench::storage {

namespace fs = std::filesystem;

TempDbFile::TempDbFile(const std::string& stem) {
  static std::atomic<int> counter{0};
  const fs::path dir = fs::temp_directory_path();
  std::string name = "ternbench-";
  name.append(std::to_string(getpid())).append("-").append(std::to_string(counter++)).append("-").append(stem);
  path_ = (dir / name).string();
  std::error_code ec;
  for (const char* suffix : {"", "-wal", "-shm", "-journal"}) fs::remove(path_ + suffix, ec);
}

TempDbFile::~TempDbFile() {
  std::error_code ec;
  for (const char* suffix : {"", "-wal", "-shm", "-journal"}) fs::remove(path_ + suffix, ec);
}

}  // namespace ternbench::storage
