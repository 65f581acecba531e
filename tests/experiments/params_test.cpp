// The sweep file's key table takes each method's own keys from the method registry: under
// that method's name, with the method's rule, so a file and a config built in code agree.
#include <gtest/gtest.h>

#include <string>

#include "support/error_of.hpp"
#include "ternbench/base/error.hpp"
#include "ternbench/core/methods/method.hpp"
#include "ternbench/core/train/dataset.hpp"
#include "ternbench/experiments/params.hpp"
#include "ternbench/experiments/sweep.hpp"

namespace ex = ternbench::experiments;
namespace core = ternbench::core;

namespace {

const ex::ParamInfo* param(const std::string& name) {
  for (const ex::ParamInfo& p : ex::train_params())
    if (p.name == name) return &p;
  return nullptr;
}

std::string error_of(const std::string& text) {
  return ternbench::testing::error_of<ternbench::ConfigError>([&] { (void)ex::parse_sweep(text, "m.toml"); });
}

TEST(Params, EveryMethodOptionIsAKeyOfItsMethodOnly) {
  for (const core::Method* m : core::methods()) {
    for (const core::MethodOption& o : m->options()) {
      const ex::ParamInfo* p = param(o.name);
      ASSERT_NE(p, nullptr) << o.name;
      EXPECT_EQ(p->methods, std::vector<std::string>{m->name()}) << o.name;
      EXPECT_EQ(p->description, o.help) << o.name;
      EXPECT_EQ(p->omitted_at_default, o.omitted_at_default) << o.name;
      EXPECT_FALSE(p->required) << o.name;
    }
  }
  EXPECT_EQ(param("sca_wdr")->choices, (std::vector<std::string>{"sum", "mean"}));
  EXPECT_EQ(param("sca_alpha")->check, "(0.0, 2.0)");
  EXPECT_EQ(param("sca_finetune_epochs")->type, ex::ParamType::kInteger);
}

TEST(Params, AMethodOptionIsCheckedInTheFileByItsDeclaredRule) {
  const std::string head = "[sweep]\nname = \"m\"\n[train]\ndataset = \"mnist\"\nmethod = \"ttq\"\n";
  EXPECT_EQ(error_of(head + "ttq_threshold = 0.5\n"), ternbench::testing::kNoError);
  const std::string e = error_of(head + "ttq_threshold = 1.0\n");
  EXPECT_NE(e.find("train.ttq_threshold"), std::string::npos) << e;
  EXPECT_NE(e.find("must be in [0.0, 1.0), got 1.0"), std::string::npos) << e;
  const std::string other = error_of(head + "sca_alpha = 0.5\n");
  EXPECT_NE(other.find("sca_alpha"), std::string::npos) << other;  // sca's key, no sca run
}

// `ternbench params` must describe the subset the trainer takes: on a file sorted by class,
// the first N images would all be of class 0, while the rule takes the classes in turn.
TEST(Params, LimitsAreDescribedAsTheClassByClassSubsetTheTrainerTakes) {
  core::Dataset d;
  d.channels = d.height = d.width = 1;
  d.num_classes = 3;
  d.labels = {0, 0, 0, 1, 1, 1, 2, 2, 2};
  d.images = Eigen::MatrixXf::Zero(1, 9);
  for (int i = 0; i < 9; ++i) d.images(0, i) = static_cast<float>(i);
  core::Dataset sub;
  ASSERT_TRUE(core::limited_subset(d, 4, sub));
  EXPECT_EQ(sub.labels, (std::vector<std::uint8_t>{0, 1, 2, 0}));
  EXPECT_EQ(sub.images, (Eigen::MatrixXf(1, 4) << 0, 3, 6, 1).finished());
  for (const char* key : {"train_limit", "test_limit"}) {
    const std::string& text = param(key)->description;
    EXPECT_NE(text.find("class by class in turn"), std::string::npos) << key << ": " << text;
    EXPECT_EQ(text.find("first N"), std::string::npos) << key << ": " << text;
  }
  EXPECT_NE(ex::params_help().find("every class's first image in file order, then every class's second"),
            std::string::npos);
}

}  // namespace
