// Edits that change what a weights file means are refused on read, each with one line that
// names the file and the attribute or dataset edited; so are files that are not regular.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <hdf5.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <future>
#include <string>
#include <utility>
#include <vector>

#include "storage/weights_edit.hpp"
#include "support/error_of.hpp"
#include "support/tmp_dir.hpp"
#include "ternbench/base/error.hpp"
#include "ternbench/storage/weights_file.hpp"

namespace ternbench::storage {
namespace {

using testing::error_of;
using testing::TmpDir;

// dense0/W (2, 3) = 0.5 x its ternary codes, packed as the writer packs them.
std::vector<Tensor> quantized() {
  Tensor w{"dense0/W", {2, 3}, {0.5f, 0.0f, -0.5f, 0.5f, 0.5f, 0.0f}};
  w.attrs = {{"precision", std::string("ternary")}, {"sparsity", 2.0 / 6.0}};
  Tensor codes{"dense0/W_codes", {2}, {}};
  codes.u8 = {0b01100001, 0b00000001};
  codes.attrs = {{"encoding", std::string("ternary_2bit")},
                 {"rows", std::int64_t{2}},
                 {"cols", std::int64_t{3}},
                 {"scale_layout", std::string("layer")}};
  return {w, codes, Tensor{"dense0/W_scales", {1}, {0.5f}}, Tensor{"dense0/b", {2}, {0.25f, -1.0f}}};
}

WeightsMeta meta() {
  WeightsMeta m;
  m.run_key = "3f9a0c";
  m.config_toml = "[train]\ndataset = \"mnist\"\n";
  m.git_commit = "61c4d03";
  m.data_sha256 = "62be6c91";
  m.epoch = 2;  // a checkpoint: the file carries an epoch attribute
  return m;
}

// A freshly written file, and the message read_weights refuses it with after edit(path).
struct Tampered {
  TmpDir tmp;
  std::string path = tmp.file("run.h5");
  template <class Edit>
  std::string refusal(Edit&& edit) {
    write_weights(path, meta(), quantized());
    edit(path);
    return error_of<DataError>([&] { (void)read_weights(path); });
  }
};

// One line, starting with the file, naming what was edited.
void expect_names(const std::string& msg, const std::string& path, const std::string& what) {
  EXPECT_EQ(msg.rfind(path + ": ", 0), 0u) << msg;
  EXPECT_NE(msg.find(what), std::string::npos) << "expected '" << what << "' in: " << msg;
  EXPECT_EQ(msg.find('\n'), std::string::npos) << msg;
}

TEST(WeightsTamper, AnUneditedFileIsReadWithItsMeta) {
  Tampered t;
  EXPECT_EQ(t.refusal([](const std::string&) {}), testing::kNoError);
  const WeightsContent c = read_weights(t.path);
  EXPECT_EQ(c.meta.schema_version, 3);
  EXPECT_EQ(c.meta.config_toml, meta().config_toml);
  EXPECT_EQ(c.meta.data_sha256, meta().data_sha256);
  EXPECT_EQ(c.tensors.size(), 4u);
}

TEST(WeightsTamper, ALoweredSchemaVersionIsRefusedNotVerifiedTheOldWay) {
  for (const int lowered : {1, 2}) {
    Tampered t;
    const std::string msg =
        t.refusal([&](const std::string& p) { testing::set_int_attr(p, "/", "schema_version", lowered); });
    expect_names(msg, t.path,
                 "schema_version is " + std::to_string(lowered) + ", but the file carries attribute checksums");
    expect_names(msg, t.path, "schema_version was edited");
  }
}

TEST(WeightsTamper, AChangedEncodingIsRefusedNamingTheAttributeAndDataset) {
  Tampered t;
  const std::string msg =
      t.refusal([](const std::string& p) { testing::set_string_attr(p, "dense0/W_codes", "encoding", "binary"); });
  expect_names(msg, t.path, "checksum mismatch in attribute encoding of dense0/W_codes");
}

TEST(WeightsTamper, AChangedConfigIsRefusedNamingConfigToml) {
  Tampered t;
  const std::string msg = t.refusal([](const std::string& p) {
    testing::set_string_attr(p, "/", "config_toml", "[train]\ndataset = \"fashion\"\n");
  });
  expect_names(msg, t.path, "checksum mismatch in attribute config_toml");
}

TEST(WeightsTamper, EditedCodesAreRefusedNamingTheDataset) {
  Tampered t;
  const std::string msg = t.refusal([](const std::string& p) { testing::bump_first_byte(p, "dense0/W_codes"); });
  expect_names(msg, t.path, "checksum mismatch in dataset dense0/W_codes");
}

TEST(WeightsTamper, EveryOtherAttributeIsCoveredToo) {
  const std::vector<std::pair<std::string, std::string>> edits = {{"/", "run_key"},
                                                                  {"/", "git_commit"},
                                                                  {"/", "data_sha256"},
                                                                  {"dense0/W", "precision"},
                                                                  {"dense0/W_codes", "scale_layout"}};
  for (const auto& edit : edits) {
    const std::string& obj = edit.first;  // not a structured binding: clang 14 cannot capture one
    const std::string& name = edit.second;
    Tampered t;
    const std::string msg = t.refusal([&](const std::string& p) { testing::set_string_attr(p, obj, name, "x"); });
    expect_names(msg, t.path, "checksum mismatch in attribute " + name + (obj == "/" ? "" : " of " + obj));
  }
  for (const char* name : {"rows", "cols"}) {
    Tampered t;
    const std::string msg =
        t.refusal([&](const std::string& p) { testing::set_int_attr(p, "dense0/W_codes", name, 1); });
    expect_names(msg, t.path, std::string("checksum mismatch in attribute ") + name + " of dense0/W_codes");
  }
}

TEST(WeightsTamper, AddedOrRemovedItemsAreRefused) {
  Tampered added;
  expect_names(added.refusal([](const std::string& p) { testing::set_string_attr(p, "dense0/b", "note", "mine"); }),
               added.path, "attribute note of dense0/b is not covered by attribute checksums");
  Tampered removed;
  expect_names(removed.refusal([](const std::string& p) { testing::delete_attr(p, "dense0/W", "sparsity"); }),
               removed.path, "attribute sparsity of dense0/W is listed in attribute checksums but missing");
  Tampered no_checksums;
  expect_names(no_checksums.refusal([](const std::string& p) { testing::delete_attr(p, "/", "checksums"); }),
               no_checksums.path, "lacks attribute checksums, which every version-3 weights file carries");
  Tampered garbled;
  expect_names(garbled.refusal([](const std::string& p) { testing::set_string_attr(p, "/", "checksums", "0 x\n"); }),
               garbled.path, "attribute checksums is malformed at line 1");
}

TEST(WeightsTamper, ADatasetOfAnotherTypeIsRefusedAsUncovered) {
  Tampered t;
  const std::string msg = t.refusal([](const std::string& p) {
    const hid_t f = H5Fopen(p.c_str(), H5F_ACC_RDWR, H5P_DEFAULT);
    const hsize_t dims[1] = {2};
    const hid_t space = H5Screate_simple(1, dims, nullptr);
    const hid_t d = H5Dcreate2(f, "dense0/extra", H5T_STD_I32LE, space, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    EXPECT_GE(d, 0);
    H5Dclose(d);
    H5Sclose(space);
    H5Fclose(f);
  });
  expect_names(msg, t.path, "dataset dense0/extra is of a type or shape ternbench does not write");
}

// An array where one value is expected would overrun the value read; it is refused instead,
// on a dataset and on the file, where each attribute is read before any checksum.
TEST(WeightsTamper, AnArrayAttributeIsRefused) {
  Tampered t;
  const std::string msg = t.refusal(
      [](const std::string& p) { testing::make_array_attr(p, "dense0/W_codes", "rows", H5T_STD_I64LE, 64); });
  expect_names(msg, t.path, "attribute rows of dense0/W_codes is not a single string, integer or float");

  const auto vlen_string = [] {
    const hid_t s = H5Tcopy(H5T_C_S1);
    H5Tset_size(s, H5T_VARIABLE);
    return s;
  };
  const auto fixed_string = [] {
    const hid_t s = H5Tcopy(H5T_C_S1);
    H5Tset_size(s, 64);
    return s;
  };
  const std::vector<std::pair<std::string, hid_t>> file_attrs = {{"schema_version", H5Tcopy(H5T_NATIVE_INT)},
                                                                 {"epoch", H5Tcopy(H5T_NATIVE_INT)},
                                                                 {"run_key", vlen_string()},
                                                                 {"checksums", fixed_string()}};
  for (const auto& attr : file_attrs) {
    const std::string& name = attr.first;  // not a structured binding: clang 14 cannot capture one
    const hid_t type = attr.second;
    Tampered f;
    expect_names(f.refusal([&](const std::string& p) { testing::make_array_attr(p, "/", name, type, 3); }), f.path,
                 name);
    H5Tclose(type);
  }
}

// 2^40 floats declared, none stored: the reader asked for 4 TiB before reading a value.
TEST(WeightsTamper, ADatasetDeclaringMoreThanItStoresIsRefused) {
  Tampered t;
  const std::string msg = t.refusal(
      [](const std::string& p) { testing::replace_float_dataset(p, "dense0/b", {1u << 20, 1u << 20}, H5P_DEFAULT, nullptr); });
  EXPECT_EQ(msg, t.path +
                     ": dataset 'dense0/b' declares 1099511627776 values of 4 bytes but the file stores 0 bytes "
                     "of it; the file is damaged; restore it from a copy or train the run again");
}

// Other writers (h5py with compression="gzip") may compress: the same values read the same,
// and the checksum, which covers values and not their storage, still matches.
TEST(WeightsTamper, ACompressedCopyOfADatasetIsRead) {
  Tampered t;
  const std::vector<float> bias = {0.25f, -1.0f};
  const std::string msg = t.refusal([&](const std::string& p) {
    const hid_t dcpl = H5Pcreate(H5P_DATASET_CREATE);
    const hsize_t chunk = 2;
    H5Pset_chunk(dcpl, 1, &chunk);
    H5Pset_deflate(dcpl, 9);
    testing::replace_float_dataset(p, "dense0/b", {2}, dcpl, &bias);
    H5Pclose(dcpl);
  });
  EXPECT_EQ(msg, testing::kNoError);
  EXPECT_EQ(read_weights(t.path).tensors.at(3).data, bias);
}

TEST(WeightsTamper, NonRegularFilesAreRefusedBeforeOpening) {
  TmpDir tmp;
  const std::string dir = tmp.file("dir.h5");
  std::filesystem::create_directory(dir);
  expect_names(error_of<DataError>([&] { (void)read_weights(dir); }), dir, "is a directory, not a weights file");
  expect_names(error_of<DataError>([] { (void)read_weights("/dev/null"); }), "/dev/null",
               "is a character device, not a weights file");

  // Opening a FIFO for reading blocks until a writer comes. If read_weights opens it, this
  // test comes as that writer after a while, so it fails instead of hanging.
  const std::string fifo = tmp.file("fifo.h5");
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  auto reading = std::async(std::launch::async, [&] { return error_of<DataError>([&] { (void)read_weights(fifo); }); });
  if (reading.wait_for(std::chrono::seconds(10)) != std::future_status::ready) {
    const int fd = ::open(fifo.c_str(), O_WRONLY | O_NONBLOCK);
    if (fd >= 0) ::close(fd);
    reading.wait();
    FAIL() << "read_weights opened the FIFO and blocked";
  }
  expect_names(reading.get(), fifo, "is a FIFO, not a weights file; give the run's <run_key>.h5 file");
}

}  // namespace
}  // namespace ternbench::storage
