#include "ternbench/datalib/loading.hpp"

#include <gtest/gtest.h>
#include <zlib.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <optional>
#include <string>

#include "support/error_of.hpp"
#include "support/tmp_dir.hpp"
#include "ternbench/base/error.hpp"
#include "ternbench/base/hash.hpp"
#include "ternbench/datalib/data_fetch.hpp"
#include "ternbench/datalib/idx.hpp"

namespace {

namespace fs = std::filesystem;
using ternbench::DataError;
using ternbench::data::IdxArray;
using ternbench::data::write_idx;
using ternbench::testing::TmpDir;

// The DataError message of f(), or "(no error)".
template <class F>
std::string error_of(F&& f) {
  return ternbench::testing::error_of<ternbench::DataError>(f);
}

// n images whose pixel p of image i is (i * 31 + p) mod 256, and labels i mod 10.
IdxArray images(std::uint32_t n) {
  IdxArray a;
  a.dims = {n, 28, 28};
  for (std::uint32_t i = 0; i < n; ++i)
    for (std::uint32_t p = 0; p < 784; ++p) a.data.push_back(static_cast<std::uint8_t>((i * 31 + p) % 256));
  return a;
}
IdxArray labels(std::uint32_t n) {
  IdxArray a;
  a.dims = {n};
  for (std::uint32_t i = 0; i < n; ++i) a.data.push_back(static_cast<std::uint8_t>(i % 10));
  return a;
}

void write_split(const fs::path& dir, std::uint32_t n_train, std::uint32_t n_test) {
  fs::create_directories(dir);
  write_idx((dir / "train-images-idx3-ubyte").string(), images(n_train));
  write_idx((dir / "train-labels-idx1-ubyte").string(), labels(n_train));
  write_idx((dir / "t10k-images-idx3-ubyte").string(), images(n_test));
  write_idx((dir / "t10k-labels-idx1-ubyte").string(), labels(n_test));
}

void gzip_in_place(const fs::path& plain) {
  std::ifstream in(plain, std::ios::binary);
  const std::string bytes((std::istreambuf_iterator<char>(in)), {});
  in.close();
  gzFile f = gzopen((plain.string() + ".gz").c_str(), "wb");
  ASSERT_NE(f, nullptr);
  ASSERT_EQ(gzwrite(f, bytes.data(), static_cast<unsigned>(bytes.size())), static_cast<int>(bytes.size()));
  ASSERT_EQ(gzclose(f), Z_OK);
  fs::remove(plain);
}

// Sets an environment variable for one test and restores it afterwards.
class ScopedEnv {
 public:
  ScopedEnv(const char* name, const char* value) : name_(name) {
    if (const char* old = std::getenv(name)) old_ = old;
    if (value) ::setenv(name, value, 1);
    else ::unsetenv(name);
  }
  ~ScopedEnv() {
    if (old_) ::setenv(name_, old_->c_str(), 1);
    else ::unsetenv(name_);
  }
  ScopedEnv(const ScopedEnv&) = delete;
  ScopedEnv& operator=(const ScopedEnv&) = delete;

 private:
  const char* name_;
  std::optional<std::string> old_;
};

TEST(Dataset, LoadsIdxDirOneScaledColumnPerSample) {
  TmpDir tmp;
  write_split(tmp.path() / "mnist", 5, 3);
  const auto s = ternbench::data::load_idx_dir((tmp.path() / "mnist").string(), "mnist");
  EXPECT_EQ(s.name, "mnist");
  ASSERT_EQ(s.train.size(), 5u);
  ASSERT_EQ(s.test.size(), 3u);
  EXPECT_EQ(s.train.images.rows(), 784);
  EXPECT_EQ(s.train.images.cols(), 5);
  EXPECT_EQ(s.train.height, 28);
  EXPECT_EQ(s.train.width, 28);
  EXPECT_EQ(s.train.channels, 1);
  for (int i = 0; i < 5; ++i) {
    EXPECT_EQ(s.train.labels[static_cast<std::size_t>(i)], i % 10);
    for (int p = 0; p < 784; ++p)
      ASSERT_FLOAT_EQ(s.train.images(p, i), static_cast<float>((i * 31 + p) % 256) / 255.0f) << i << "," << p;
  }
  EXPECT_FLOAT_EQ(s.test.images(255 - 62, 2), 1.0f);  // (2 * 31 + 193) = 255
}

TEST(Dataset, ReadsGzipVariantsOfOfficialNames) {
  TmpDir tmp;
  const fs::path dir = tmp.path() / "fashion-mnist";
  write_split(dir, 4, 2);
  gzip_in_place(dir / "train-images-idx3-ubyte");
  gzip_in_place(dir / "t10k-labels-idx1-ubyte");
  const auto s = ternbench::data::load_dataset("fashion-mnist", tmp.path().string());
  EXPECT_EQ(s.name, "fashion-mnist");
  EXPECT_EQ(s.train.size(), 4u);
  EXPECT_EQ(s.test.labels, (std::vector<std::uint8_t>{0, 1}));
  EXPECT_FLOAT_EQ(s.train.images(1, 3), static_cast<float>(3 * 31 + 1) / 255.0f);
}

TEST(Dataset, MismatchedImageAndLabelCountsNameBothFiles) {
  TmpDir tmp;
  const fs::path dir = tmp.path() / "mnist";
  write_split(dir, 5, 3);
  write_idx((dir / "t10k-labels-idx1-ubyte").string(), labels(2));
  const std::string msg = error_of([&] { ternbench::data::load_idx_dir(dir.string(), "mnist"); });
  EXPECT_EQ(msg, (dir / "t10k-labels-idx1-ubyte").string() + ": holds 2 labels but " +
                     (dir / "t10k-images-idx3-ubyte").string() +
                     " holds 3 images; both files must come from the same release");
}

TEST(Dataset, MissingFileSaysWhichAndHowToFetch) {
  TmpDir tmp;
  const fs::path dir = tmp.path() / "mnist";
  write_split(dir, 2, 2);
  fs::remove(dir / "train-labels-idx1-ubyte");
  const std::string msg = error_of([&] { ternbench::data::load_dataset("mnist", tmp.path().string()); });
  EXPECT_EQ(msg.rfind((dir / "train-labels-idx1-ubyte").string() + ": missing (also looked for "
                                                                     "train-labels-idx1-ubyte.gz)",
                      0),
            0u)
      << msg;
  EXPECT_NE(msg.find("`ternbench data fetch mnist --data " + tmp.path().string() + "`"), std::string::npos) << msg;
  EXPECT_NE(msg.find("TERNBENCH_DATA"), std::string::npos) << msg;
}

TEST(Dataset, MissingDirectoryNamesFix) {
  TmpDir tmp;
  const std::string msg = error_of([&] { ternbench::data::load_dataset("fashion-mnist", tmp.path().string()); });
  EXPECT_EQ(msg.rfind((tmp.path() / "fashion-mnist").string() + ": no such directory; run `ternbench data fetch "
                                                                 "fashion-mnist --data " + tmp.path().string() + "`",
                      0),
            0u)
      << msg;
}

TEST(Dataset, LabelOutOfRangeIsRejected) {
  TmpDir tmp;
  const fs::path dir = tmp.path() / "d";
  write_split(dir, 3, 2);
  IdxArray bad = labels(3);
  bad.data[1] = 12;
  write_idx((dir / "train-labels-idx1-ubyte").string(), bad);
  const std::string msg = error_of([&] { ternbench::data::load_idx_dir(dir.string(), dir.string()); });
  EXPECT_NE(msg.find("train-labels-idx1-ubyte: label 12 at index 1 is outside 0..9"), std::string::npos) << msg;
}

TEST(Dataset, ImagesMustBeThreeDimensionalAndLabelsOne) {
  TmpDir tmp;
  const fs::path dir = tmp.path() / "d";
  write_split(dir, 3, 2);
  write_idx((dir / "train-images-idx3-ubyte").string(), labels(3));
  std::string msg = error_of([&] { ternbench::data::load_idx_dir(dir.string(), "d"); });
  EXPECT_NE(msg.find("train-images-idx3-ubyte: has 1 dimensions, images need 3"), std::string::npos) << msg;
  write_split(dir, 3, 2);
  write_idx((dir / "t10k-labels-idx1-ubyte").string(), images(2));
  msg = error_of([&] { ternbench::data::load_idx_dir(dir.string(), "d"); });
  EXPECT_NE(msg.find("t10k-labels-idx1-ubyte: has 3 dimensions, labels need 1"), std::string::npos) << msg;
}

// The fingerprint is the content's: SHA-256 over each decompressed file's SHA-256 and a
// newline, train images, train labels, test images, test labels.
TEST(DatasetFingerprint, IsTheHashOfTheFileHashesAndIgnoresCompression) {
  TmpDir tmp;
  const fs::path dir = tmp.path() / "mnist";
  write_split(dir, 4, 2);
  std::string text;
  for (const char* f : {"train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte",
                        "t10k-labels-idx1-ubyte"})
    text += ternbench::sha256_file_hex((dir / f).string()) + "\n";
  const std::string expect = ternbench::sha256_hex(text);
  const auto plain = ternbench::data::load_dataset("mnist", tmp.path().string());
  EXPECT_EQ(plain.fingerprint, expect);
  EXPECT_EQ(ternbench::data::dataset_fingerprint("mnist", tmp.path().string()), expect);
  gzip_in_place(dir / "train-images-idx3-ubyte");
  EXPECT_EQ(ternbench::data::load_dataset("mnist", tmp.path().string()).fingerprint, expect);
  EXPECT_EQ(ternbench::data::dataset_fingerprint("mnist", tmp.path().string()), expect);
  // One label changed: another dataset.
  {
    std::fstream f(dir / "t10k-labels-idx1-ubyte", std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(8);
    f.put('\x05');
  }
  EXPECT_NE(ternbench::data::dataset_fingerprint("mnist", tmp.path().string()), expect);
  EXPECT_NE(ternbench::data::load_dataset("mnist", tmp.path().string()).fingerprint, expect);
}

TEST(DatasetFingerprint, PinnedValuesAreThoseOfTheFetchedFiles) {
  // The official MNIST files' SHA-256s (docs/data.md), combined as above.
  const std::string official = ternbench::sha256_hex(
      "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db\n"
      "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5\n"
      "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7\n"
      "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2\n");
  EXPECT_EQ(ternbench::data::pinned_fingerprint("mnist"), official);
  EXPECT_NE(ternbench::data::pinned_fingerprint("mnist-10k"), ternbench::data::pinned_fingerprint("mnist"));
  EXPECT_TRUE(ternbench::data::pinned_fingerprint("fashion-mnist").has_value());
  EXPECT_FALSE(ternbench::data::pinned_fingerprint("cifar10").has_value());
}

TEST(Dataset, UnknownNameListsKnownDatasets) {
  const std::string msg = error_of([] { ternbench::data::load_dataset("cifar100", "/nonexistent"); });
  EXPECT_EQ(msg, "unknown dataset 'cifar100'; known: mnist, mnist-10k, fashion-mnist, cifar10");
}

TEST(Dataset, TruncateKeepsFirstSamples) {
  TmpDir tmp;
  write_split(tmp.path() / "mnist", 6, 2);
  auto s = ternbench::data::load_dataset("mnist", tmp.path().string());
  const Eigen::MatrixXf first4 = s.train.images.leftCols(4);
  ternbench::core::truncate(s.train, 4);
  EXPECT_EQ(s.train.size(), 4u);
  EXPECT_EQ(s.train.images.cols(), 4);
  EXPECT_TRUE(s.train.images == first4);
  EXPECT_EQ(s.train.labels, (std::vector<std::uint8_t>{0, 1, 2, 3}));
  ternbench::core::truncate(s.train, 0);
  EXPECT_EQ(s.train.size(), 4u);
  ternbench::core::truncate(s.train, -3);
  EXPECT_EQ(s.train.size(), 4u);
  ternbench::core::truncate(s.train, 99);
  EXPECT_EQ(s.train.size(), 4u);
}

TEST(Dataset, DataRootHonoursEnvironment) {
  {
    ScopedEnv env("TERNBENCH_DATA", "/srv/data");
    EXPECT_EQ(ternbench::data::data_root(), "/srv/data");
  }
  {
    ScopedEnv env("TERNBENCH_DATA", nullptr);
    EXPECT_EQ(ternbench::data::data_root(), "./data");
  }
  EXPECT_EQ(ternbench::data::dataset_dir("/srv/data", "mnist"), "/srv/data/mnist");
}

// The fetch command in a message fetches into the directory the run read: --data is added
// unless that is the default data root.
TEST(Dataset, MissingFileGivesTheFetchCommandForItsRoot) {
  TmpDir tmp;
  write_split(tmp.path() / "mnist", 2, 2);
  fs::remove(tmp.path() / "mnist" / "t10k-images-idx3-ubyte");
  {
    ScopedEnv env("TERNBENCH_DATA", tmp.path().string().c_str());
    const std::string msg = error_of([&] { ternbench::data::check_dataset("mnist", tmp.path().string() + "/"); });
    EXPECT_NE(msg.find("; run `ternbench data fetch mnist`, or set TERNBENCH_DATA"), std::string::npos) << msg;
  }
  ScopedEnv env("TERNBENCH_DATA", nullptr);
  const std::string msg = error_of([&] { ternbench::data::check_dataset("mnist", tmp.path().string()); });
  EXPECT_NE(msg.find("; run `ternbench data fetch mnist --data " + tmp.path().string() + "`"), std::string::npos)
      << msg;
}

TEST(CheckDataset, AcceptsWhatLoadingAccepts) {
  TmpDir tmp;
  write_split(tmp.path() / "mnist", 5, 3);
  gzip_in_place(tmp.path() / "mnist" / "train-images-idx3-ubyte");
  gzip_in_place(tmp.path() / "mnist" / "t10k-labels-idx1-ubyte");
  EXPECT_EQ(error_of([&] { ternbench::data::check_dataset("mnist", tmp.path().string()); }),
            ternbench::testing::kNoError);
  EXPECT_EQ(error_of([&] { ternbench::data::load_dataset("mnist", tmp.path().string()); }),
            ternbench::testing::kNoError);
}

// Each damage check_dataset must find before a sweep starts, with load_dataset's message.
TEST(CheckDataset, ReportsWhatLoadingReports) {
  const std::vector<std::pair<std::string, std::function<void(const fs::path&)>>> damages = {
      {"missing file", [](const fs::path& d) { fs::remove(d / "train-labels-idx1-ubyte"); }},
      {"directory as file",
       [](const fs::path& d) {
         fs::remove(d / "t10k-images-idx3-ubyte");
         fs::create_directory(d / "t10k-images-idx3-ubyte");
       }},
      {"truncated images", [](const fs::path& d) { fs::resize_file(d / "train-images-idx3-ubyte", 16 + 784 * 4); }},
      {"truncated gzip",
       [](const fs::path& d) {
         gzip_in_place(d / "t10k-images-idx3-ubyte");
         const fs::path gz = d / "t10k-images-idx3-ubyte.gz";
         fs::resize_file(gz, fs::file_size(gz) - 10);
       }},
      {"label out of range",
       [](const fs::path& d) {
         IdxArray bad = labels(5);
         bad.data[3] = 10;
         write_idx((d / "train-labels-idx1-ubyte").string(), bad);
       }},
      {"count mismatch", [](const fs::path& d) { write_idx((d / "t10k-labels-idx1-ubyte").string(), labels(2)); }},
      {"images and labels swapped",
       [](const fs::path& d) { write_idx((d / "train-images-idx3-ubyte").string(), labels(5)); }},
      {"no directory", [](const fs::path& d) { fs::remove_all(d); }},
  };
  for (const auto& [what, damage] : damages) {
    TmpDir tmp;
    const fs::path dir = tmp.path() / "fashion-mnist";
    write_split(dir, 5, 3);
    damage(dir);
    const std::string want = error_of([&] { ternbench::data::load_dataset("fashion-mnist", tmp.path().string()); });
    EXPECT_NE(want, ternbench::testing::kNoError) << what;
    EXPECT_EQ(error_of([&] { ternbench::data::check_dataset("fashion-mnist", tmp.path().string()); }), want) << what;
  }
}

}  // namespace

TEST(LimitedSubset, TakesTheClassesInTurnSoASortedFileGivesABalancedSubset) {
  ternbench::core::Dataset d;
  d.images.resize(2, 9);
  d.labels = {0, 0, 0, 0, 1, 1, 2, 2, 2};  // sorted by class, as the npm-derived files are
  for (Eigen::Index j = 0; j < 9; ++j) d.images.col(j).setConstant(static_cast<float>(j));
  ternbench::core::Dataset out;
  ASSERT_TRUE(ternbench::core::limited_subset(d, 7, out));
  EXPECT_EQ(out.labels, (std::vector<std::uint8_t>{0, 1, 2, 0, 1, 2, 0}));
  const std::vector<float> first_pixel = {0, 4, 6, 1, 5, 7, 2};  // each class in file order
  for (Eigen::Index j = 0; j < 7; ++j) EXPECT_EQ(out.images(1, j), first_pixel[static_cast<std::size_t>(j)]);
  EXPECT_FALSE(ternbench::core::limited_subset(d, 0, out));
  EXPECT_FALSE(ternbench::core::limited_subset(d, 9, out));
  EXPECT_FALSE(ternbench::core::limited_subset(d, 50, out));
}