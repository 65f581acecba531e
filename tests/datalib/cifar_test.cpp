// CIFAR-10 binary reader on small files written here (2-3 records each): layout, scaling,
// concatenation, gzip, and every refusal with its message.
#include "ternbench/datalib/cifar.hpp"

#include <gtest/gtest.h>
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

namespace ternbench::core {
namespace {

using namespace ternbench::data;

namespace fs = std::filesystem;
using ternbench::testing::TmpDir;

// The DataError message of f(), or "(no error)".
template <class F>
std::string error_of(F&& f) {
  return ternbench::testing::error_of<ternbench::DataError>(f);
}

// Record r of a file tagged `tag`: label (tag + r) mod 10, pixel byte k = (7 r + 3 tag + k) mod 256.
std::vector<std::uint8_t> records(int n, int tag) {
  std::vector<std::uint8_t> b;
  for (int r = 0; r < n; ++r) {
    b.push_back(static_cast<std::uint8_t>((tag + r) % 10));
    for (int k = 0; k < 3072; ++k) b.push_back(static_cast<std::uint8_t>((7 * r + 3 * tag + k) % 256));
  }
  return b;
}

void write_bytes(const fs::path& p, const std::vector<std::uint8_t>& b) {
  std::ofstream out(p, std::ios::binary);
  out.write(reinterpret_cast<const char*>(b.data()), static_cast<std::streamsize>(b.size()));
}

void write_gzip(const fs::path& p, const std::vector<std::uint8_t>& b) {
  gzFile f = gzopen(p.string().c_str(), "wb");
  ASSERT_NE(f, nullptr);
  ASSERT_EQ(gzwrite(f, b.data(), static_cast<unsigned>(b.size())), static_cast<int>(b.size()));
  ASSERT_EQ(gzclose(f), Z_OK);
}

// Training files with 2, 1, 3, 1, 2 records (data_batch_3 gzipped), test file with 2.
void write_official_set(const fs::path& dir) {
  fs::create_directories(dir);
  const int counts[5] = {2, 1, 3, 1, 2};
  for (int i = 0; i < 5; ++i) {
    const std::string name = "data_batch_" + std::to_string(i + 1) + ".bin";
    if (i == 2) {
      write_gzip(dir / (name + ".gz"), records(counts[i], i + 1));
    } else {
      write_bytes(dir / name, records(counts[i], i + 1));
    }
  }
  write_bytes(dir / "test_batch.bin", records(2, 0));
}

float pixel(int r, int tag, int k) { return static_cast<float>((7 * r + 3 * tag + k) % 256) / 255.0f; }

TEST(Cifar10, ReadsRecordsAsScaledChwColumns) {
  TmpDir tmp;
  write_bytes(tmp.path() / "b.bin", records(2, 4));
  const Dataset d = read_cifar10_file(tmp.file("b.bin"));
  EXPECT_EQ(d.channels, 3);
  EXPECT_EQ(d.height, 32);
  EXPECT_EQ(d.width, 32);
  EXPECT_EQ(d.num_classes, 10);
  ASSERT_EQ(d.images.rows(), 3072);
  ASSERT_EQ(d.images.cols(), 2);
  EXPECT_EQ(d.labels, (std::vector<std::uint8_t>{4, 5}));
  // Red (0, 0), red (1, 2) = row 1 col 2, green (0, 0), blue (31, 31) of record 1.
  EXPECT_EQ(d.images(0, 1), pixel(1, 4, 0));
  EXPECT_EQ(d.images(32 + 2, 1), pixel(1, 4, 34));
  EXPECT_EQ(d.images(1024, 1), pixel(1, 4, 1024));
  EXPECT_EQ(d.images(3071, 1), pixel(1, 4, 3071));
  for (int k = 0; k < 3072; ++k) ASSERT_EQ(d.images(k, 0), pixel(0, 4, k)) << k;
  EXPECT_EQ(d.images.maxCoeff(), 1.0f);  // byte 255 -> exactly 1
  EXPECT_EQ(d.images.minCoeff(), 0.0f);
}

TEST(Cifar10, LoadsFiveTrainingFilesInOrderAndTheTestFile) {
  TmpDir tmp;
  write_official_set(tmp.path() / "cifar10");
  const DataSplit s = load_dataset("cifar10", tmp.path().string());
  EXPECT_EQ(s.name, "cifar10");
  ASSERT_EQ(s.train.size(), 9u);
  ASSERT_EQ(s.test.size(), 2u);
  EXPECT_EQ(s.train.images.cols(), 9);
  // Labels (tag + r) mod 10 of files tagged 1..5 with 2, 1, 3, 1, 2 records.
  EXPECT_EQ(s.train.labels, (std::vector<std::uint8_t>{1, 2, 2, 3, 4, 5, 4, 5, 6}));
  EXPECT_EQ(s.test.labels, (std::vector<std::uint8_t>{0, 1}));
  EXPECT_EQ(s.train.images(100, 3), pixel(0, 3, 100));  // first record of the gzipped file
  EXPECT_EQ(s.train.images(100, 5), pixel(2, 3, 100));
  EXPECT_EQ(s.train.images(5, 8), pixel(1, 5, 5));
  EXPECT_EQ(s.test.images(3000, 1), pixel(1, 0, 3000));
  EXPECT_EQ(s.test.channels, 3);
}

TEST(Cifar10, GzippedFilesReadLikePlainOnes) {
  TmpDir tmp;
  write_bytes(tmp.path() / "plain.bin", records(3, 2));
  write_gzip(tmp.path() / "packed.bin.gz", records(3, 2));
  write_gzip(tmp.path() / "packed_no_suffix.bin", records(3, 2));  // detected by magic, not name
  const Dataset a = read_cifar10_file(tmp.file("plain.bin"));
  const Dataset b = read_cifar10_file(tmp.file("packed.bin.gz"));
  const Dataset c = read_cifar10_file(tmp.file("packed_no_suffix.bin"));
  EXPECT_EQ(a.images, b.images);
  EXPECT_EQ(a.labels, b.labels);
  EXPECT_EQ(a.images, c.images);
}

TEST(Cifar10, MissingFileIsNamedWithWhereToGetIt) {
  TmpDir tmp;
  const fs::path dir = tmp.path() / "cifar10";
  write_official_set(dir);
  fs::remove(dir / "data_batch_4.bin");
  const std::string msg = error_of([&] { load_dataset("cifar10", tmp.path().string()); });
  EXPECT_EQ(msg.rfind((dir / "data_batch_4.bin").string() + ": missing (also looked for data_batch_4.bin.gz); ", 0),
            0u)
      << msg;
  EXPECT_NE(msg.find("https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz"), std::string::npos) << msg;
  EXPECT_NE(msg.find("$TERNBENCH_DATA/cifar10"), std::string::npos) << msg;

  const std::string no_dir = error_of([&] { load_cifar10_dir((tmp.path() / "nowhere").string()); });
  EXPECT_NE(no_dir.find("nowhere: no such directory; download the CIFAR-10 binary version from https://"),
            std::string::npos)
      << no_dir;
}

TEST(Cifar10, CheckReportsWhatLoadingReports) {
  TmpDir tmp;
  const fs::path dir = tmp.path() / "cifar10";
  write_official_set(dir);
  EXPECT_EQ(error_of([&] { check_cifar10_dir(dir.string()); }), ternbench::testing::kNoError);
  std::vector<std::uint8_t> bad_label = records(3, 1);
  bad_label[2 * kCifarRecordBytes] = 11;
  const std::vector<std::pair<std::string, std::function<void()>>> damages = {
      {"label", [&] { write_bytes(dir / "data_batch_2.bin", bad_label); }},
      {"gzip label", [&] { write_gzip(dir / "data_batch_3.bin.gz", bad_label); }},
      {"partial record", [&] { fs::resize_file(dir / "test_batch.bin", kCifarRecordBytes + 5); }},
      {"directory", [&] { fs::remove(dir / "data_batch_5.bin"); fs::create_directory(dir / "data_batch_5.bin"); }},
      {"missing", [&] { fs::remove(dir / "data_batch_1.bin"); }},
  };
  for (const auto& [what, damage] : damages) {
    fs::remove_all(dir);
    write_official_set(dir);
    damage();
    const std::string want = error_of([&] { load_cifar10_dir(dir.string()); });
    EXPECT_NE(want, ternbench::testing::kNoError) << what;
    EXPECT_EQ(error_of([&] { check_cifar10_dir(dir.string()); }), want) << what;
  }
  const std::string msg = error_of([&] { check_cifar10_dir(dir.string()); });
  EXPECT_EQ(msg.rfind((dir / "data_batch_1.bin").string() + ": missing", 0), 0u) << msg;
}

TEST(Cifar10, DirectoryInPlaceOfABatchFileIsNamed) {
  TmpDir tmp;
  fs::create_directories(tmp.path() / "data_batch_1.bin");
  const std::string msg = error_of([&] { read_cifar10_file(tmp.file("data_batch_1.bin")); });
  EXPECT_EQ(msg.rfind(tmp.file("data_batch_1.bin") + ": is a directory, not a CIFAR-10 batch file; remove it", 0), 0u)
      << msg;
}

TEST(Cifar10, PartialRecordIsReportedAsTruncated) {
  TmpDir tmp;
  std::vector<std::uint8_t> b = records(2, 0);
  b.resize(b.size() + 100, 0);
  write_bytes(tmp.path() / "t.bin", b);
  const std::string msg = error_of([&] { read_cifar10_file(tmp.file("t.bin")); });
  EXPECT_EQ(msg.rfind(tmp.file("t.bin") + ": truncated: 6246 bytes is not a whole number of 3073-byte records "
                                          "(2 records and 100 bytes); ",
                      0),
            0u)
      << msg;

  b.resize(3073 + 3000);
  write_gzip(tmp.path() / "t.bin.gz", b);
  const std::string gz = error_of([&] { read_cifar10_file(tmp.file("t.bin.gz")); });
  EXPECT_NE(gz.find(": truncated: 6073 bytes after gunzip is not a whole number of 3073-byte records"),
            std::string::npos)
      << gz;
}

TEST(Cifar10, CutGzipStreamAndEmptyFileAreRefused) {
  TmpDir tmp;
  write_gzip(tmp.path() / "full.gz", records(3, 1));
  std::ifstream in(tmp.path() / "full.gz", std::ios::binary);
  std::vector<std::uint8_t> z((std::istreambuf_iterator<char>(in)), {});
  z.resize(z.size() / 2);
  write_bytes(tmp.path() / "cut.gz", z);
  const std::string cut = error_of([&] { read_cifar10_file(tmp.file("cut.gz")); });
  EXPECT_NE(cut.find("cut.gz: gzip stream is truncated"), std::string::npos) << cut;

  write_bytes(tmp.path() / "empty.bin", {});
  const std::string empty = error_of([&] { read_cifar10_file(tmp.file("empty.bin")); });
  EXPECT_NE(empty.find("empty.bin: empty (0 bytes)"), std::string::npos) << empty;
}

TEST(Cifar10, LabelAboveNineNamesTheRecord) {
  TmpDir tmp;
  std::vector<std::uint8_t> b = records(3, 0);
  b[2 * 3073] = 10;  // label byte of record 2
  write_bytes(tmp.path() / "l.bin", b);
  const std::string msg = error_of([&] { read_cifar10_file(tmp.file("l.bin")); });
  EXPECT_NE(msg.find("l.bin: label 10 in record 2 is outside 0..9"), std::string::npos) << msg;
}

// No header declares a CIFAR-10 file's size, so the bound is the official 10,000 records:
// one record followed by 1 GB of zeros inflates no further than that, within 128 MB.
TEST(Cifar10, GzipBombStopsAtTenThousandRecords) {
  TmpDir tmp;
  const std::string path = tmp.file("data_batch_1.bin");
  ternbench::testing::write_gzip_bomb(path, records(1, 0), 1024);
  ASSERT_LT(fs::file_size(path), std::uintmax_t{4} << 20);
  const std::string want = path + ": holds more than 10000 records of 3073 bytes after gunzip";
  ternbench::testing::with_memory_headroom(std::size_t{128} << 20, [&] {
    const std::string msg = error_of([&] { read_cifar10_file(path); });
    EXPECT_EQ(msg.rfind(want, 0), 0u) << msg;
  });
}

TEST(Cifar10, TenThousandRecordsAreAFullFile) {
  TmpDir tmp;
  write_gzip(tmp.path() / "full.bin.gz", records(10000, 0));
  EXPECT_EQ(read_cifar10_file(tmp.file("full.bin.gz")).images.cols(), 10000);
  write_gzip(tmp.path() / "over.bin.gz", records(10001, 0));
  const std::string msg = error_of([&] { read_cifar10_file(tmp.file("over.bin.gz")); });
  EXPECT_NE(msg.find("holds more than 10000 records"), std::string::npos) << msg;
}

}  // namespace
}  // namespace ternbench::core
