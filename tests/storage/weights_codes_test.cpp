// Packed codes (uint8), dataset attributes and the checksum, as version 2 added them.
#include <gtest/gtest.h>
#include <hdf5.h>

#include <string>

#include "support/tmp_dir.hpp"
#include "ternbench/base/error.hpp"
#include "ternbench/storage/weights_file.hpp"

namespace ternbench::storage {
namespace {

using testing::TmpDir;

std::vector<Tensor> sample() {
  Tensor w{"dense0/W", {2, 3}, {0.5f, 0.0f, -0.5f, 0.5f, 0.5f, 0.0f}};
  w.attrs = {{"precision", std::string("ternary")}, {"sparsity", 2.0 / 6.0}, {"scale", 0.5}};
  Tensor codes{"dense0/W_codes", {2}, {}};
  codes.u8 = {0b10000001, 0b00000101};
  codes.attrs = {{"encoding", std::string("ternary_2bit")}, {"rows", std::int64_t{2}},
                 {"scale_layout", std::string("layer")}};
  return {w, codes, Tensor{"dense0/W_scales", {1}, {0.5f}}};
}

const Tensor& by_name(const WeightsContent& c, const std::string& name) {
  for (const auto& t : c.tensors) {
    if (t.name == name) return t;
  }
  throw std::runtime_error("no tensor " + name);
}

TEST(WeightsCodes, Uint8DatasetsAndAttributesRoundTrip) {
  TmpDir tmp;
  const std::string path = tmp.file("run.h5");
  WeightsMeta meta;
  meta.run_key = "k";
  meta.config_toml = "x";
  meta.git_commit = "c";
  write_weights(path, meta, sample());
  const WeightsContent c = read_weights(path);
  EXPECT_EQ(c.meta.schema_version, kWeightsSchemaVersion);
  const Tensor& codes = by_name(c, "dense0/W_codes");
  EXPECT_EQ(codes.u8, (std::vector<std::uint8_t>{0b10000001, 0b00000101}));
  EXPECT_TRUE(codes.data.empty());
  const auto& a = codes.attrs;
  ASSERT_EQ(a.size(), 3u);  // read back in name order
  EXPECT_EQ(a[0].first, "encoding");
  EXPECT_EQ(std::get<std::string>(a[0].second), "ternary_2bit");
  EXPECT_EQ(a[1].first, "rows");
  EXPECT_EQ(std::get<std::int64_t>(a[1].second), 2);
  const Tensor& w = by_name(c, "dense0/W");
  ASSERT_EQ(w.attrs.size(), 3u);
  EXPECT_EQ(w.attrs[2].first, "sparsity");
  EXPECT_EQ(std::get<double>(w.attrs[2].second), 2.0 / 6.0);
}

TEST(WeightsCodes, AChangedValueFailsTheChecksumWithTheFileNamed) {
  TmpDir tmp;
  const std::string path = tmp.file("run.h5");
  write_weights(path, WeightsMeta{"k", "x", "c", ternbench::storage::kWeightsSchemaVersion, -1, "", ""}, sample());
  {  // flip one weight in place, as a damaged disk or a stray writer would
    const hid_t f = H5Fopen(path.c_str(), H5F_ACC_RDWR, H5P_DEFAULT);
    ASSERT_GE(f, 0);
    const hid_t d = H5Dopen2(f, "dense0/W", H5P_DEFAULT);
    const float v[6] = {0.5f, 0.0f, -0.5f, 0.5f, 0.5f, 0.5f};
    ASSERT_GE(H5Dwrite(d, H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, v), 0);
    H5Dclose(d);
    H5Fclose(f);
  }
  try {
    (void)read_weights(path);
    FAIL() << "a damaged file was read";
  } catch (const DataError& e) {
    const std::string msg = e.what();
    EXPECT_EQ(msg.rfind(path + ": checksum mismatch in dataset dense0/W", 0), 0u) << msg;
    EXPECT_NE(msg.find("damaged"), std::string::npos) << msg;
  }
}

}  // namespace
}  // namespace ternbench::storage
