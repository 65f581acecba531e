#include "ternbench/base/file_kind.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

namespace fs = std::filesystem;

TEST(NonRegularKind, NamesEachKindAndPassesFilesAndMissingPaths) {
  const fs::path dir = fs::temp_directory_path() / ("tb_file_kind_" + std::to_string(::getpid()));
  fs::create_directories(dir);
  std::ofstream(dir / "file") << "x";
  ASSERT_EQ(::mkfifo((dir / "fifo").c_str(), 0600), 0);
  fs::create_symlink(dir / "file", dir / "link");

  EXPECT_EQ(ternbench::non_regular_kind((dir / "file").string()), "");
  EXPECT_EQ(ternbench::non_regular_kind((dir / "link").string()), "");
  EXPECT_EQ(ternbench::non_regular_kind((dir / "missing").string()), "");
  EXPECT_EQ(ternbench::non_regular_kind(dir.string()), "a directory");
  EXPECT_EQ(ternbench::non_regular_kind((dir / "fifo").string()), "a FIFO");
  EXPECT_EQ(ternbench::non_regular_kind("/dev/null"), "a character device");
  fs::remove_all(dir);
}
