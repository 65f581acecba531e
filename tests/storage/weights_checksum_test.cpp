// The checksums ternbench writes are the ones docs/weights.md describes: the recipe written
// in Python from the doc (tests/e2e/weights_checksum.py) agrees on a file with every dataset
// type and every attribute kind, and catches an edited attribute.
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <cstdio>
#include <cstdlib>
#include <string>

#include "storage/weights_edit.hpp"
#include "support/tmp_dir.hpp"
#include "ternbench/storage/weights_file.hpp"

namespace ternbench::storage {
namespace {

using testing::TmpDir;

// Exit status and output of the recipe script on path.
std::pair<int, std::string> recipe(const std::string& path) {
  const std::string cmd =
      "/usr/bin/python3 '" + std::string(TB_SOURCE_DIR) + "/tests/e2e/weights_checksum.py' verify '" + path + "' 2>&1";
  std::string out;
  FILE* p = popen(cmd.c_str(), "r");
  if (p == nullptr) return {-1, "popen failed"};
  char buf[256];
  while (std::fgets(buf, sizeof buf, p) != nullptr) out += buf;
  const int status = pclose(p);
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, out};
}

TEST(WeightsChecksum, ThePythonRecipeOfTheDocAgreesOnEveryTypeAndCatchesAnEdit) {
  if (std::system("/usr/bin/python3 -c 'import h5py, numpy' 2>/dev/null") != 0)
    GTEST_SKIP() << "/usr/bin/python3 has no h5py (scripts/setup.sh installs python3-h5py)";
  TmpDir tmp;
  const std::string path = tmp.file("ckpt.h5");
  Tensor w{"dense0/W", {2, 3}, {0.5f, -0.0f, 1e-40f, 3.25f, -7.0f, 0.125f}};
  w.attrs = {{"precision", std::string("ternary")}, {"sparsity", 1.0 / 3.0}, {"rows", std::int64_t{-2}}};
  Tensor codes{"dense0/W_codes", {3}, {}};
  codes.u8 = {0x00, 0x7f, 0xff};
  codes.attrs = {{"encoding", std::string("ternary_2bit \xc3\xa9")}};  // non-ASCII UTF-8
  Tensor rng{"rng/shuffle", {2}, {}};
  rng.u64 = {0xffffffffffffffffULL, 1};
  Tensor history{"history/epochs", {1, 2}, {}};
  history.f64 = {0.1, -1e300};
  const std::vector<Tensor> tensors = {
      w, codes, rng, history, Tensor{"step", {}, {42.5f}}, Tensor{"history/stages", {0, 5}, {}}};
  WeightsMeta meta;
  meta.run_key = "k";
  meta.config_toml = "[train]\nlr = 0.1\n";
  meta.git_commit = "c";
  meta.data_sha256 = "d";
  meta.epoch = 4;
  write_weights(path, meta, tensors);
  EXPECT_EQ(read_weights(path).tensors.size(), tensors.size());
  const auto [rc, out] = recipe(path);
  EXPECT_EQ(rc, 0) << out;
  EXPECT_EQ(out, path + ": ok\n");

  testing::set_string_attr(path, "rng/shuffle", "note", "added");
  const auto [rc2, out2] = recipe(path);
  EXPECT_EQ(rc2, 1) << out2;
  EXPECT_EQ(out2, path + ": checksum mismatch in rng/shuffle@note\n");
}

}  // namespace
}  // namespace ternbench::storage
