#pragma once
// One exception hierarchy for the whole project. Libraries throw; `main` and the worker's
// per-run boundary turn exceptions into exit codes or failed-run records.
#include <stdexcept>
#include <string>

namespace ternbench {

class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// A bad sweep file: names the file, the key path and the line, e.g.
// "sweep.toml:4: train.alpah: unknown key (valid keys: ...)".
class ConfigError : public Error {
 public:
  ConfigError(std::string file, std::string key_path, int line, const std::string& what);
  const std::string& file() const noexcept { return file_; }
  const std::string& key_path() const noexcept { return key_path_; }
  int line() const noexcept { return line_; }

 private:
  std::string file_;
  std::string key_path_;
  int line_;
};

// A data file (IDX, CIFAR, npm package) that is missing, truncated, corrupt or mismatched.
class DataError : public Error {
 public:
  using Error::Error;
};

// SQLite / HDF5 / file-system failures; the message names the path.
class StorageError : public Error {
 public:
  using Error::Error;
};

// MPI or message-format failures between ranks.
class CommError : public Error {
 public:
  using Error::Error;
};

namespace detail {
[[noreturn]] void check_failed(const char* file, int line, const char* cond, const std::string& msg);
}  // namespace detail

}  // namespace ternbench

// Stays on in Release builds: shape and argument checks at public entry points.
#define TB_CHECK(cond, msg)                                                       \
  do {                                                                            \
    if (!(cond)) ::ternbench::detail::check_failed(__FILE__, __LINE__, #cond, (msg)); \
  } while (0)
