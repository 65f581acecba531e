// The methods' own config keys: the rules check_option applies, and the registry's
// declarations (one owner per key, defaults that pass their own rule).
#include <gtest/gtest.h>

#include <limits>
#include <set>
#include <string>

#include "support/error_of.hpp"
#include "ternbench/base/error.hpp"
#include "ternbench/core/methods/method.hpp"
#include "ternbench/core/methods/option.hpp"
#include "ternbench/core/methods/quantizer.hpp"

namespace ternbench::core {
namespace {

using testing::kNoError;

std::string problem(const MethodOption& option, const TrainConfig& cfg) {
  return testing::error_of([&] { check_option(option, cfg); });
}

TEST(MethodOption, RealRangeHonoursOpenAndClosedBounds) {
  const MethodOption open = real_option("sca_alpha", &TrainConfig::sca_alpha, 0, true, 2, "alpha");
  TrainConfig cfg;
  cfg.sca_alpha = 1.0;
  EXPECT_EQ(problem(open, cfg), kNoError);
  cfg.sca_alpha = 0.0;
  EXPECT_EQ(problem(open, cfg), "train config: sca_alpha must be a finite number in (0, 2) (got 0)");
  cfg.sca_alpha = 2.0;
  EXPECT_EQ(problem(open, cfg), "train config: sca_alpha must be a finite number in (0, 2) (got 2)");
  const MethodOption closed = real_option("sca_lambda", &TrainConfig::sca_lambda, 0, false, kNoBound, "lambda");
  cfg.sca_lambda = 0.0;
  EXPECT_EQ(problem(closed, cfg), kNoError);
  cfg.sca_lambda = -0.5;
  EXPECT_EQ(problem(closed, cfg), "train config: sca_lambda must be a finite number in [0, inf) (got -0.5)");
  cfg.sca_lambda = std::numeric_limits<double>::infinity();
  EXPECT_NE(problem(closed, cfg).find("must be a finite number"), std::string::npos);
}

TEST(MethodOption, IntChoiceAndFlag) {
  TrainConfig cfg;
  const MethodOption epochs = int_option("sca_finetune_epochs", &TrainConfig::sca_finetune_epochs, 0, "epochs");
  cfg.sca_finetune_epochs = 0;
  EXPECT_EQ(problem(epochs, cfg), kNoError);
  cfg.sca_finetune_epochs = -1;
  EXPECT_EQ(problem(epochs, cfg), "train config: sca_finetune_epochs must be >= 0 (got -1)");
  const MethodOption form = choice_option("sca_wdr", &TrainConfig::sca_wdr, {"sum", "mean"}, "form", "form");
  cfg.sca_wdr = "avg";
  EXPECT_EQ(problem(form, cfg), "train config: sca_wdr 'avg' is unknown (valid: sum, mean)");
  const MethodOption flag = flag_option("twn_per_channel", &TrainConfig::twn_per_channel, "flag");
  cfg.twn_per_channel = true;
  EXPECT_EQ(problem(flag, cfg), kNoError);
}

TEST(MethodOption, EveryKeyHasOneOwnerAndItsDefaultPasses) {
  const TrainConfig defaults;
  std::set<std::string> seen;
  int n = 0;
  for (const Method* m : methods()) {
    for (const MethodOption& o : m->options()) {
      EXPECT_TRUE(seen.insert(o.name).second) << o.name << " is declared twice";
      EXPECT_EQ(problem(o, defaults), kNoError) << m->name() << ": " << o.name;
      EXPECT_FALSE(o.help.empty()) << o.name;
      ++n;
    }
  }
  EXPECT_GE(n, 20);  // sca's, faraone's, twn's, bc's, ttq's and fp's keys
  EXPECT_TRUE(seen.count("sca_alpha"));
  EXPECT_TRUE(seen.count("faraone_target_sparsity"));
}

// check_method_config runs the declared rules and then the method's own cross-key check.
TEST(MethodOption, CheckMethodConfigRunsDeclaredRulesAndCrossKeyChecks) {
  TrainConfig cfg;
  cfg.ttq_threshold = 1.0;  // [0, 1): the sweep file's rule, now the trainer's too
  EXPECT_THROW(check_method_config(cfg), Error);
  cfg = {};
  cfg.sca_lambda = 0;
  cfg.sca_lambda_final = 0.1;
  try {
    check_method_config(cfg);
    FAIL() << "expected ternbench::Error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("sca_lambda_final needs sca_lambda > 0"), std::string::npos) << e.what();
  }
}

TEST(MethodOption, ControlKeyIsOneOfTheMethodsOwnOptions) {
  for (const Method* m : methods()) {
    const std::string key = m->control_key();
    if (key.empty()) continue;
    bool own = false;
    for (const MethodOption& o : m->options()) own = own || o.name == key;
    EXPECT_TRUE(own) << m->name() << ": control key " << key;
  }
  EXPECT_STREQ(find_method("sca").control_key(), "sca_alpha");
  EXPECT_STREQ(find_method("binaryconnect").title(), "BinaryConnect");
  EXPECT_EQ(lookup_method("twm"), nullptr);
}

}  // namespace
}  // namespace ternbench::core
