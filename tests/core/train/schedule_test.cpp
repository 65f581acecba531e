// Learning-rate schedules at hand-computed points, including warm-up.
#include "ternbench/core/train/schedule.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <numbers>
#include <string>

#include "ternbench/base/error.hpp"

namespace ternbench::core {
namespace {

TrainConfig base(const std::string& schedule) {
  TrainConfig cfg;
  cfg.lr = 0.1;
  cfg.epochs = 10;
  cfg.lr_schedule = schedule;
  return cfg;
}

TEST(Schedule, ConstantIgnoresProgress) {
  const TrainConfig cfg = base("constant");
  for (double p : {0.0, 0.5, 3.0, 9.99}) EXPECT_EQ(lr_at(cfg, p), 0.1) << p;
}

TEST(Schedule, MultistepDecaysFromTheEpochAfterEachMilestone) {
  TrainConfig cfg = base("multistep");
  cfg.lr_milestones = {3, 6};
  cfg.lr_gamma = 0.5;
  // Milestone 3: epochs 0..2 (0-based) run at lr, epoch 3 onward at lr * gamma.
  EXPECT_EQ(lr_at(cfg, 0.0), 0.1);
  EXPECT_EQ(lr_at(cfg, 2.99), 0.1);
  EXPECT_EQ(lr_at(cfg, 3.0), 0.05);
  EXPECT_EQ(lr_at(cfg, 5.5), 0.05);
  EXPECT_EQ(lr_at(cfg, 6.0), 0.025);
  EXPECT_EQ(lr_at(cfg, 9.9), 0.025);
}

TEST(Schedule, MultistepMatchesTheTtqRecipe) {
  // TTQ ResNet-20: lr 0.1 -> 0.01 at epoch 82 -> 0.001 at 123 (the TTQ paper's schedule, docs/training.md).
  TrainConfig cfg = base("multistep");
  cfg.epochs = 160;
  cfg.lr_milestones = {82, 123};
  EXPECT_DOUBLE_EQ(lr_at(cfg, 81.9), 0.1);
  EXPECT_DOUBLE_EQ(lr_at(cfg, 82.0), 0.01);
  EXPECT_DOUBLE_EQ(lr_at(cfg, 123.0), 0.001);
  EXPECT_DOUBLE_EQ(lr_at(cfg, 159.5), 0.001);
}

TEST(Schedule, CosineFallsFromLrToLrMinOverTheRun) {
  TrainConfig cfg = base("cosine");
  cfg.lr_min = 0.02;
  // lr_min + (lr - lr_min) * (1 + cos(pi p / 10)) / 2, with lr - lr_min = 0.08:
  EXPECT_DOUBLE_EQ(lr_at(cfg, 0.0), 0.1);                   // cos 0 = 1
  EXPECT_DOUBLE_EQ(lr_at(cfg, 5.0), 0.06);                  // cos(pi/2) = 0: halfway, 0.02 + 0.04
  EXPECT_NEAR(lr_at(cfg, 2.5), 0.02 + 0.04 * (1 + std::sqrt(0.5)), 1e-15);  // cos(pi/4)
  EXPECT_NEAR(lr_at(cfg, 7.5), 0.02 + 0.04 * (1 - std::sqrt(0.5)), 1e-15);  // cos(3pi/4)
  EXPECT_NEAR(lr_at(cfg, 10.0), 0.02, 1e-15);               // cos(pi) = -1
  // Per step, not per epoch: a fraction of an epoch already moves the rate.
  EXPECT_LT(lr_at(cfg, 0.5), 0.1);
}

TEST(Schedule, ExponentialIsContinuousInProgress) {
  TrainConfig cfg = base("exponential");
  cfg.lr_gamma = 0.25;
  EXPECT_DOUBLE_EQ(lr_at(cfg, 0.0), 0.1);
  EXPECT_DOUBLE_EQ(lr_at(cfg, 1.0), 0.025);
  EXPECT_DOUBLE_EQ(lr_at(cfg, 2.0), 0.00625);
  EXPECT_DOUBLE_EQ(lr_at(cfg, 0.5), 0.05);    // 0.25^0.5 = 0.5
  EXPECT_DOUBLE_EQ(lr_at(cfg, 1.5), 0.0125);  // 0.25^1.5 = 0.125
}

TEST(Schedule, WarmupScalesTheScheduleLinearlyFromZero) {
  TrainConfig cfg = base("constant");
  cfg.warmup_epochs = 2;
  EXPECT_EQ(lr_at(cfg, 0.0), 0.0);
  EXPECT_DOUBLE_EQ(lr_at(cfg, 0.5), 0.025);  // 0.1 * 0.5 / 2
  EXPECT_DOUBLE_EQ(lr_at(cfg, 1.0), 0.05);
  EXPECT_DOUBLE_EQ(lr_at(cfg, 1.5), 0.075);
  EXPECT_EQ(lr_at(cfg, 2.0), 0.1);
  EXPECT_EQ(lr_at(cfg, 7.0), 0.1);

  // Warm-up multiplies whatever the schedule gives at the same point.
  cfg.lr_schedule = "cosine";
  cfg.lr_min = 0;
  // At p = 1: cosine gives 0.05 * (1 + cos(pi/10)) = 0.0975528..., times 1/2.
  EXPECT_NEAR(lr_at(cfg, 1.0), 0.5 * 0.05 * (1 + std::cos(std::numbers::pi / 10)), 1e-15);
  EXPECT_NEAR(lr_at(cfg, 2.0), 0.05 * (1 + std::cos(std::numbers::pi / 5)), 1e-15);
}

TEST(Schedule, UnknownNameListsTheValidOnes) {
  const TrainConfig cfg = base("linear");
  try {
    lr_at(cfg, 0);
    ADD_FAILURE() << "expected an Error";
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(), "lr_schedule 'linear' is unknown (valid: constant, multistep, cosine, exponential)");
  }
}

}  // namespace
}  // namespace ternbench::core
