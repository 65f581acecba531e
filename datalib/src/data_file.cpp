#include "data_file.hpp"

#include "ternbench/base/error.hpp"
#include "ternbench/base/file_kind.hpp"

namespace ternbench::data {

void require_regular_file(const std::string& path, const std::string& what, const std::string& fix_directory) {
  const std::string kind = non_regular_kind(path);
  if (kind.empty()) return;
  if (kind == "a directory") throw DataError(path + ": is a directory, not " + what + "; " + fix_directory);
  throw DataError(path + ": is " + kind + ", so it cannot be " + what + "; put the file itself there");
}

}  // namespace ternbench::data
