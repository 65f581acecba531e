// runs.config_json holds every key of the run's method: a worker makes it from the run's
// stored text (RunSpec::stored_toml), and schema 7 gives a row written before the same text.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "support/tmp_dir.hpp"
#include "ternbench/experiments/config_json.hpp"
#include "ternbench/experiments/sweep.hpp"
#include "ternbench/orchestrator/protocol.hpp"
#include "ternbench/orchestrator/run_executor.hpp"
#include "ternbench/storage/metrics_db.hpp"

namespace tb = ternbench;
namespace ex = tb::experiments;
using tb::storage::MetricsDb;
using tb::testing::TmpDir;

namespace {

// The runs of the test: each method with a key left out at its default, and its other cases.
std::vector<ex::RunSpec> runs() {
  std::vector<ex::RunSpec> out;
  tb::core::TrainConfig c;
  out.push_back(ex::make_run(c));  // fp
  c.method = "sca";
  out.push_back(ex::make_run(c));
  c.sca_theta_lr_scale = 10;
  out.push_back(ex::make_run(c));
  c.init_from = ex::make_run(tb::core::TrainConfig{}).run_key;
  out.push_back(ex::make_run(c));
  c = tb::core::TrainConfig{};
  c.method = "twn";
  out.push_back(ex::make_run(c));
  return out;
}

// What a worker records for the run when its data is missing: the row of a failed attempt,
// config columns and all.
tb::storage::RunRecord executed(const ex::RunSpec& spec, const std::string& data_root) {
  static const std::string kSweep = "s";  // assigned from a std::string: GCC 12 false -Wrestrict on a literal
  tb::orchestrator::WorkItem w;
  w.run_key = spec.run_key;
  w.sweep = kSweep;
  w.canonical_toml = spec.canonical_toml;
  w.weights_path = data_root + "/" + spec.run_key + ".h5";
  w.weights_ref = spec.run_key + ".h5";
  w.data_root = data_root;
  w.init_from = spec.train.init_from;
  tb::orchestrator::RunExecutor executor(0);
  return executor.execute(w, [](const tb::storage::EpochRecord&) {}).run;
}

TEST(StoredConfig, AWorkerRecordsTheKeysTheCanonicalTextLeavesOut) {
  TmpDir tmp;
  for (const ex::RunSpec& spec : runs()) {
    SCOPED_TRACE(spec.canonical_toml);
    const tb::storage::RunRecord r = executed(spec, tmp.path().string());
    EXPECT_EQ(r.status, "failed") << r.error;  // no data files
    EXPECT_EQ(r.config_toml, spec.canonical_toml);
    EXPECT_EQ(r.config_json, ex::config_json(spec.stored_toml));
    if (spec.train.method == "sca") {
      EXPECT_NE(r.config_json.find("\"sca_lambda_final\":0.0,"), std::string::npos) << r.config_json;
    } else if (spec.train.method == "fp") {
      EXPECT_NE(r.config_json.find("\"fp_init_std\":0.0,"), std::string::npos) << r.config_json;
    }
  }
}

// A row that a version-6 ternbench wrote (config_json from the canonical text) migrates to the
// text a row written now has, so that `ternbench merge` finds the two identical.
TEST(StoredConfig, VersionSevenGivesAnOlderRowTheTextANewRowHas) {
  TmpDir tmp;
  const std::string path = tmp.file("v6.sqlite");
  const std::vector<ex::RunSpec> specs = runs();
  {
    MetricsDb db(path);
    for (const ex::RunSpec& spec : specs) {
      tb::storage::RunRecord r = executed(spec, tmp.path().string());
      r.config_json = ex::config_json(spec.canonical_toml);
      db.start_run(r);
    }
    // The tables of version 6 are those of version 9 without `inference` and `writer`.
    db.exec("DROP TABLE inference; DROP TABLE writer; DROP TABLE superseded_runs; PRAGMA user_version = 6");
  }
  MetricsDb db(path);
  for (const ex::RunSpec& spec : specs) {
    SCOPED_TRACE(spec.canonical_toml);
    EXPECT_EQ(db.run(spec.run_key)->config_json, ex::config_json(spec.stored_toml));
  }
}

}  // namespace
