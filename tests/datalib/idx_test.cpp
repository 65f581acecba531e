#include "ternbench/datalib/idx.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include <filesystem>
#include <fstream>
#include <functional>
#include <string>
#include <vector>

#include "support/error_of.hpp"
#include "support/gzip_bomb.hpp"
#include "support/tmp_dir.hpp"
#include "ternbench/base/error.hpp"

namespace {

using ternbench::DataError;
using ternbench::data::check_idx;
using ternbench::data::IdxArray;
using ternbench::data::read_idx;
using ternbench::data::write_idx;
using ternbench::testing::TmpDir;
using ternbench::testing::with_memory_headroom;
using ternbench::testing::write_gzip_bomb;

using Bytes = std::vector<std::uint8_t>;

void write_bytes(const std::string& path, const Bytes& b) {
  std::ofstream out(path, std::ios::binary);
  out.write(reinterpret_cast<const char*>(b.data()), static_cast<std::streamsize>(b.size()));
}

Bytes read_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return Bytes(std::istreambuf_iterator<char>(in), {});
}

void write_gzip(const std::string& path, const Bytes& b) {
  gzFile f = gzopen(path.c_str(), "wb");
  ASSERT_NE(f, nullptr);
  ASSERT_EQ(gzwrite(f, b.data(), static_cast<unsigned>(b.size())), static_cast<int>(b.size()));
  ASSERT_EQ(gzclose(f), Z_OK);
}

// A 2x3x4 array whose bytes are 0..23, and its exact IDX encoding.
IdxArray small_array() {
  IdxArray a;
  a.dims = {2, 3, 4};
  for (std::uint8_t i = 0; i < 24; ++i) a.data.push_back(i);
  return a;
}
Bytes small_file() {
  Bytes b = {0, 0, 8, 3, 0, 0, 0, 2, 0, 0, 0, 3, 0, 0, 0, 4};
  for (std::uint8_t i = 0; i < 24; ++i) b.push_back(i);
  return b;
}

// The DataError message of f(), or "(no error)".
template <class F>
std::string error_of(F&& f) {
  return ternbench::testing::error_of<ternbench::DataError>(f);
}

TEST(Idx, WriteProducesBigEndianHeaderAndRawBytes) {
  TmpDir tmp;
  write_idx(tmp.file("a"), small_array());
  EXPECT_EQ(read_bytes(tmp.file("a")), small_file());
}

TEST(Idx, RoundTripKeepsDimsAndBytes) {
  TmpDir tmp;
  IdxArray a;
  a.dims = {300};  // > 255 checks that every header byte is used
  for (int i = 0; i < 300; ++i) a.data.push_back(static_cast<std::uint8_t>(i * 7));
  write_idx(tmp.file("labels"), a);
  const IdxArray b = read_idx(tmp.file("labels"));
  EXPECT_EQ(b.dims, a.dims);
  EXPECT_EQ(b.data, a.data);
}

TEST(Idx, WriteLeavesNoTemporaryFileAndReplacesOldContent) {
  TmpDir tmp;
  write_bytes(tmp.file("a"), {1, 2, 3});
  write_idx(tmp.file("a"), small_array());
  EXPECT_EQ(read_idx(tmp.file("a")).data, small_array().data);
  int files = 0;
  for ([[maybe_unused]] const auto& e : std::filesystem::directory_iterator(tmp.path())) ++files;
  EXPECT_EQ(files, 1);
}

TEST(Idx, ReadsGzipDetectedByMagicWhateverTheName) {
  TmpDir tmp;
  write_gzip(tmp.file("a.gz"), small_file());
  write_gzip(tmp.file("no-suffix"), small_file());
  for (const char* name : {"a.gz", "no-suffix"}) {
    const IdxArray a = read_idx(tmp.file(name));
    EXPECT_EQ(a.dims, small_array().dims) << name;
    EXPECT_EQ(a.data, small_array().data) << name;
  }
}

TEST(Idx, ReadsConcatenatedGzipMembers) {
  TmpDir tmp;
  const Bytes whole = small_file();
  write_gzip(tmp.file("p1"), Bytes(whole.begin(), whole.begin() + 10));
  write_gzip(tmp.file("p2"), Bytes(whole.begin() + 10, whole.end()));
  Bytes cat = read_bytes(tmp.file("p1"));
  const Bytes p2 = read_bytes(tmp.file("p2"));
  cat.insert(cat.end(), p2.begin(), p2.end());
  write_bytes(tmp.file("cat.gz"), cat);
  EXPECT_EQ(read_idx(tmp.file("cat.gz")).data, small_array().data);
}

TEST(Idx, BadMagicSaysNotAnIdxFile) {
  TmpDir tmp;
  write_bytes(tmp.file("x"), {'P', 'K', 3, 4, 0, 0, 0, 0});
  const std::string msg = error_of([&] { read_idx(tmp.file("x")); });
  EXPECT_EQ(msg.rfind(tmp.file("x") + ": not an IDX file", 0), 0u) << msg;
  EXPECT_NE(msg.find("magic 50 4b 03 04"), std::string::npos) << msg;
}

TEST(Idx, UnsupportedElementTypeIsNamed) {
  TmpDir tmp;
  write_bytes(tmp.file("f32"), {0, 0, 0x0D, 1, 0, 0, 0, 1, 0, 0, 0, 0});
  const std::string msg = error_of([&] { read_idx(tmp.file("f32")); });
  EXPECT_NE(msg.find("unsupported IDX element type 0x0d (float32)"), std::string::npos) << msg;
}

TEST(Idx, TruncatedHeaderNamesFile) {
  TmpDir tmp;
  write_bytes(tmp.file("h"), {0, 0, 8, 3, 0, 0, 0, 2, 0, 0});
  const std::string msg = error_of([&] { read_idx(tmp.file("h")); });
  EXPECT_EQ(msg.rfind(tmp.file("h") + ": truncated: the IDX header needs 16 bytes, file has 10", 0), 0u) << msg;
}

TEST(Idx, TruncatedPayloadNamesFileAndSize) {
  TmpDir tmp;
  std::filesystem::create_directories(tmp.path() / "mnist");
  const std::string path = (tmp.path() / "mnist" / "train-images-idx3-ubyte").string();
  Bytes b = small_file();
  b.resize(b.size() - 4);
  write_bytes(path, b);
  const std::string msg = error_of([&] { read_idx(path); });
  EXPECT_EQ(msg, path +
                     ": truncated: header says 24 bytes of images, file has only 20 after the 16-byte header; "
                     "delete the file and run `ternbench data fetch mnist --data " +
                     tmp.path().string() + "`");
}

TEST(Idx, FixOutsideDatasetDirAsksForIntactCopy) {
  TmpDir tmp;
  Bytes b = small_file();
  b.pop_back();
  write_bytes(tmp.file("mine"), b);
  const std::string msg = error_of([&] { read_idx(tmp.file("mine")); });
  EXPECT_NE(msg.find("; replace it with an intact copy of the file"), std::string::npos) << msg;
}

TEST(Idx, TrailingBytesAreRejected) {
  TmpDir tmp;
  Bytes b = small_file();
  b.push_back(0);
  b.push_back(0);
  write_bytes(tmp.file("t"), b);
  const std::string msg = error_of([&] { read_idx(tmp.file("t")); });
  EXPECT_NE(msg.find(": trailing bytes: header says 24 bytes of images, file has 26 (2 extra)"), std::string::npos)
      << msg;
}

TEST(Idx, CorruptGzipIsRejected) {
  TmpDir tmp;
  Bytes big = small_file();
  big.resize(16 + 24 + 4000, 0x5a);  // long enough that the deflate body has bytes to damage
  write_gzip(tmp.file("c.gz"), big);
  Bytes z = read_bytes(tmp.file("c.gz"));
  for (std::size_t i = 12; i < 20; ++i) z[i] ^= 0xff;
  write_bytes(tmp.file("c.gz"), z);
  const std::string msg = error_of([&] { read_idx(tmp.file("c.gz")); });
  EXPECT_NE(msg.find(tmp.file("c.gz") + ": gzip data is corrupt"), std::string::npos) << msg;
}

TEST(Idx, GzipWithBadChecksumIsRejected) {
  TmpDir tmp;
  write_gzip(tmp.file("k.gz"), small_file());
  Bytes z = read_bytes(tmp.file("k.gz"));
  z[z.size() - 8] ^= 0x01;  // CRC-32 field of the trailer
  write_bytes(tmp.file("k.gz"), z);
  const std::string msg = error_of([&] { read_idx(tmp.file("k.gz")); });
  EXPECT_NE(msg.find("gzip data is corrupt (incorrect data check)"), std::string::npos) << msg;
}

TEST(Idx, TruncatedGzipIsRejected) {
  TmpDir tmp;
  write_gzip(tmp.file("t.gz"), small_file());
  Bytes z = read_bytes(tmp.file("t.gz"));
  z.resize(z.size() - 6);
  write_bytes(tmp.file("t.gz"), z);
  const std::string msg = error_of([&] { read_idx(tmp.file("t.gz")); });
  EXPECT_NE(msg.find("gzip stream is truncated"), std::string::npos) << msg;
}

TEST(Idx, GarbageAfterGzipIsRejected) {
  TmpDir tmp;
  write_gzip(tmp.file("g.gz"), small_file());
  Bytes z = read_bytes(tmp.file("g.gz"));
  z.push_back('x');
  write_bytes(tmp.file("g.gz"), z);
  const std::string msg = error_of([&] { read_idx(tmp.file("g.gz")); });
  EXPECT_NE(msg.find("gzip stream is followed by 1 bytes of garbage"), std::string::npos) << msg;
}

TEST(Idx, MissingFileIsNamed) {
  TmpDir tmp;
  const std::string msg = error_of([&] { read_idx(tmp.file("nope")); });
  EXPECT_EQ(msg.rfind(tmp.file("nope") + ": cannot open", 0), 0u) << msg;
}



// The adversarial case: a 24-byte IDX file followed, in the same gzip stream, by 2 GB of
// zeros. Only the declared bytes (and one more) are inflated, within 64 MB of memory.
TEST(Idx, GzipBombIsRefusedWithoutInflatingItWhole) {
  TmpDir tmp;
  std::filesystem::create_directories(tmp.path() / "mnist");
  const std::string path = (tmp.path() / "mnist" / "train-images-idx3-ubyte.gz").string();
  write_gzip_bomb(path, small_file(), 2048);
  ASSERT_LT(std::filesystem::file_size(path), std::uintmax_t{4} << 20);
  const std::string want = path +
                           ": trailing bytes: header says 24 bytes of images, but the gzip data holds more; "
                           "delete the file and run `ternbench data fetch mnist --data " +
                           tmp.path().string() + "`";
  with_memory_headroom(std::size_t{64} << 20, [&] {
    EXPECT_EQ(error_of([&] { read_idx(path); }), want);
    EXPECT_EQ(error_of([&] { check_idx(path); }), want);
  });
}

// A header that asks for more than deflate could ever expand the file to is truncated,
// and is reported without allocating what it asks for (here 4 GB x 4 GB).
TEST(Idx, GzipHeaderDeclaringMoreThanTheFileCanHoldIsTruncated) {
  TmpDir tmp;
  write_gzip(tmp.file("big.gz"), {0, 0, 8, 2, 0xff, 0xff, 0xff, 0xff, 0x10, 0, 0, 0, 1, 2, 3});
  with_memory_headroom(std::size_t{64} << 20, [&] {
    const std::string msg = error_of([&] { read_idx(tmp.file("big.gz")); });
    const std::string want = ": truncated: header says 1152921504338411520 bytes of data, more than its ";
    EXPECT_EQ(msg.rfind(tmp.file("big.gz") + want, 0), 0u) << msg;
  });
}

TEST(Idx, DirectoryInPlaceOfTheFileIsNamed) {
  TmpDir tmp;
  const std::filesystem::path dir = tmp.path() / "mnist" / "t10k-images-idx3-ubyte";
  std::filesystem::create_directories(dir);
  const std::string want = dir.string() +
                           ": is a directory, not an IDX file; delete the directory and run `ternbench data fetch "
                           "mnist --data " + tmp.path().string() + "`";
  EXPECT_EQ(error_of([&] { read_idx(dir.string()); }), want);
  EXPECT_EQ(error_of([&] { check_idx(dir.string()); }), want);
  std::filesystem::create_directories(tmp.path() / "elsewhere");
  EXPECT_EQ(error_of([&] { read_idx(tmp.file("elsewhere")); }),
            tmp.file("elsewhere") + ": is a directory, not an IDX file; replace it with an intact copy of the file");
}

TEST(Idx, FifoInPlaceOfTheFileIsRefusedWithoutBlocking) {
  TmpDir tmp;
  ASSERT_EQ(mkfifo(tmp.file("fifo").c_str(), 0600), 0);
  const std::string msg = error_of([&] { read_idx(tmp.file("fifo")); });
  EXPECT_EQ(msg.rfind(tmp.file("fifo") + ": is a FIFO, so it cannot be", 0), 0u) << msg;
}

// check_idx keeps nothing but finds every problem read_idx finds, with the same message.
TEST(Idx, CheckReportsWhatReadReports) {
  TmpDir tmp;
  const Bytes good = small_file();
  Bytes truncated = good;
  truncated.resize(truncated.size() - 4);
  Bytes trailing = good;
  trailing.push_back(7);
  write_bytes(tmp.file("truncated"), truncated);
  write_bytes(tmp.file("trailing"), trailing);
  write_bytes(tmp.file("short-header"), Bytes(good.begin(), good.begin() + 10));
  write_bytes(tmp.file("magic"), {'P', 'K', 3, 4, 0, 0, 0, 0});
  write_gzip(tmp.file("truncated.gz"), truncated);
  write_gzip(tmp.file("trailing.gz"), trailing);
  write_gzip(tmp.file("cut.gz"), good);
  Bytes cut = read_bytes(tmp.file("cut.gz"));
  cut.resize(cut.size() - 6);
  write_bytes(tmp.file("cut.gz"), cut);
  write_gzip(tmp.file("crc.gz"), good);
  Bytes crc = read_bytes(tmp.file("crc.gz"));
  crc[crc.size() - 8] ^= 0x01;
  write_bytes(tmp.file("crc.gz"), crc);
  for (const char* name : {"truncated", "trailing", "short-header", "magic", "truncated.gz", "trailing.gz", "cut.gz",
                           "crc.gz", "missing"}) {
    const std::string msg = error_of([&] { read_idx(tmp.file(name)); });
    EXPECT_EQ(msg.rfind(tmp.file(name) + ": ", 0), 0u) << name << ": " << msg;
    EXPECT_EQ(error_of([&] { check_idx(tmp.file(name)); }), msg) << name;
  }
  EXPECT_EQ(error_of([&] { read_idx(tmp.file("truncated.gz")); }),
            tmp.file("truncated.gz") +
                ": truncated: header says 24 bytes of images, file has only 20 after gunzip after the 16-byte "
                "header; replace it with an intact copy of the file");
  write_gzip(tmp.file("good.gz"), good);
  write_bytes(tmp.file("good"), good);
  EXPECT_EQ(check_idx(tmp.file("good.gz")), small_array().dims);
  EXPECT_EQ(check_idx(tmp.file("good")), small_array().dims);
}

}  // namespace
