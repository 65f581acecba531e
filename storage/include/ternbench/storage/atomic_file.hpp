#pragma once
// Whole-file writes that a reader never sees half done.
#include <string>
#include <string_view>
#include <vector>

namespace ternbench::storage {

// Writes `content` to `<path>.tmp.<pid>` beside `path`, fsyncs it and renames it over
// `path`, creating the parent directory. Throws StorageError naming `path` (the temporary
// file is removed on failure).
void write_file_atomically(const std::string& path, std::string_view content);

// The same for content written in pieces, such as a streamed export: the pieces go to
// `<path>.tmp.<pid>`, which commit() fsyncs and renames over `path`. Until then `path` is
// untouched; the destructor removes the temporary file, and the directories it created for
// it, when commit() was not reached.
class AtomicFileWriter {
 public:
  explicit AtomicFileWriter(std::string path);  // creates the parent directory and the file
  ~AtomicFileWriter();
  AtomicFileWriter(const AtomicFileWriter&) = delete;
  AtomicFileWriter& operator=(const AtomicFileWriter&) = delete;

  void write(std::string_view piece);
  void commit();

 private:
  std::string path_, tmp_;
  std::vector<std::string> created_dirs_;  // removed again, innermost first, without commit()
  int fd_ = -1;
};

}  // namespace ternbench::storage
