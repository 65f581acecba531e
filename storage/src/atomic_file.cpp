#include "ternbench/storage/atomic_file.hpp"

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <system_error>

#include "ternbench/base/error.hpp"

namespace ternbench::storage {

void write_file_atomically(const std::string& path, std::string_view content) {
  namespace fs = std::filesystem;
  std::error_code ec;
  if (const fs::path dir = fs::path(path).parent_path(); !dir.empty()) {
    fs::create_directories(dir, ec);
    if (ec) throw StorageError(path + ": cannot create directory " + dir.string() + ": " + ec.message());
  }
  std::string tmp = path;
  tmp.append(".tmp.").append(std::to_string(getpid()));
  {
    std::ofstream f(tmp, std::ios::binary | std::ios::trunc);
    f.write(content.data(), static_cast<std::streamsize>(content.size()));
    f.flush();
    if (!f) {
      fs::remove(tmp, ec);
      throw StorageError(path + ": cannot write " + tmp);
    }
  }
  fs::rename(tmp, path, ec);
  if (ec) {
    const std::string msg = ec.message();
    fs::remove(tmp, ec);
    throw StorageError(path + ": cannot rename " + tmp + " into place: " + msg);
  }
}

}  // namespace ternbench::storage
