#include "ternbench/storage/atomic_file.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <filesystem>
#include <system_error>
#include <utility>

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

AtomicFileWriter::AtomicFileWriter(std::string path) : path_(std::move(path)) {
  namespace fs = std::filesystem;
  std::error_code ec;
  if (const fs::path dir = fs::path(path_).parent_path(); !dir.empty()) {
    for (fs::path d = dir; !d.empty() && !fs::exists(d, ec); d = d.parent_path()) created_dirs_.push_back(d.string());
    fs::create_directories(dir, ec);
    if (ec) throw StorageError(path_ + ": cannot create directory " + dir.string() + ": " + ec.message());
  }
  tmp_ = path_ + ".tmp." + std::to_string(::getpid());
  fd_ = ::open(tmp_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd_ < 0) throw StorageError(path_ + ": cannot create " + tmp_ + ": " + errno_text());
}

AtomicFileWriter::~AtomicFileWriter() {
  if (fd_ >= 0) ::close(fd_);
  if (tmp_.empty()) return;  // committed
  ::unlink(tmp_.c_str());
  // Innermost first; rmdir leaves a directory that something else has meanwhile filled.
  for (const std::string& d : created_dirs_) ::rmdir(d.c_str());
}

void AtomicFileWriter::write(std::string_view piece) {
  if (fd_ < 0) throw StorageError(path_ + ": write after commit");
  std::size_t done = 0;
  while (done < piece.size()) {
    const ssize_t n = ::write(fd_, piece.data() + done, piece.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) throw StorageError(path_ + ": cannot write " + tmp_ + ": " + (n < 0 ? errno_text() : "no progress"));
    done += static_cast<std::size_t>(n);
  }
}

void AtomicFileWriter::commit() {
  // The rename must not publish a file whose blocks are still only in the page cache.
  if (::fsync(fd_) != 0) throw StorageError(path_ + ": fsync(" + tmp_ + ") failed: " + errno_text());
  const int fd = fd_;
  fd_ = -1;
  if (::close(fd) != 0) throw StorageError(path_ + ": cannot close " + tmp_ + ": " + errno_text());
  std::error_code ec;
  std::filesystem::rename(tmp_, path_, ec);
  if (ec) throw StorageError(path_ + ": cannot rename " + tmp_ + " into place: " + ec.message());
  tmp_.clear();
}

}  // namespace ternbench::storage
