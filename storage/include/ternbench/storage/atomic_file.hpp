#pragma once
// Whole-file writes that a reader never sees half done.
#include <string>
#include <string_view>

namespace ternbench::storage {

// Writes `content` to `<path>.tmp.<pid>` beside `path`, fsyncs it and renames it over
// `path`, creating the parent directory. Throws StorageError naming `path` (the temporary
// file is removed on failure).
void write_file_atomically(const std::string& path, std::string_view content);

}  // namespace ternbench::storage
