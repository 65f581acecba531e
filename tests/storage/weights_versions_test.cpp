// Files of older format versions: each is read and verified with its own version's checksum
// (tests/fixtures/weights_v2 holds files the version-2 writer wrote), and a file whose
// schema_version does not match the checksum it carries is refused.
#include <gtest/gtest.h>
#include <hdf5.h>

#include <filesystem>
#include <string>

#include "storage/weights_edit.hpp"
#include "support/error_of.hpp"
#include "support/tmp_dir.hpp"
#include "ternbench/base/error.hpp"
#include "ternbench/storage/weights_file.hpp"

namespace ternbench::storage {
namespace {

using testing::error_of;
using testing::TmpDir;

const std::string kFixtures = std::string(TB_SOURCE_DIR) + "/tests/fixtures/weights_v2/";

// A writable copy of a fixture.
std::string copy_of(const TmpDir& tmp, const std::string& name) {
  const std::string path = tmp.file(name);
  std::filesystem::copy_file(kFixtures + name, path);
  return path;
}

const Tensor* find(const WeightsContent& c, const std::string& name) {
  for (const Tensor& t : c.tensors)
    if (t.name == name) return &t;
  return nullptr;
}

TEST(WeightsVersions, AVersion2RunIsReadAndVerified) {
  const WeightsContent c = read_weights(kFixtures + "twn.h5");
  EXPECT_EQ(c.meta.schema_version, 2);
  EXPECT_EQ(c.meta.run_key, "6e8272843c4d36ef");
  EXPECT_EQ(c.meta.epoch, -1);
  EXPECT_EQ(c.meta.data_sha256.substr(0, 8), "62be6c91");
  EXPECT_NE(c.meta.config_toml.find("method = \"twn\""), std::string::npos);
  const Tensor* codes = find(c, "dense0/W_codes");
  ASSERT_NE(codes, nullptr);
  EXPECT_EQ(codes->u8.size(), 74u);  // 6 x 49 codes, 4 per byte
  ASSERT_NE(find(c, "dense0/W"), nullptr);
  EXPECT_EQ(find(c, "dense0/W")->shape, (std::vector<std::int64_t>{6, 49}));
  EXPECT_EQ(codes->attrs.size(), 5u);  // cols, encoding, method, rows, scale_layout
}

TEST(WeightsVersions, AVersion2CheckpointOfEveryTypeIsReadAndVerified) {
  const WeightsContent c = read_weights(kFixtures + "twn.ckpt.h5");
  EXPECT_EQ(c.meta.epoch, 5);
  ASSERT_NE(find(c, "progress"), nullptr);
  EXPECT_EQ(find(c, "progress")->u64.size(), 3u);
  ASSERT_NE(find(c, "history/epochs"), nullptr);
  EXPECT_EQ(find(c, "history/epochs")->f64.size(), 60u);
  ASSERT_NE(find(c, "init_codes/dense0/W"), nullptr);
  EXPECT_EQ(find(c, "init_codes/dense0/W")->u8.size(), 294u);
  ASSERT_NE(find(c, "history/stages"), nullptr);
  EXPECT_EQ(find(c, "history/stages")->shape, (std::vector<std::int64_t>{0, 5}));
}

TEST(WeightsVersions, Version2ChecksumStillCatchesAChangedDataset) {
  TmpDir tmp;
  const std::string path = copy_of(tmp, "twn.h5");
  testing::bump_first_byte(path, "dense1/W_codes");
  const std::string msg = error_of<DataError>([&] { (void)read_weights(path); });
  EXPECT_EQ(msg.rfind(path + ": checksum mismatch: the datasets do not match attribute checksum_sha256", 0), 0u) << msg;
}

TEST(WeightsVersions, AVersionThatDoesNotMatchTheChecksumCarriedIsRefused) {
  TmpDir tmp;
  const std::string lowered = copy_of(tmp, "twn.h5");
  testing::set_int_attr(lowered, "/", "schema_version", 1);
  EXPECT_EQ(error_of<DataError>([&] { (void)read_weights(lowered); }),
            lowered +
                ": schema_version is 1, but the file carries attribute checksum_sha256, which version 2 "
                "introduced; schema_version was edited; restore it from a copy or train the run again");

  const std::string raised = copy_of(tmp, "twn.ckpt.h5");
  testing::set_int_attr(raised, "/", "schema_version", 3);
  EXPECT_EQ(error_of<DataError>([&] { (void)read_weights(raised); }),
            raised +
                ": lacks attribute checksums, which every version-3 weights file carries; restore it from a "
                "copy or train the run again");

  TmpDir tmp2;
  const std::string both = copy_of(tmp2, "twn.h5");
  testing::set_string_attr(both, "/", "checksums", "");
  EXPECT_NE(error_of<DataError>([&] {
              (void)read_weights(both);
            }).find(": schema_version is 2, but the file carries attribute checksums, which version 3 introduced"),
            std::string::npos);

  TmpDir tmp3;
  const std::string stripped = copy_of(tmp3, "twn.h5");
  testing::delete_attr(stripped, "/", "checksum_sha256");
  EXPECT_EQ(error_of<DataError>([&] { (void)read_weights(stripped); }),
            stripped +
                ": lacks attribute checksum_sha256, which every version-2 weights file carries; restore it "
                "from a copy or train the run again");
}

// Version 1 had no checksum: float datasets and the file's attributes only. A file that
// claims version 1 but holds what later versions added had its version lowered.
TEST(WeightsVersions, Version1IsReadButOnlyWithWhatVersion1Wrote) {
  TmpDir tmp;
  const std::string path = tmp.file("v1.h5");
  {
    const hid_t f = H5Fcreate(path.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    ASSERT_GE(f, 0);
    const hsize_t dims[2] = {2, 2};
    const hid_t space = H5Screate_simple(2, dims, nullptr);
    const hid_t g = H5Gcreate2(f, "dense0", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    const hid_t d = H5Dcreate2(f, "dense0/W", H5T_IEEE_F32LE, space, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    const float w[4] = {1, 2, 3, 4};
    EXPECT_GE(H5Dwrite(d, H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, w), 0);
    const hid_t scalar = H5Screate(H5S_SCALAR);
    const hid_t a = H5Acreate2(f, "schema_version", H5T_STD_I32LE, scalar, H5P_DEFAULT, H5P_DEFAULT);
    const int one = 1;
    EXPECT_GE(H5Awrite(a, H5T_NATIVE_INT, &one), 0);
    H5Aclose(a);
    H5Sclose(scalar);
    H5Dclose(d);
    H5Gclose(g);
    H5Sclose(space);
    H5Fclose(f);
  }
  for (const char* name : {"run_key", "config_toml", "git_commit"}) testing::set_string_attr(path, "/", name, "x");
  const WeightsContent c = read_weights(path);
  EXPECT_EQ(c.meta.schema_version, 1);
  ASSERT_EQ(c.tensors.size(), 1u);
  EXPECT_EQ(c.tensors[0].data, (std::vector<float>{1, 2, 3, 4}));

  testing::set_string_attr(path, "dense0/W", "encoding", "binary");
  EXPECT_EQ(error_of<DataError>([&] { (void)read_weights(path); }),
            path +
                ": schema_version is 1, but dataset dense0/W has attributes, which version 2 introduced; "
                "schema_version was edited; restore it from a copy or train the run again");
  testing::delete_attr(path, "dense0/W", "encoding");
  testing::set_string_attr(path, "/", "data_sha256", "62be6c91");
  EXPECT_NE(error_of<DataError>([&] {
              (void)read_weights(path);
            }).find("schema_version is 1, but the file carries attribute data_sha256"),
            std::string::npos);
}

// The layer stack came after version 3 without a new version: version 3's checksum covers
// every attribute of the file, so it covers this one too, and a version-3 file written before
// it (no layer_stack) still reads.
TEST(WeightsVersions, TheLayerStackIsCoveredByVersion3AndFilesWithoutItStillRead) {
  TmpDir tmp;
  Tensor w;
  w.name = "dense0/W";
  w.shape = {2, 2};
  w.data = {1, 2, 3, 4};
  WeightsMeta meta;
  meta.run_key = "k";
  meta.config_toml = "[train]\n";
  meta.git_commit = "c";
  const std::string before = tmp.file("before.h5"), with = tmp.file("with.h5");
  write_weights(before, meta, {w});
  meta.layer_stack = "input: 4\ndense0: dense(2) -> 2 (10 params)\n";
  write_weights(with, meta, {w});

  EXPECT_EQ(read_weights(before).meta.layer_stack, "");
  EXPECT_EQ(read_weights(with).meta.layer_stack, meta.layer_stack);

  testing::set_string_attr(with, "/", "layer_stack", "input: 4\ndense0: dense(3) -> 3 (15 params)\n");
  EXPECT_EQ(error_of<DataError>([&] { (void)read_weights(with); }).find(with + ": checksum mismatch in attribute layer_stack"),
            0u);
  testing::delete_attr(with, "/", "layer_stack");
  EXPECT_EQ(error_of<DataError>([&] { (void)read_weights(with); }),
            with + ": attribute layer_stack is listed in attribute checksums but missing: the file was edited or "
                   "damaged; restore it from a copy or train the run again");
  // Added to a file written without it: no checksum line covers it.
  testing::set_string_attr(before, "/", "layer_stack", meta.layer_stack);
  EXPECT_EQ(error_of<DataError>([&] { (void)read_weights(before); }).find(before + ": attribute layer_stack is not covered"),
            0u);
  // Versions 1 and 2 never held it, and their checksums would not cover it.
  const std::string v2 = copy_of(tmp, "twn.h5");
  EXPECT_EQ(read_weights(v2).meta.layer_stack, "");
  testing::set_string_attr(v2, "/", "layer_stack", meta.layer_stack);
  EXPECT_EQ(error_of<DataError>([&] { (void)read_weights(v2); }),
            v2 + ": schema_version is 2, but the file carries attribute layer_stack, which only version-3 files "
                 "hold; the file was edited; restore it from a copy or train the run again");
}

}  // namespace
}  // namespace ternbench::storage
