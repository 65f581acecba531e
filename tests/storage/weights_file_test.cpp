#include "ternbench/storage/weights_file.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <fstream>
#include <iterator>
#include <thread>
#include <unistd.h>

// The suite makes foreign HDF5 files itself to check refusals (tests/CMakeLists.txt links HDF5).
#include <hdf5.h>

#include <bit>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <limits>
#include <string>
#include <vector>

#include "support/tmp_dir.hpp"
#include "ternbench/base/error.hpp"
#include "ternbench/base/hash.hpp"

namespace {

using ternbench::StorageError;
using ternbench::storage::kWeightsSchemaVersion;
using ternbench::storage::read_weights;
using ternbench::storage::Tensor;
using ternbench::storage::WeightsMeta;
using ternbench::storage::write_weights;
using ternbench::testing::TmpDir;

Tensor make_tensor(const std::string& name, std::vector<std::int64_t> shape) {
  Tensor t;
  t.name = name;
  t.shape = std::move(shape);
  std::size_t n = 1;
  for (std::int64_t d : t.shape) n *= static_cast<std::size_t>(d);
  for (std::size_t i = 0; i < n; ++i) t.data.push_back(static_cast<float>(i) * 0.25f - 1.0f);
  return t;
}

WeightsMeta make_meta() {
  WeightsMeta m;
  m.run_key = "3f9a0c";
  m.config_toml = "[train]\ndataset = \"mnist\"\nalpha = 0.1\n";
  m.git_commit = "61c4d03-dirty";
  return m;
}

// dense0/W is (10, 3): row-major, so element (2, 1) is value 7 = 7 * 0.25 - 1 = 0.75.
std::vector<Tensor> make_model() {
  Tensor w0 = make_tensor("dense0/W", {10, 3});
  w0.data[0] = -0.0f;
  w0.data[1] = std::numeric_limits<float>::denorm_min();
  w0.data[3] = 1.0f / 3.0f;
  w0.data[4] = std::numeric_limits<float>::infinity();
  return {make_tensor("dense1/b", {2}), w0, make_tensor("dense0/b", {3}), make_tensor("dense1/W", {2, 10})};
}

std::uint32_t bits(float v) { return std::bit_cast<std::uint32_t>(v); }

template <class Fn>
std::string storage_error_of(Fn&& fn) {
  try {
    fn();
  } catch (const StorageError& e) {
    return e.what();
  }
  return "(no StorageError thrown)";
}

// A bad weights file is bad input, as a bad data file is (exit code 2).
template <class Fn>
std::string data_error_of(Fn&& fn) {
  try {
    fn();
  } catch (const ternbench::DataError& e) {
    return e.what();
  }
  return "(no DataError thrown)";
}

std::vector<std::string> dir_entries(const std::filesystem::path& dir) {
  std::vector<std::string> names;
  for (const auto& e : std::filesystem::directory_iterator(dir)) names.push_back(e.path().filename().string());
  std::sort(names.begin(), names.end());
  return names;
}

std::string run_command(const std::string& cmd, int* status) {
  std::string out;
  FILE* p = popen(cmd.c_str(), "r");
  if (p == nullptr) {
    *status = -1;
    return out;
  }
  char buf[256];
  while (std::fgets(buf, sizeof buf, p) != nullptr) out += buf;
  *status = pclose(p);
  return out;
}

TEST(WeightsFile, RoundTripKeepsShapesValuesAndAttributes) {
  TmpDir tmp;
  const std::string path = tmp.file("weights/run.h5");  // parent directory is created
  const std::vector<Tensor> model = make_model();
  write_weights(path, make_meta(), model);

  const auto content = read_weights(path);
  EXPECT_EQ(content.meta.run_key, make_meta().run_key);
  EXPECT_EQ(content.meta.config_toml, make_meta().config_toml);
  EXPECT_EQ(content.meta.git_commit, make_meta().git_commit);
  EXPECT_EQ(content.meta.schema_version, kWeightsSchemaVersion);

  ASSERT_EQ(content.tensors.size(), 4u);
  const std::vector<std::string> sorted = {"dense0/W", "dense0/b", "dense1/W", "dense1/b"};
  for (std::size_t i = 0; i < sorted.size(); ++i) {
    const Tensor& got = content.tensors[i];
    EXPECT_EQ(got.name, sorted[i]);
    const auto want = std::find_if(model.begin(), model.end(), [&](const Tensor& t) { return t.name == got.name; });
    ASSERT_NE(want, model.end());
    EXPECT_EQ(got.shape, want->shape) << got.name;
    ASSERT_EQ(got.data.size(), want->data.size()) << got.name;
    for (std::size_t j = 0; j < got.data.size(); ++j) {
      EXPECT_EQ(bits(got.data[j]), bits(want->data[j])) << got.name << "[" << j << "]";
    }
  }
  EXPECT_EQ(content.tensors[0].shape, (std::vector<std::int64_t>{10, 3}));
  EXPECT_EQ(content.tensors[3].shape, (std::vector<std::int64_t>{2}));
}

// Runs must be reproducible down to the file: two writes of the same content a second apart
// are the same bytes (HDF5 would otherwise store object modification times).
TEST(WeightsFile, SameContentWrittenTwiceIsByteIdentical) {
  TmpDir tmp;
  write_weights(tmp.file("a.h5"), make_meta(), make_model());
  std::this_thread::sleep_for(std::chrono::milliseconds(1100));
  write_weights(tmp.file("b.h5"), make_meta(), make_model());
  auto slurp = [](const std::string& p) {
    std::ifstream in(p, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), {});
  };
  const std::string a = slurp(tmp.file("a.h5"));
  EXPECT_FALSE(a.empty());
  EXPECT_TRUE(a == slurp(tmp.file("b.h5")));
}

// runs.weights_sha256 comes from the bytes write_weights wrote, not from reading them back.
TEST(WeightsFile, ReturnsTheSha256OfTheBytesOnDisk) {
  TmpDir tmp;
  const std::string path = tmp.file("w.h5");
  const std::string returned = write_weights(path, make_meta(), make_model());
  EXPECT_EQ(returned, ternbench::sha256_file_hex(path));
  EXPECT_FALSE(std::filesystem::exists(path + ".tmp." + std::to_string(::getpid())));
}

TEST(WeightsFile, ScalarAndZeroSizedTensorsRoundTrip) {
  TmpDir tmp;
  const std::string path = tmp.file("run.h5");
  Tensor scalar{"step", {}, {42.5f}};
  Tensor empty{"dense0/mask", {0, 3}, {}};
  Tensor deep{"block0/conv/W", {2, 2, 1}, {1, 2, 3, 4}};
  write_weights(path, make_meta(), {scalar, empty, deep});
  const auto content = read_weights(path);
  ASSERT_EQ(content.tensors.size(), 3u);
  EXPECT_EQ(content.tensors[0].name, "block0/conv/W");
  EXPECT_EQ(content.tensors[0].data, deep.data);
  EXPECT_EQ(content.tensors[1].name, "dense0/mask");
  EXPECT_EQ(content.tensors[1].shape, (std::vector<std::int64_t>{0, 3}));
  EXPECT_TRUE(content.tensors[1].data.empty());
  EXPECT_EQ(content.tensors[2].name, "step");
  EXPECT_TRUE(content.tensors[2].shape.empty());
  EXPECT_EQ(content.tensors[2].data, scalar.data);
}

TEST(WeightsFile, WritingLeavesNoTempFileAndReplacesAStaleOne) {
  TmpDir tmp;
  const std::string path = tmp.file("run.h5");
  const std::string stale = path + ".tmp." + std::to_string(::getpid());
  std::ofstream(stale) << "left behind by a killed attempt";
  write_weights(path, make_meta(), make_model());
  EXPECT_EQ(dir_entries(tmp.path()), std::vector<std::string>{"run.h5"});
  write_weights(path, make_meta(), {make_tensor("only/W", {1, 1})});  // a retried run overwrites
  EXPECT_EQ(dir_entries(tmp.path()), std::vector<std::string>{"run.h5"});
  EXPECT_EQ(read_weights(path).tensors.size(), 1u);
}

TEST(WeightsFile, BadTensorIsRefusedAndLeavesNothing) {
  TmpDir tmp;
  const std::string path = tmp.file("run.h5");
  Tensor bad = make_tensor("dense0/W", {10, 3});
  bad.data.pop_back();
  const std::string msg = storage_error_of([&] { write_weights(path, make_meta(), {bad}); });
  EXPECT_EQ(msg, path + ": tensor 'dense0/W' has 29 values but its shape holds 30");
  EXPECT_THROW(write_weights(path, make_meta(), {make_tensor("/abs", {1})}), StorageError);
  EXPECT_THROW(write_weights(path, make_meta(), {make_tensor("a/W", {1}), make_tensor("a/W", {1})}), StorageError);
  EXPECT_TRUE(dir_entries(tmp.path()).empty());
}

TEST(WeightsFile, HdfFailureMidWriteNamesTheCallAndRemovesTheTempFile) {
  TmpDir tmp;
  const std::string path = tmp.file("run.h5");
  // "a" is a dataset, so "a/W" cannot create a group there: HDF5 itself refuses.
  const std::string msg = storage_error_of(
      [&] { write_weights(path, make_meta(), {make_tensor("a", {1}), make_tensor("a/W", {1})}); });
  EXPECT_EQ(msg.rfind(path + ": H5Dcreate2(a/W) failed", 0), 0u) << msg;
  EXPECT_TRUE(dir_entries(tmp.path()).empty());
}

TEST(WeightsFile, MissingFileIsRefused) {
  TmpDir tmp;
  const std::string path = tmp.file("nope.h5");
  const std::string msg = data_error_of([&] { read_weights(path); });
  EXPECT_EQ(msg.rfind(path + ": weights file does not exist", 0), 0u) << msg;
}

TEST(WeightsFile, GarbageFileIsRefused) {
  TmpDir tmp;
  const std::string path = tmp.file("garbage.h5");
  std::ofstream(path) << std::string(4096, 'z');
  const std::string msg = data_error_of([&] { read_weights(path); });
  EXPECT_EQ(msg.rfind(path + ": H5Fopen failed", 0), 0u) << msg;
  EXPECT_NE(msg.find("file signature not found"), std::string::npos) << msg;
  EXPECT_EQ(msg.find('\n'), std::string::npos) << msg;
}

TEST(WeightsFile, ForeignHdf5FileIsRefused) {
  TmpDir tmp;
  const std::string path = tmp.file("foreign.h5");
  {
    const hid_t file = H5Fcreate(path.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    ASSERT_GE(file, 0);
    const hsize_t dims[1] = {4};
    const hid_t space = H5Screate_simple(1, dims, nullptr);
    const hid_t dset = H5Dcreate2(file, "x", H5T_IEEE_F32LE, space, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    ASSERT_GE(dset, 0);
    H5Dclose(dset);
    H5Sclose(space);
    H5Fclose(file);
  }
  const std::string msg = data_error_of([&] { read_weights(path); });
  EXPECT_EQ(msg, path + ": not a ternbench weights file (no schema_version attribute); "
                        "check the path, or write it with ternbench");
}

TEST(WeightsFile, NewerSchemaVersionIsRefused) {
  TmpDir tmp;
  const std::string path = tmp.file("run.h5");
  write_weights(path, make_meta(), make_model());
  {
    const hid_t file = H5Fopen(path.c_str(), H5F_ACC_RDWR, H5P_DEFAULT);
    ASSERT_GE(file, 0);
    const hid_t attr = H5Aopen(file, "schema_version", H5P_DEFAULT);
    ASSERT_GE(attr, 0);
    const int newer = kWeightsSchemaVersion + 1;
    EXPECT_GE(H5Awrite(attr, H5T_NATIVE_INT, &newer), 0);
    H5Aclose(attr);
    H5Fclose(file);
  }
  const std::string msg = data_error_of([&] { read_weights(path); });
  EXPECT_EQ(msg, path + ": weights file has schema version 4, this ternbench reads up to 3; "
                        "use a newer ternbench");
}

TEST(WeightsFile, H5pyReadsTheShapeValuesAndAttributes) {
  int status = 0;
  run_command("/usr/bin/python3 -c 'import h5py' 2>/dev/null", &status);
  if (status != 0) GTEST_SKIP() << "/usr/bin/python3 has no h5py";
  TmpDir tmp;
  const std::string path = tmp.file("run.h5");
  write_weights(path, make_meta(), make_model());
  const std::string script = tmp.file("check.py");
  std::ofstream(script) << "import sys, h5py\n"
                           "with h5py.File(sys.argv[1], 'r') as f:\n"
                           "    w = f['dense0/W']\n"
                           "    a = f.attrs\n"
                           "    print(w.shape, w.dtype, float(w[2, 1]), a['run_key'], type(a['config_toml']).__name__,\n"
                           "          int(a['schema_version']), sorted(f.keys()))\n";
  const std::string out = run_command("/usr/bin/python3 '" + script + "' '" + path + "' 2>&1", &status);
  EXPECT_EQ(status, 0) << out;
  EXPECT_EQ(out, "(10, 3) float32 0.75 3f9a0c str 3 ['dense0', 'dense1']\n");
}

}  // namespace

// Checkpoints keep RNG states (uint64) and metric history (float64) exactly.
TEST(WeightsFile, CheckpointStateRoundTripsExactlyWithItsEpoch) {
  TmpDir tmp;
  std::vector<Tensor> tensors = make_model();
  Tensor rng;
  rng.name = "state/rng";
  rng.shape = {4};
  rng.u64 = {0xffffffffffffffffULL, 1, 0x8000000000000000ULL, 42};
  Tensor history;
  history.name = "state/history";
  history.shape = {2, 2};
  history.f64 = {0.1, 1.0 / 3.0, 1e-300, -2.5};
  tensors.push_back(rng);
  tensors.push_back(history);
  WeightsMeta meta = make_meta();
  meta.epoch = 3;
  write_weights(tmp.file("ckpt.h5"), meta, tensors);
  const auto back = read_weights(tmp.file("ckpt.h5"));
  EXPECT_EQ(back.meta.epoch, 3);
  const auto find = [&](const std::string& n) {
    return *std::find_if(back.tensors.begin(), back.tensors.end(), [&](const Tensor& t) { return t.name == n; });
  };
  EXPECT_EQ(find("state/rng").u64, rng.u64);
  EXPECT_EQ(find("state/history").f64, history.f64);
  EXPECT_TRUE(find("state/rng").data.empty());
  EXPECT_EQ(read_weights(tmp.file("ckpt.h5")).tensors.size(), tensors.size());
  write_weights(tmp.file("final.h5"), make_meta(), make_model());
  EXPECT_EQ(read_weights(tmp.file("final.h5")).meta.epoch, -1);
}

TEST(WeightsFile, TensorWithTwoValueTypesIsRefused) {
  TmpDir tmp;
  Tensor t;
  t.name = "a/b";
  t.shape = {1};
  t.data = {1.0f};
  t.u64 = {1};
  EXPECT_THROW(write_weights(tmp.file("x.h5"), make_meta(), {t}), ternbench::StorageError);
}
