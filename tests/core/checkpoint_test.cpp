// Resuming from the state saved after any epoch ends exactly where an uninterrupted run
// ends, for every method (including random streams: stochastic BinaryConnect, dropout,
// augmentation) and across stage boundaries.
#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <vector>

#include "support/toy_data.hpp"
#include "ternbench/base/error.hpp"
#include "ternbench/core/checkpoint.hpp"
#include "ternbench/core/trainer.hpp"

namespace ternbench::core {
namespace {

using testing::toy_data;

TrainConfig config(const std::string& method) {
  TrainConfig cfg;
  cfg.method = method;
  cfg.model = "custom";
  for (const char* l : {"dense(32)", "batchnorm", "relu", "dropout(0.2)", "dense(16)", "batchnorm", "relu", "dense(10)"})
    cfg.layers.push_back(parse_layer_spec(l));
  cfg.epochs = 3;
  cfg.batch_size = 25;
  cfg.lr = 0.05;
  cfg.seed = 11;
  cfg.optimizer = method == "ttq" ? "adam" : "sgd";
  cfg.bc_stochastic = true;
  cfg.sca_finetune_epochs = 1;
  cfg.faraone_stage1_epochs = 2;
  cfg.faraone_retrain_epochs = 2;
  cfg.faraone_retrain_quantizer = "ttq";
  return cfg;
}

void expect_same(const TrainResult& a, const TrainResult& b, const std::string& what) {
  ASSERT_EQ(a.epochs.size(), b.epochs.size()) << what;
  for (std::size_t i = 0; i < a.epochs.size(); ++i) {
    const EpochMetrics &x = a.epochs[i], &y = b.epochs[i];
    EXPECT_EQ(x.epoch, y.epoch) << what;
    EXPECT_EQ(x.stage, y.stage) << what;
    EXPECT_EQ(x.train_loss, y.train_loss) << what << " epoch " << x.epoch;
    EXPECT_EQ(x.test_loss, y.test_loss) << what << " epoch " << x.epoch;
    EXPECT_EQ(x.sparsity, y.sparsity) << what;
    EXPECT_EQ(std::isnan(x.reg_penalty), std::isnan(y.reg_penalty)) << what;
    if (!std::isnan(x.reg_penalty)) {
      EXPECT_EQ(x.reg_penalty, y.reg_penalty) << what;
    }
  }
  ASSERT_EQ(a.stages.size(), b.stages.size()) << what;
  for (std::size_t i = 0; i < a.stages.size(); ++i) {
    EXPECT_EQ(a.stages[i].stage, b.stages[i].stage) << what;
    EXPECT_EQ(a.stages[i].test_acc, b.stages[i].test_acc) << what;
  }
  ASSERT_EQ(a.weights.size(), b.weights.size()) << what;
  for (std::size_t i = 0; i < a.weights.size(); ++i) {
    EXPECT_EQ(a.weights[i].name, b.weights[i].name) << what;
    EXPECT_EQ(a.weights[i].data, b.weights[i].data) << what << " " << a.weights[i].name;
    EXPECT_EQ(a.weights[i].u8, b.weights[i].u8) << what << " " << a.weights[i].name;
  }
}

TEST(Checkpoint, ResumingAfterAnyEpochEndsBitIdentical) {
  const DataSplit data = toy_data(100, 40);
  for (const std::string method : {"fp", "binaryconnect", "ttq", "sca", "faraone"}) {
    TrainConfig cfg = config(method);
    cfg.augment = false;
    std::vector<TrainState> states;
    Checkpointing save;
    save.save = [&](const TrainState& s) { states.push_back(s); };
    const TrainResult full = train(cfg, data, {}, save);
    // Every epoch but the last: the final model is stored as the run's weights instead.
    ASSERT_EQ(static_cast<int>(full.epochs.size()), planned_epochs(cfg)) << method;
    ASSERT_EQ(states.size() + 1, full.epochs.size()) << method;
    for (std::size_t k = 0; k < states.size(); ++k) {
      EXPECT_EQ(states[k].epochs_done, static_cast<int>(k) + 1);
      std::vector<int> reported;
      Checkpointing resume;
      resume.resume = &states[k];
      const TrainResult r = train(cfg, data, [&](const EpochMetrics& m) { reported.push_back(m.epoch); }, resume);
      expect_same(full, r, method + " resumed after epoch " + std::to_string(k + 1));
      // Every epoch reaches the callback: the restored ones are replayed first.
      ASSERT_EQ(reported.size(), full.epochs.size()) << method;
      for (std::size_t i = 0; i < reported.size(); ++i) EXPECT_EQ(reported[i], static_cast<int>(i) + 1);
    }
  }
}

TEST(Checkpoint, AugmentedImagesResumeBitIdentical) {
  const DataSplit data = toy_data(80, 30);
  TrainConfig cfg = config("twn");
  cfg.normalize = true;
  cfg.augment = true;
  cfg.crop_padding = 2;
  std::vector<TrainState> states;
  Checkpointing save;
  save.save = [&](const TrainState& s) { states.push_back(s); };
  const TrainResult full = train(cfg, data, {}, save);
  Checkpointing resume;
  resume.resume = &states[0];
  expect_same(full, train(cfg, data, {}, resume), "twn resumed after epoch 1");
}

TEST(Checkpoint, StateOfAnotherModelIsRefusedNamingTheTensor) {
  const DataSplit data = toy_data(50, 20);
  TrainConfig cfg = config("fp");
  cfg.epochs = 2;
  std::vector<TrainState> states;
  Checkpointing save;
  save.save = [&](const TrainState& s) { states.push_back(s); };
  (void)train(cfg, data, {}, save);
  TrainConfig other = cfg;
  other.layers[0] = parse_layer_spec("dense(24)");
  Checkpointing resume;
  resume.resume = &states[0];
  try {
    (void)train(other, data, {}, resume);
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("param/dense0/W"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace ternbench::core
