#include "ternbench/storage/atomic_file.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <filesystem>
#include <system_error>

#include "ternbench/base/error.hpp"

namespace ternbench::storage {
namespace {

std::string errno_text() { return std::generic_category().message(errno); }

// Writes all of `content` to a new file and fsyncs it before closing: the rename that
// follows must not publish a file whose blocks are still only in the page cache.
void write_synced(const std::string& tmp, const std::string& path, std::string_view content) {
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) throw StorageError(path + ": cannot create " + tmp + ": " + errno_text());
  std::size_t done = 0;
  while (done < content.size()) {
    const ssize_t n = ::write(fd, content.data() + done, content.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      const std::string why = n < 0 ? errno_text() : "no progress";
      ::close(fd);
      throw StorageError(path + ": cannot write " + tmp + ": " + why);
    }
    done += static_cast<std::size_t>(n);
  }
  if (::fsync(fd) != 0) {
    const std::string why = errno_text();
    ::close(fd);
    throw StorageError(path + ": fsync(" + tmp + ") failed: " + why);
  }
  if (::close(fd) != 0) throw StorageError(path + ": cannot close " + tmp + ": " + errno_text());
}

}  // namespace

void write_file_atomically(const std::string& path, std::string_view content) {
  namespace fs = std::filesystem;
  std::error_code ec;
  if (const fs::path dir = fs::path(path).parent_path(); !dir.empty()) {
    fs::create_directories(dir, ec);
    if (ec) throw StorageError(path + ": cannot create directory " + dir.string() + ": " + ec.message());
  }
  std::string tmp = path;
  tmp.append(".tmp.").append(std::to_string(::getpid()));
  try {
    write_synced(tmp, path, content);
  } catch (...) {
    fs::remove(tmp, ec);
    throw;
  }
  fs::rename(tmp, path, ec);
  if (ec) {
    const std::string msg = ec.message();
    fs::remove(tmp, ec);
    throw StorageError(path + ": cannot rename " + tmp + " into place: " + msg);
  }
}

}  // namespace ternbench::storage
