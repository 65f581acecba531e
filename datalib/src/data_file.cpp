#include "data_file.hpp"

#include <sys/stat.h>

#include "ternbench/base/error.hpp"

namespace ternbench::data {

void require_regular_file(const std::string& path, const std::string& what, const std::string& fix_directory) {
  struct stat st{};
  if (::stat(path.c_str(), &st) != 0 || S_ISREG(st.st_mode)) return;
  if (S_ISDIR(st.st_mode)) throw DataError(path + ": is a directory, not " + what + "; " + fix_directory);
  throw DataError(path + ": is not a regular file (a FIFO, device or socket), so it cannot be " + what +
                  "; put the file itself there");
}

}  // namespace ternbench::data
