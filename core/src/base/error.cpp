#include "ternbench/base/error.hpp"

namespace ternbench {

static std::string config_message(const std::string& file, const std::string& key_path, int line,
                                  const std::string& what) {
  // Appends one piece at a time: GCC 12 reports a false -Wrestrict on chained operator+.
  std::string m = file;
  if (line > 0) m.append(":").append(std::to_string(line));
  m.append(": ");
  if (!key_path.empty()) m.append(key_path).append(": ");
  m.append(what);
  return m;
}

ConfigError::ConfigError(std::string file, std::string key_path, int line, const std::string& what)
    : Error(config_message(file, key_path, line, what)),
      file_(std::move(file)),
      key_path_(std::move(key_path)),
      line_(line) {}

namespace detail {
void check_failed(const char* file, int line, const char* cond, const std::string& msg) {
  throw Error(std::string(file) + ":" + std::to_string(line) + ": check `" + cond + "` failed: " + msg);
}
}  // namespace detail

}  // namespace ternbench
