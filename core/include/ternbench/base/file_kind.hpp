#pragma once
// What stands at a path before a reader opens it: HDF5 and zlib block forever on a FIFO, and
// a directory opens and reports a size of 2^63.
#include <string>

namespace ternbench {

// "a directory", "a FIFO", "a character device", "a block device", "a socket" or "something
// other than a regular file" when path exists and is not a regular file (symlinks followed);
// empty when it is a regular file or does not exist, which the caller's open reports itself.
std::string non_regular_kind(const std::string& path);

}  // namespace ternbench
