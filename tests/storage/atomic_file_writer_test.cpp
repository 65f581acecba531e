// A file written in pieces appears whole at commit() or not at all.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>

#include "support/tmp_dir.hpp"
#include "ternbench/storage/atomic_file.hpp"

namespace {

namespace fs = std::filesystem;
using ternbench::storage::AtomicFileWriter;
using ternbench::testing::TmpDir;

std::string read(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), {}};
}

TEST(AtomicFileWriter, CommitReplacesTheFileWithAllPieces) {
  TmpDir tmp;
  const std::string path = tmp.file("out/sub/export.csv");
  {
    AtomicFileWriter f(path);
    f.write("a,b\n");
    f.write("1,2\n");
    EXPECT_FALSE(fs::exists(path));  // nothing at the target before commit()
    f.commit();
  }
  EXPECT_EQ(read(path), "a,b\n1,2\n");
  {
    AtomicFileWriter f(path);
    f.write("new\n");
    f.commit();
  }
  EXPECT_EQ(read(path), "new\n");
  EXPECT_EQ(std::distance(fs::directory_iterator(tmp.file("out/sub")), fs::directory_iterator{}), 1);
}

TEST(AtomicFileWriter, WithoutCommitTheTargetIsUntouchedAndNothingIsLeft) {
  TmpDir tmp;
  const std::string kept = tmp.file("kept.csv");
  {
    AtomicFileWriter f(kept);
    f.write("old\n");
    f.commit();
  }
  {
    AtomicFileWriter f(kept);
    f.write("half of the ");
  }
  EXPECT_EQ(read(kept), "old\n");
  EXPECT_EQ(std::distance(fs::directory_iterator(tmp.path()), fs::directory_iterator{}), 1);
  // The directories made for an abandoned file go too, but not one that existed already.
  fs::create_directories(tmp.file("there"));
  {
    AtomicFileWriter f(tmp.file("there/new/deeper/x.json"));
    f.write("[");
  }
  EXPECT_TRUE(fs::exists(tmp.file("there")));
  EXPECT_FALSE(fs::exists(tmp.file("there/new")));
}

}  // namespace
