#include "ternbench/storage/versions.hpp"

#include <hdf5.h>
#include <sqlite3.h>

namespace ternbench::storage {

std::string library_versions() {
  unsigned major = 0, minor = 0, release = 0;
  H5get_libversion(&major, &minor, &release);
  return "hdf5=" + std::to_string(major) + "." + std::to_string(minor) + "." + std::to_string(release) +
         " sqlite=" + sqlite3_libversion();
}

}  // namespace ternbench::storage
