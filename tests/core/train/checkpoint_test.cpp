// Resuming from the state saved after any epoch ends exactly where an uninterrupted run
// ends, for every method (including random streams: stochastic BinaryConnect, dropout,
// augmentation) and across stage boundaries.
#include <gtest/gtest.h>

#include <cmath>
#include <functional>
#include <string>
#include <vector>

#include "support/toy_data.hpp"
#include "ternbench/base/error.hpp"
#include "ternbench/core/train/checkpoint.hpp"
#include "ternbench/core/train/trainer.hpp"

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

void expect_same_layers(const std::vector<LayerStats>& a, const std::vector<LayerStats>& b, const std::string& what) {
  ASSERT_EQ(a.size(), b.size()) << what;
  for (std::size_t i = 0; i < a.size(); ++i) {
    const LayerStats &x = a[i], &y = b[i];
    const std::string where = what + " " + x.name;
    EXPECT_EQ(x.name, y.name) << where;
    EXPECT_EQ(x.precision, y.precision) << where;
    EXPECT_EQ(x.rows, y.rows) << where;
    EXPECT_EQ(x.cols, y.cols) << where;
    EXPECT_EQ(x.n, y.n) << where;
    EXPECT_EQ(x.n_zero, y.n_zero) << where;
    EXPECT_EQ(x.n_pos, y.n_pos) << where;
    EXPECT_EQ(x.n_neg, y.n_neg) << where;
    EXPECT_EQ(x.sparsity, y.sparsity) << where;
    EXPECT_EQ(x.scale, y.scale) << where;
    EXPECT_EQ(x.delta, y.delta) << where;
    EXPECT_EQ(x.bits, y.bits) << where;
    EXPECT_EQ(x.n_scales, y.n_scales) << where;
    EXPECT_EQ(std::isnan(x.codes_changed), std::isnan(y.codes_changed)) << where;
    if (!std::isnan(x.codes_changed)) {
      EXPECT_EQ(x.codes_changed, y.codes_changed) << where;
    }
  }
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
    expect_same_layers(x.layers, y.layers, what + " epoch " + std::to_string(x.epoch));
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

// Resuming replays the restored epochs with their layer statistics, as first reported.
TEST(Checkpoint, ReplayedEpochsCarryTheirLayerStatistics) {
  const DataSplit data = toy_data(100, 40);
  const TrainConfig cfg = config("faraone");  // two stages: pruning changes the layers between them
  std::vector<TrainState> states;
  std::vector<EpochMetrics> first;
  Checkpointing save;
  save.save = [&](const TrainState& s) { states.push_back(s); };
  (void)train(cfg, data, [&](const EpochMetrics& m) { first.push_back(m); }, save);
  ASSERT_EQ(states.size(), 3u);  // none after the last epoch
  ASSERT_EQ(first.size(), 4u);
  std::vector<EpochMetrics> replayed;
  Checkpointing resume;
  resume.resume = &states[2];
  (void)train(cfg, data, [&](const EpochMetrics& m) { replayed.push_back(m); }, resume);
  ASSERT_EQ(replayed.size(), 4u);
  for (std::size_t i = 0; i < 4; ++i) {
    EXPECT_EQ(replayed[i].layers.size(), 3u);
    expect_same_layers(first[i].layers, replayed[i].layers, "epoch " + std::to_string(i + 1));
  }
}

TrainState without(TrainState s, const std::string& name) {
  std::erase_if(s.tensors, [&](const NamedTensor& t) { return t.name == name; });
  return s;
}

// A checkpoint written before per-epoch layer statistics still resumes: its epochs come
// back without layers, the epochs trained after it have them, and training ends the same.
TEST(Checkpoint, OlderStateWithoutLayerHistoryResumesWithoutTheirLayers) {
  const DataSplit data = toy_data(100, 40);
  const TrainConfig cfg = config("twn");
  std::vector<TrainState> states;
  Checkpointing save;
  save.save = [&](const TrainState& s) { states.push_back(s); };
  const TrainResult full = train(cfg, data, {}, save);
  const TrainState old = without(without(states[0], "history/epoch_layers"), "history/epoch_layer_names");
  Checkpointing resume;
  resume.resume = &old;
  const TrainResult r = train(cfg, data, {}, resume);
  ASSERT_EQ(r.epochs.size(), 3u);
  EXPECT_TRUE(r.epochs[0].layers.empty());
  expect_same_layers(full.epochs[1].layers, r.epochs[1].layers, "epoch 2");
  expect_same_layers(full.epochs[2].layers, r.epochs[2].layers, "epoch 3");
  ASSERT_EQ(full.weights.size(), r.weights.size());
  for (std::size_t i = 0; i < r.weights.size(); ++i) EXPECT_EQ(full.weights[i].data, r.weights[i].data);
}

// A checkpoint written before codes_changed resumes too: the run's codes at its start are
// not known any more, so no epoch after it has a share, and training ends the same.
TEST(Checkpoint, OlderStateWithoutInitCodesResumesWithoutCodesChanged) {
  const DataSplit data = toy_data(100, 40);
  const TrainConfig cfg = config("twn");
  std::vector<TrainState> states;
  Checkpointing save;
  save.save = [&](const TrainState& s) { states.push_back(s); };
  const TrainResult full = train(cfg, data, {}, save);
  ASSERT_FALSE(std::isnan(full.epochs[0].layers[0].codes_changed));
  TrainState old = without(states[0], "history/epoch_layer_codes_changed");
  std::erase_if(old.tensors, [](const NamedTensor& t) { return t.name.starts_with("init_codes/"); });
  Checkpointing resume;
  resume.resume = &old;
  const TrainResult r = train(cfg, data, {}, resume);
  ASSERT_EQ(r.epochs.size(), 3u);
  for (const EpochMetrics& m : r.epochs) EXPECT_TRUE(std::isnan(m.layers[0].codes_changed)) << m.epoch;
  ASSERT_EQ(full.weights.size(), r.weights.size());
  for (std::size_t i = 0; i < r.weights.size(); ++i) EXPECT_EQ(full.weights[i].data, r.weights[i].data);
}

std::string resume_error(const TrainConfig& cfg, const DataSplit& data, const TrainState& s) {
  Checkpointing resume;
  resume.resume = &s;
  try {
    (void)train(cfg, data, {}, resume);
  } catch (const Error& e) {
    return e.what();
  }
  return "(no error)";
}

TEST(Checkpoint, DamagedLayerHistoryIsRefusedNotReadPastItsEnd) {
  const DataSplit data = toy_data(50, 20);
  TrainConfig cfg = config("twn");
  cfg.epochs = 3;
  std::vector<TrainState> states;
  Checkpointing save;
  save.save = [&](const TrainState& s) { states.push_back(s); };
  (void)train(cfg, data, {}, save);
  ASSERT_EQ(states.size(), 2u);
  const TrainState& good = states[1];  // two epochs of history
  auto edited = [&](const std::function<void(NamedTensor&)>& edit) {
    TrainState s = good;
    for (NamedTensor& t : s.tensors) {
      if (t.name == "history/epoch_layers") edit(t);
    }
    return s;
  };
  EXPECT_NE(resume_error(cfg, data, edited([](NamedTensor& t) { t.f64.pop_back(); })).find("epoch_layers"),
            std::string::npos);
  EXPECT_NE(resume_error(cfg, data, edited([](NamedTensor& t) { t.f64[0] = 2; })).find("epoch_layers"),
            std::string::npos);  // epoch index past the history
  EXPECT_NE(resume_error(cfg, data, edited([](NamedTensor& t) { t.f64[1] = 7; })).find("epoch_layers"),
            std::string::npos);  // no such name
  EXPECT_NE(resume_error(cfg, data, without(good, "history/epoch_layer_names")).find("layer history"),
            std::string::npos);
  TrainState short_changed = good;
  for (NamedTensor& t : short_changed.tensors) {
    if (t.name == "history/epoch_layer_codes_changed") t.f64.pop_back();
  }
  EXPECT_NE(resume_error(cfg, data, short_changed).find("epoch_layer_codes_changed"), std::string::npos);
  TrainState bad_code = good, short_codes = good;
  for (NamedTensor& t : bad_code.tensors) {
    if (t.name == "init_codes/dense0/W") t.u8[3] = 7;
  }
  for (NamedTensor& t : short_codes.tensors) {
    if (t.name == "init_codes/dense0/W") t.u8.pop_back();
  }
  EXPECT_NE(resume_error(cfg, data, bad_code).find("init_codes/dense0/W"), std::string::npos);
  EXPECT_NE(resume_error(cfg, data, short_codes).find("init_codes/dense0/W"), std::string::npos);
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
