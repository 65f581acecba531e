// Weights files damaged after writing, as the fuzz target fuzz/weights_fuzzer.cpp damages them:
// attributes of the wrong shape and datasets that declare more than they store must be
// refused with a DataError naming the file, not overrun a buffer or allocate for them.
#include <gtest/gtest.h>
#include <hdf5.h>

#include <cstdint>
#include <ostream>
#include <string>
#include <vector>

#include "support/error_of.hpp"
#include "support/tmp_dir.hpp"
#include "ternbench/base/error.hpp"
#include "ternbench/storage/weights_file.hpp"

namespace {

namespace st = ternbench::storage;
using ternbench::DataError;
using ternbench::testing::error_of;
using ternbench::testing::kNoError;
using ternbench::testing::TmpDir;

// dense0/W (2, 3) with a float attribute, dense0/b (1000) all zero, as a checkpoint (epoch).
std::string write_file(const TmpDir& dir) {
  st::Tensor w;
  w.name = "dense0/W";
  w.shape = {2, 3};
  w.data = {1, 2, 3, 4, 5, 6};
  w.attrs = {{"scale", 0.5}, {"encoding", std::string("ternary")}};
  st::Tensor b;
  b.name = "dense0/b";
  b.shape = {1000};
  b.data.assign(1000, 0.0f);
  st::WeightsMeta meta;
  meta.run_key = "0123456789abcdef";
  meta.config_toml = "[train]\n";
  meta.git_commit = "abc";
  meta.epoch = 2;
  const std::string path = dir.file("run.h5");
  st::write_weights(path, meta, {w, b});
  return path;
}

// Replaces attribute `name` of object `obj` with `n` values of `type` (zero bytes).
void replace_attr(const std::string& path, const char* obj, const char* name, hid_t type, hsize_t n) {
  const hid_t file = H5Fopen(path.c_str(), H5F_ACC_RDWR, H5P_DEFAULT);
  ASSERT_GE(file, 0);
  ASSERT_GE(H5Adelete_by_name(file, obj, name, H5P_DEFAULT), 0);
  const hid_t space = H5Screate_simple(1, &n, nullptr);
  const hid_t attr = H5Acreate_by_name(file, obj, name, type, space, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
  ASSERT_GE(attr, 0);
  if (H5Tis_variable_str(type) > 0) {
    const std::vector<const char*> values(n, "x");
    ASSERT_GE(H5Awrite(attr, type, values.data()), 0);
  } else {
    const std::vector<unsigned char> values(n * H5Tget_size(type), 0);
    ASSERT_GE(H5Awrite(attr, type, values.data()), 0);
  }
  H5Aclose(attr);
  H5Sclose(space);
  H5Fclose(file);
}

hid_t vlen_string() {
  const hid_t t = H5Tcopy(H5T_C_S1);
  H5Tset_size(t, H5T_VARIABLE);
  return t;
}

hid_t fixed_string(std::size_t size) {
  const hid_t t = H5Tcopy(H5T_C_S1);
  H5Tset_size(t, size);
  return t;
}

struct FileAttr {
  const char* name;
  hid_t (*type)();
};

void PrintTo(const FileAttr& a, std::ostream* os) { *os << a.name; }  // test names stay stable

class FileAttributeArray : public ::testing::TestWithParam<FileAttr> {};

// Each was read into one value: an array of three wrote past it.
TEST_P(FileAttributeArray, IsRefusedNamingTheFileAndTheAttribute) {
  const TmpDir dir;
  const std::string path = write_file(dir);
  const hid_t type = GetParam().type();
  replace_attr(path, "/", GetParam().name, type, 3);
  H5Tclose(type);
  const std::string e = error_of<DataError>([&] { st::read_weights(path); });
  EXPECT_EQ(e.rfind(path + ": ", 0), 0u) << e;
  EXPECT_NE(e.find(GetParam().name), std::string::npos) << e;
}

INSTANTIATE_TEST_SUITE_P(
    Weights, FileAttributeArray,
    ::testing::Values(FileAttr{"schema_version", [] { return H5Tcopy(H5T_NATIVE_INT); }},
                      FileAttr{"epoch", [] { return H5Tcopy(H5T_NATIVE_INT); }},
                      FileAttr{"run_key", vlen_string},
                      FileAttr{"checksums", [] { return fixed_string(64); }}),
    [](const auto& p) { return std::string(p.param.name); });

// An array attribute on a dataset is not one ternbench writes: refused, naming it.
TEST(WeightsDamage, ArrayAttributeOfADatasetIsRefused) {
  const TmpDir dir;
  const std::string path = write_file(dir);
  replace_attr(path, "dense0/W", "scale", H5T_NATIVE_DOUBLE, 4);
  const std::string e = error_of<DataError>([&] { st::read_weights(path); });
  EXPECT_EQ(e.rfind(path + ": ", 0), 0u) << e;
  EXPECT_NE(e.find("scale"), std::string::npos) << e;
}

// Replaces dense0/b by a float dataset of `dims` made with dcpl; writes `values` if given.
void replace_bias(const std::string& path, const std::vector<hsize_t>& dims, hid_t dcpl,
                  const std::vector<float>* values) {
  const hid_t file = H5Fopen(path.c_str(), H5F_ACC_RDWR, H5P_DEFAULT);
  ASSERT_GE(file, 0);
  ASSERT_GE(H5Ldelete(file, "dense0/b", H5P_DEFAULT), 0);
  const hid_t space = H5Screate_simple(static_cast<int>(dims.size()), dims.data(), nullptr);
  const hid_t dset = H5Dcreate2(file, "dense0/b", H5T_IEEE_F32LE, space, H5P_DEFAULT, dcpl, H5P_DEFAULT);
  ASSERT_GE(dset, 0);
  if (values != nullptr) {
    ASSERT_GE(H5Dwrite(dset, H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, values->data()), 0);
  }
  H5Dclose(dset);
  H5Sclose(space);
  H5Fclose(file);
}

// 2^40 floats declared, none stored: the reader asked for 4 TiB before reading a value.
TEST(WeightsDamage, DatasetDeclaringMoreThanItStoresIsRefused) {
  const TmpDir dir;
  const std::string path = write_file(dir);
  replace_bias(path, {1u << 20, 1u << 20}, H5P_DEFAULT, nullptr);
  EXPECT_EQ(error_of<DataError>([&] { st::read_weights(path); }),
            path + ": dataset 'dense0/b' declares 1099511627776 values of 4 bytes but the file stores 0 bytes "
                   "of it; the file is damaged; restore it from a copy or train the run again");
}

// Other writers may compress: 1000 zeros deflate to a few bytes and still read.
TEST(WeightsDamage, CompressedDatasetIsRead) {
  const TmpDir dir;
  const std::string path = write_file(dir);
  const hid_t dcpl = H5Pcreate(H5P_DATASET_CREATE);
  const hsize_t chunk = 1000;
  H5Pset_chunk(dcpl, 1, &chunk);
  H5Pset_deflate(dcpl, 9);
  const std::vector<float> zeros(1000, 0.0f);
  replace_bias(path, {1000}, dcpl, &zeros);
  H5Pclose(dcpl);
  std::vector<float> read;
  EXPECT_EQ(error_of<DataError>([&] { read = st::read_weights(path).tensors.at(1).data; }), kNoError);
  EXPECT_EQ(read, zeros);
}

}  // namespace
