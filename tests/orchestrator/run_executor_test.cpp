// How RunExecutor records a run that cannot train: a config the trainer refuses is a
// config_error (never retried); a failure of the environment (data files, memory, a file it
// reads) is 'failed' without counting an attempt, so that fixing the environment is enough.
#include "ternbench/orchestrator/run_executor.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <new>
#include <string>

#include "support/tmp_dir.hpp"
#include "ternbench/datalib/idx.hpp"
#include "ternbench/experiments/sweep.hpp"
#include "ternbench/storage/records.hpp"

namespace tb = ternbench;
namespace fs = std::filesystem;
using tb::testing::TmpDir;

namespace {

// Run `spec` as the third attempt with data under root.
tb::storage::RunRecord execute(const tb::experiments::RunSpec& spec, const TmpDir& tmp, const std::string& root) {
  static const std::string kSweep = "s";  // assigned from a std::string: GCC 12 false -Wrestrict on a literal
  tb::orchestrator::WorkItem w;
  w.run_key = spec.run_key;
  w.sweep = kSweep;
  w.canonical_toml = spec.canonical_toml;
  w.weights_path = tmp.file(spec.run_key + ".h5");
  w.weights_ref = spec.run_key + ".h5";
  w.data_root = root;
  w.attempt = 3;
  tb::orchestrator::RunExecutor executor(0);
  return executor.execute(w, [](const tb::storage::EpochRecord&) {}).run;
}

// A small mnist directory: 20 train and 10 test images of 28x28.
void write_mnist(const fs::path& dir) {
  fs::create_directories(dir);
  for (const auto& [prefix, n] : {std::pair<std::string, std::uint32_t>{"train", 20}, {"t10k", 10}}) {
    tb::data::write_idx((dir / (prefix + "-images-idx3-ubyte")).string(),
                        {{n, 28, 28}, std::vector<std::uint8_t>(n * 784u, 7)});
    tb::data::IdxArray labels{{n}, std::vector<std::uint8_t>(n)};
    for (std::uint32_t i = 0; i < n; ++i) labels.data[i] = static_cast<std::uint8_t>(i % 10);
    tb::data::write_idx((dir / (prefix + "-labels-idx1-ubyte")).string(), labels);
  }
}

tb::core::TrainConfig small() {
  tb::core::TrainConfig c;
  c.epochs = 1;
  c.batch_size = 10;
  return c;
}

TEST(RunExecutor, MissingDataFailsWithoutCountingTheAttempt) {
  TmpDir tmp;
  const tb::storage::RunRecord r = execute(tb::experiments::make_run(small()), tmp, tmp.path().string());
  EXPECT_EQ(r.status, tb::storage::kStatusFailed);
  EXPECT_EQ(r.attempts, 2);
  EXPECT_NE(r.error.find("mnist: no such directory"), std::string::npos) << r.error;
  EXPECT_NE(r.error.find("not counted as an attempt"), std::string::npos) << r.error;
}

// Reading a directory as an IDX file once ended in std::bad_alloc, recorded as config_error.
TEST(RunExecutor, DirectoryInPlaceOfADataFileIsNotAConfigError) {
  TmpDir tmp;
  write_mnist(tmp.path() / "mnist");
  fs::remove(tmp.path() / "mnist" / "train-images-idx3-ubyte");
  fs::create_directory(tmp.path() / "mnist" / "train-images-idx3-ubyte");
  const tb::storage::RunRecord r = execute(tb::experiments::make_run(small()), tmp, tmp.path().string());
  EXPECT_EQ(r.status, tb::storage::kStatusFailed);
  EXPECT_EQ(r.attempts, 2);
  EXPECT_NE(r.error.find("train-images-idx3-ubyte: is a directory, not an IDX file"), std::string::npos) << r.error;
}

TEST(RunExecutor, RefusedConfigIsAConfigErrorAndCountsTheAttempt) {
  TmpDir tmp;
  write_mnist(tmp.path() / "mnist");
  tb::core::TrainConfig c = small();
  c.lr_schedule = "multistep";
  c.lr_milestones = {50};  // past the last epoch
  const tb::storage::RunRecord r = execute(tb::experiments::make_run(c), tmp, tmp.path().string());
  EXPECT_EQ(r.status, tb::storage::kStatusConfigError) << r.error;
  EXPECT_EQ(r.attempts, 3);
}

TEST(RunExecutor, TrainedRunCountsTheAttempt) {
  TmpDir tmp;
  write_mnist(tmp.path() / "mnist");
  const tb::storage::RunRecord r = execute(tb::experiments::make_run(small()), tmp, tmp.path().string());
  EXPECT_EQ(r.status, tb::storage::kStatusDone) << r.error;
  EXPECT_EQ(r.attempts, 3);
}

TEST(RunExecutor, EnvironmentFailuresAreTheEnvironmentsOnly) {
  tb::orchestrator::WorkItem w;
  w.attempt = 2;
  const auto classify = [&](const std::exception& e) {
    tb::storage::RunRecord r;
    r.attempts = w.attempt;
    const bool env = tb::orchestrator::environment_failure(e, w, r);
    EXPECT_EQ(r.attempts, env ? 1 : 2);
    if (env) {
      EXPECT_EQ(r.status, tb::storage::kStatusFailed);
    }
    return env;
  };
  EXPECT_TRUE(classify(std::bad_alloc()));
  EXPECT_TRUE(classify(tb::DataError("d")));
  EXPECT_TRUE(classify(tb::StorageError("s")));
  EXPECT_TRUE(classify(tb::CommError("c")));
  EXPECT_FALSE(classify(tb::Error("e")));
  EXPECT_FALSE(classify(tb::ConfigError("f", "train.lr", 1, "bad")));
  EXPECT_FALSE(classify(std::invalid_argument("x")));
}

}  // namespace
