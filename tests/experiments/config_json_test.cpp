#include "ternbench/experiments/config_json.hpp"

#include <gtest/gtest.h>

#include "ternbench/base/error.hpp"
#include "ternbench/experiments/sweep.hpp"

namespace {

namespace ex = ternbench::experiments;

TEST(ConfigJson, OneObjectWithTheTrainKeysAndShortestNumbers) {
  ternbench::core::TrainConfig c;
  c.method = "sca";
  c.model = "custom";
  c.layers = {ternbench::core::parse_layer_spec("dense(10)")};
  c.lr_milestones = {3, 5};
  const std::string j = ex::config_json(ex::make_run(c).canonical_toml);
  EXPECT_EQ(j.front(), '{');
  EXPECT_EQ(j.back(), '}');
  EXPECT_EQ(j.find('\n'), std::string::npos);
  EXPECT_NE(j.find("\"method\":\"sca\""), std::string::npos) << j;
  EXPECT_NE(j.find("\"sca_alpha\":0.5,"), std::string::npos) << j;
  EXPECT_NE(j.find("\"lr\":0.05,"), std::string::npos) << j;          // not 0.050000000000000003
  EXPECT_NE(j.find("\"lr_min\":0.0,"), std::string::npos) << j;       // a real stays a real
  EXPECT_NE(j.find("\"epochs\":10,"), std::string::npos) << j;        // an integer stays one
  EXPECT_NE(j.find("\"lr_milestones\":[3,5]"), std::string::npos) << j;
  EXPECT_NE(j.find("\"layers\":[\"dense(10)\"]"), std::string::npos) << j;
  EXPECT_NE(j.find("\"augment\":false"), std::string::npos) << j;
  EXPECT_EQ(j.find("delta_factor"), std::string::npos) << j;  // a twn key is not an sca run's
}

// What runs.config_json holds: the stored text, with the keys the canonical text leaves out at
// their default, so that the results view reads them without knowing the methods.
TEST(ConfigJson, TheStoredTextHasTheDefaultsTheCanonicalTextLeavesOut) {
  ternbench::core::TrainConfig c;
  c.method = "sca";
  const ex::RunSpec sca = ex::make_run(c);
  const std::string j = ex::config_json(sca.stored_toml);
  EXPECT_NE(j.find("\"sca_lambda_final\":0.0,"), std::string::npos) << j;
  EXPECT_NE(j.find("\"sca_theta_lr_scale\":1.0,"), std::string::npos) << j;
  EXPECT_EQ(j.find("init_from"), std::string::npos) << j;  // no warm start: no key, as runs.init_from is NULL
  EXPECT_EQ(ex::config_json(sca.canonical_toml).find("sca_theta_lr_scale"), std::string::npos);
  c.method = "fp";
  const std::string fp = ex::config_json(ex::make_run(c).stored_toml);
  EXPECT_NE(fp.find("\"fp_init_std\":0.0,"), std::string::npos) << fp;
  EXPECT_EQ(fp.find("sca_"), std::string::npos) << fp;
}

TEST(ConfigJson, TextThatIsNotACanonicalConfigIsRefused) {
  EXPECT_THROW((void)ex::config_json("x = ["), ternbench::ConfigError);
  EXPECT_THROW((void)ex::config_json("[sweep]\nname = \"a\"\n"), ternbench::ConfigError);
}

}  // namespace
