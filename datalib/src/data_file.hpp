#pragma once
// Checks shared by the readers before they open a data file.
#include <string>

namespace ternbench::data {

// Throws DataError "<path>: is a directory, not <what>; <fix_directory>" (or "is a FIFO, so it
// cannot be <what>" for a FIFO, device or socket) when path exists but is not a regular file:
// a directory opens and reports a size of 2^63, and a FIFO blocks its reader forever. A path
// that does not exist passes: opening it gives the caller's own message.
void require_regular_file(const std::string& path, const std::string& what, const std::string& fix_directory);

}  // namespace ternbench::data
