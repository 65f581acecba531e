// Trainer: a toy problem with a known answer, determinism (also with augmentation and two
// threads), optimizers and schedules, normalization, thread use, divergence, results,
// validation.
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <set>
#include <string>

#include "ternbench/base/error.hpp"
#include "ternbench/base/rng.hpp"
#include "ternbench/core/train/trainer.hpp"
#include "support/toy_data.hpp"

namespace ternbench::core {
namespace {

constexpr std::uint64_t kDataSeed = 2024;
using testing::toy_data;

TrainConfig small_config() {
  TrainConfig cfg;
  cfg.epochs = 3;
  cfg.batch_size = 32;
  cfg.lr = 0.05;
  cfg.momentum = 0.9;
  cfg.seed = 17;
  cfg.threads = 1;
  return cfg;
}

TEST(Trainer, LinearlySeparableToyReachesFullTestAccuracy) {
  const DataSplit data = toy_data(300, 100);
  for (const char* method : {"fp", "twn"}) {
    TrainConfig cfg = small_config();
    cfg.method = method;
    const TrainResult r = train(cfg, data);
    ASSERT_EQ(r.epochs.size(), 3u) << method;
    EXPECT_FALSE(r.diverged);
    EXPECT_EQ(r.epochs.back().test_acc, 1.0) << method;
    EXPECT_LT(r.epochs.back().train_loss, r.epochs.front().train_loss) << method;
  }
}

TEST(Trainer, SameConfigGivesBitIdenticalMetricsAndWeights) {
  const DataSplit data = toy_data(150, 60);
  TrainConfig cfg = small_config();
  cfg.method = "twn";
  cfg.batch_size = 20;  // 150 = 7 * 20 + 10: exercises the partial last batch
  cfg.weight_decay = 1e-4;
  const TrainResult a = train(cfg, data);
  const TrainResult b = train(cfg, data);
  ASSERT_EQ(a.epochs.size(), b.epochs.size());
  for (std::size_t i = 0; i < a.epochs.size(); ++i) {
    EXPECT_EQ(a.epochs[i].train_loss, b.epochs[i].train_loss);
    EXPECT_EQ(a.epochs[i].train_acc, b.epochs[i].train_acc);
    EXPECT_EQ(a.epochs[i].test_loss, b.epochs[i].test_loss);
    EXPECT_EQ(a.epochs[i].test_acc, b.epochs[i].test_acc);
    EXPECT_EQ(a.epochs[i].sparsity, b.epochs[i].sparsity);
  }
  ASSERT_EQ(a.weights.size(), b.weights.size());
  for (std::size_t i = 0; i < a.weights.size(); ++i) {
    EXPECT_EQ(a.weights[i].name, b.weights[i].name);
    EXPECT_EQ(a.weights[i].data, b.weights[i].data) << a.weights[i].name;
  }

  cfg.seed += 1;
  const TrainResult c = train(cfg, data);
  EXPECT_NE(a.weights[0].data, c.weights[0].data);
}

TEST(Trainer, HugeLearningRateIsReportedAsDiverged) {
  const DataSplit data = toy_data(200, 50);
  TrainConfig cfg = small_config();
  cfg.lr = 1e12;
  cfg.epochs = 5;
  const TrainResult r = train(cfg, data);
  EXPECT_TRUE(r.diverged);
  EXPECT_LT(r.epochs.size(), 5u);
  for (const auto& e : r.epochs) EXPECT_TRUE(std::isfinite(e.test_loss));
}

TEST(Trainer, ResultDescribesTheDeployedTernaryModel) {
  const DataSplit data = toy_data(100, 40);
  TrainConfig cfg = small_config();
  cfg.method = "twn";
  cfg.epochs = 1;
  const TrainResult r = train(cfg, data);
  ASSERT_EQ(r.layers.size(), 3u);
  std::int64_t n = 0, zeros = 0;
  double bits = 0;
  for (std::size_t i = 0; i < 3; ++i) {
    const LayerStats& s = r.layers[i];
    EXPECT_EQ(s.name, "dense" + std::to_string(i) + "/W");
    EXPECT_EQ(s.n, s.rows * s.cols);
    EXPECT_EQ(s.n_neg + s.n_zero + s.n_pos, s.n);
    n += s.n;
    zeros += s.n_zero;
    bits += s.bits;
  }
  EXPECT_EQ(r.layers[0].precision, "ternary");
  EXPECT_EQ(r.layers[1].precision, "ternary");
  EXPECT_EQ(r.layers[2].precision, "fp32");  // quantize_last defaults to false
  EXPECT_EQ(r.layers[0].bits, 2.0 * 784 * 500 + 32);
  EXPECT_EQ(r.layers[2].bits, 32.0 * 300 * 10);
  EXPECT_EQ(r.layers[2].scale, 0.0);
  EXPECT_GT(r.layers[0].scale, 0.0);
  EXPECT_GT(r.layers[0].delta, 0.0);
  EXPECT_GT(r.layers[0].n_zero, 0);
  EXPECT_EQ(r.n_weights, 784 * 500 + 500 * 300 + 300 * 10);
  EXPECT_EQ(r.n_weights, n);
  EXPECT_EQ(r.n_nonzero, n - zeros);
  EXPECT_DOUBLE_EQ(r.sparsity, static_cast<double>(zeros) / static_cast<double>(n));
  EXPECT_DOUBLE_EQ(r.bits_per_weight, bits / static_cast<double>(n));
  EXPECT_DOUBLE_EQ(r.epochs.back().sparsity, r.sparsity);

  std::set<std::string> names;
  for (const auto& t : r.weights) {
    names.insert(t.name);
    std::int64_t size = 1;
    for (auto d : t.shape) size *= d;
    EXPECT_EQ(static_cast<std::size_t>(size), t.data.size() + t.u8.size()) << t.name;
  }
  EXPECT_EQ(names, (std::set<std::string>{"dense0/W", "dense0/W_latent", "dense0/W_codes", "dense0/W_scales",
                                          "dense0/b", "dense1/W", "dense1/W_latent", "dense1/W_codes",
                                          "dense1/W_scales", "dense1/b", "dense2/W", "dense2/b"}));
  // The deployed ternary matrix holds only -scale, 0 and +scale, stored row-major (out, in).
  for (const auto& t : r.weights) {
    if (t.name != "dense0/W") continue;
    EXPECT_EQ(t.shape, (std::vector<std::int64_t>{500, 784}));
    const float a = static_cast<float>(r.layers[0].scale);
    for (float v : t.data) EXPECT_TRUE(v == 0.0f || v == a || v == -a) << v;
  }
}

TEST(Trainer, CallbackSeesEveryEpochAndLimitsTruncateTheSplits) {
  const DataSplit data = toy_data(200, 80);
  TrainConfig cfg = small_config();
  cfg.train_limit = 64;
  cfg.test_limit = 25;
  std::vector<int> seen;
  const TrainResult r = train(cfg, data, [&](const EpochMetrics& m) {
    seen.push_back(m.epoch);
    // Accuracies are counts over the truncated splits.
    EXPECT_NEAR(m.test_acc * 25, std::round(m.test_acc * 25), 1e-9);
    EXPECT_NEAR(m.train_acc * 64, std::round(m.train_acc * 64), 1e-9);
    EXPECT_GE(m.seconds, 0.0);
  });
  EXPECT_EQ(seen, (std::vector<int>{1, 2, 3}));
  EXPECT_GT(r.train_seconds, 0.0);
}

TEST(Trainer, RejectsBadConfigWithTheFieldName) {
  const DataSplit data = toy_data(20, 10);
  auto message = [&](const TrainConfig& cfg) -> std::string {
    try {
      train(cfg, data);
    } catch (const Error& e) {
      return e.what();
    }
    return "no error";
  };
  TrainConfig cfg = small_config();
  cfg.epochs = 0;
  EXPECT_NE(message(cfg).find("epochs"), std::string::npos);
  cfg = small_config();
  cfg.batch_size = 0;
  EXPECT_NE(message(cfg).find("batch_size"), std::string::npos);
  cfg = small_config();
  cfg.lr = 0;
  EXPECT_NE(message(cfg).find("lr"), std::string::npos);
  cfg = small_config();
  cfg.method = "twm";
  EXPECT_NE(message(cfg).find("method 'twm' is unknown (valid: fp, "), std::string::npos);  // list grows
  cfg = small_config();
  cfg.model = "cnn";
  EXPECT_NE(message(cfg).find("mlp"), std::string::npos);

  DataSplit narrow = data;
  narrow.train.images.conservativeResize(100, Eigen::NoChange);
  EXPECT_THROW(train(small_config(), narrow), Error);
  DataSplit bad_label = data;
  bad_label.test.labels[3] = 10;
  EXPECT_THROW(train(small_config(), bad_label), Error);
}

void expect_identical(const TrainResult& a, const TrainResult& b) {
  ASSERT_EQ(a.epochs.size(), b.epochs.size());
  for (std::size_t i = 0; i < a.epochs.size(); ++i) {
    EXPECT_EQ(a.epochs[i].train_loss, b.epochs[i].train_loss) << i;
    EXPECT_EQ(a.epochs[i].train_acc, b.epochs[i].train_acc) << i;
    EXPECT_EQ(a.epochs[i].test_loss, b.epochs[i].test_loss) << i;
    EXPECT_EQ(a.epochs[i].lr, b.epochs[i].lr) << i;
  }
  ASSERT_EQ(a.weights.size(), b.weights.size());
  for (std::size_t i = 0; i < a.weights.size(); ++i) EXPECT_EQ(a.weights[i].data, b.weights[i].data) << a.weights[i].name;
}

TEST(Trainer, AugmentedNormalizedRunsAreBitIdentical) {
  const DataSplit data = toy_data(120, 40);
  TrainConfig cfg = small_config();
  cfg.epochs = 2;
  cfg.batch_size = 25;  // 120 = 4 * 25 + 20: the partial last batch is augmented too
  cfg.augment = true;
  cfg.crop_padding = 3;
  cfg.normalize = true;
  const TrainResult a = train(cfg, data);
  const TrainResult b = train(cfg, data);
  expect_identical(a, b);

  // Augmentation really changes what is trained on.
  cfg.augment = false;
  const TrainResult plain = train(cfg, data);
  EXPECT_NE(a.epochs[0].train_loss, plain.epochs[0].train_loss);
  EXPECT_NE(a.weights[0].data, plain.weights[0].data);
}

// 3x16x16 colour images: class c is a bright 4x4 square in channel c % 3 at a position set
// by c, on uniform noise.
DataSplit colour_data(std::size_t n_train, std::size_t n_test) {
  Rng rng(kDataSeed);
  auto split = [&](std::size_t n) {
    Dataset d;
    d.channels = 3;
    d.height = 16;
    d.width = 16;
    d.images.resize(3 * 16 * 16, static_cast<Eigen::Index>(n));
    d.labels.resize(n);
    for (std::size_t s = 0; s < n; ++s) {
      const auto c = static_cast<std::uint8_t>(rng.uniform_index(10));
      d.labels[s] = c;
      const auto col = static_cast<Eigen::Index>(s);
      for (Eigen::Index f = 0; f < d.images.rows(); ++f) d.images(f, col) = 0.2f * rng.uniform_float();
      const int ch = c % 3, y0 = 2 + 3 * (c / 3), x0 = 2 + 3 * (c % 4);
      for (int y = y0; y < y0 + 4; ++y)
        for (int x = x0; x < x0 + 4; ++x) d.images(ch * 256 + y * 16 + x, col) += 0.8f;
    }
    return d;
  };
  DataSplit s;
  s.name = "colour";
  s.train = split(n_train);
  s.test = split(n_test);
  return s;
}

TEST(Trainer, ConvolutionalModelOnAugmentedColourImagesIsDeterministic) {
  const DataSplit data = colour_data(60, 20);
  TrainConfig cfg = small_config();
  cfg.model = "lenet5";
  cfg.epochs = 2;
  cfg.batch_size = 16;
  cfg.augment = true;
  cfg.crop_padding = 2;
  cfg.normalize = true;
  cfg.optimizer = "adam";
  cfg.lr = 1e-3;
  cfg.lr_schedule = "cosine";
  const TrainResult a = train(cfg, data);
  ASSERT_EQ(a.epochs.size(), 2u);
  EXPECT_FALSE(a.diverged);
  EXPECT_TRUE(std::isfinite(a.epochs.back().test_loss));
  expect_identical(a, train(cfg, data));
}

TEST(Trainer, TwoThreadRunsAreBitIdentical) {
  const DataSplit data = toy_data(64, 20);
  TrainConfig cfg = small_config();
  cfg.epochs = 1;
  cfg.threads = 2;
  expect_identical(train(cfg, data), train(cfg, data));
}

TEST(Trainer, AdamAndNesterovLearnTheToyProblem) {
  const DataSplit data = toy_data(300, 100);
  TrainConfig adam = small_config();
  adam.optimizer = "adam";
  adam.lr = 1e-3;
  adam.weight_decay = 1e-4;
  TrainConfig nesterov = small_config();
  nesterov.nesterov = true;
  for (const TrainConfig& cfg : {adam, nesterov}) {
    const TrainResult r = train(cfg, data);
    ASSERT_EQ(r.epochs.size(), 3u) << cfg.optimizer;
    EXPECT_FALSE(r.diverged) << cfg.optimizer;
    EXPECT_LT(r.epochs.back().train_loss, 0.5 * r.epochs.front().train_loss) << cfg.optimizer;
    EXPECT_EQ(r.epochs.back().test_acc, 1.0) << cfg.optimizer;
  }
  // Nesterov takes different steps from plain momentum.
  EXPECT_NE(train(nesterov, data).weights[0].data, train(small_config(), data).weights[0].data);
}

TEST(Trainer, RecordsTheScheduledLearningRateOfEachEpoch) {
  const DataSplit data = toy_data(64, 20);
  TrainConfig cfg = small_config();
  cfg.epochs = 4;
  cfg.lr = 0.08;
  auto lrs = [&](const TrainConfig& c) {
    std::vector<double> out;
    for (const auto& e : train(c, data).epochs) out.push_back(e.lr);
    return out;
  };
  EXPECT_EQ(lrs(cfg), (std::vector<double>{0.08, 0.08, 0.08, 0.08}));

  cfg.lr_schedule = "multistep";
  cfg.lr_milestones = {1, 3};
  cfg.lr_gamma = 0.5;
  EXPECT_EQ(lrs(cfg), (std::vector<double>{0.08, 0.04, 0.04, 0.02}));

  cfg.lr_schedule = "cosine";
  cfg.lr_min = 0.0;
  // 0.04 * (1 + cos(pi e / 4)) at the first step of epoch index e.
  const std::vector<double> cosine = lrs(cfg);
  ASSERT_EQ(cosine.size(), 4u);
  EXPECT_DOUBLE_EQ(cosine[0], 0.08);
  EXPECT_DOUBLE_EQ(cosine[1], 0.04 * (1 + std::sqrt(0.5)));
  EXPECT_DOUBLE_EQ(cosine[2], 0.04);
  EXPECT_DOUBLE_EQ(cosine[3], 0.04 * (1 - std::sqrt(0.5)));

  // A schedule changes the training itself, not only the record.
  cfg.lr_schedule = "constant";
  cfg.warmup_epochs = 2;
  const TrainResult warm = train(cfg, data);
  EXPECT_EQ(warm.epochs[0].lr, 0.0);
  EXPECT_DOUBLE_EQ(warm.epochs[1].lr, 0.04);
  EXPECT_EQ(warm.epochs[2].lr, 0.08);
  cfg.warmup_epochs = 0;
  EXPECT_NE(train(cfg, data).weights[0].data, warm.weights[0].data);
}

TEST(Trainer, NormalizationTrainsOnFeatureVectorsToo) {
  // 784 x 1 x 1 "images": normalization is per channel and needs no picture.
  DataSplit data = toy_data(200, 60);
  for (Dataset* d : {&data.train, &data.test}) {
    d->channels = 784;
    d->height = 1;
    d->width = 1;
  }
  TrainConfig cfg = small_config();
  cfg.normalize = true;
  const TrainResult r = train(cfg, data);
  EXPECT_EQ(r.epochs.back().test_acc, 1.0);
}

// Counts this process's threads after a run, in a child process so that earlier tests'
// thread pools do not count; the count is the exit status.
[[noreturn]] void exit_with_thread_count_after_run(int threads) {
  TrainConfig cfg = small_config();
  cfg.epochs = 1;
  cfg.threads = threads;
  train(cfg, toy_data(64, 20));
  int n = 0;
  for ([[maybe_unused]] const auto& e : std::filesystem::directory_iterator("/proc/self/task")) ++n;
  std::exit(n);
}

TEST(TrainerDeathTest, OneThreadRunStartsNoThreads) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");  // a fresh process: no pools from other tests
  EXPECT_EXIT(exit_with_thread_count_after_run(1), ::testing::ExitedWithCode(1), "");
  // The check can fail: with two threads Eigen's OpenMP region starts a second thread.
  EXPECT_EXIT(exit_with_thread_count_after_run(2),
              [](int status) { return WIFEXITED(status) && WEXITSTATUS(status) >= 2; }, "");
}

TEST(Trainer, RejectsBadNewFieldsNamingThem) {
  const DataSplit data = toy_data(20, 10);
  auto message = [&](const TrainConfig& cfg, const DataSplit& d) -> std::string {
    try {
      train(cfg, d);
    } catch (const Error& e) {
      return e.what();
    }
    return "no error";
  };
  struct Case {
    const char* expected;
    void (*edit)(TrainConfig&);
  };
  const Case cases[] = {
      {"train config: optimizer 'rmsprop' is unknown (valid: sgd, adam)", [](TrainConfig& c) { c.optimizer = "rmsprop"; }},
      {"train config: nesterov needs momentum > 0 (got momentum = 0)",
       [](TrainConfig& c) {
         c.nesterov = true;
         c.momentum = 0;
       }},
      {"train config: adam_beta2 must be in [0, 1) (got 1)", [](TrainConfig& c) { c.adam_beta2 = 1.0; }},
      {"train config: adam_eps must be a finite number > 0 (got 0)", [](TrainConfig& c) { c.adam_eps = 0; }},
      {"train config: lr_schedule 'step' is unknown (valid: constant, multistep, cosine, exponential)",
       [](TrainConfig& c) { c.lr_schedule = "step"; }},
      {"train config: lr_gamma must be a finite number > 0 (got 0)", [](TrainConfig& c) { c.lr_gamma = 0; }},
      {"train config: lr_gamma must be a finite number > 0 (got -0.5)", [](TrainConfig& c) { c.lr_gamma = -0.5; }},
      {"train config: lr_schedule 'multistep' needs lr_milestones (epochs after which lr *= lr_gamma)",
       [](TrainConfig& c) { c.lr_schedule = "multistep"; }},
      {"train config: lr_milestones[1] = 1 does not come after lr_milestones[0] = 2; milestones must increase",
       [](TrainConfig& c) {
         c.lr_schedule = "multistep";
         c.lr_milestones = {2, 1};
       }},
      {"train config: lr_milestones[0] = 3 is outside 1..2 (epochs = 3; a milestone m decays lr from epoch m + 1 on)",
       [](TrainConfig& c) {
         c.lr_schedule = "multistep";
         c.lr_milestones = {3};
       }},
      {"train config: lr_min (0.1) must not exceed lr (0.05) for the cosine schedule",
       [](TrainConfig& c) {
         c.lr_schedule = "cosine";
         c.lr_min = 0.1;
       }},
      {"train config: warmup_epochs must be in [0, epochs = 3] (got -1)", [](TrainConfig& c) { c.warmup_epochs = -1; }},
      {"train config: warmup_epochs must be in [0, epochs = 3] (got 3.5)", [](TrainConfig& c) { c.warmup_epochs = 3.5; }},
      {"train config: crop_padding must be >= 0 (got -2)", [](TrainConfig& c) { c.crop_padding = -2; }},
      // Refused before a single thread starts (a million took minutes to spawn).
      {"train config: threads must be at most 256 (got 1000000); use more ranks instead",
       [](TrainConfig& c) { c.threads = 1000000; }},
      // A method's own keys, by the rule its file declares (the sweep file's rule too).
      {"train config: ttq_threshold must be a finite number in [0, 1) (got 1)",
       [](TrainConfig& c) {
         c.method = "ttq";
         c.ttq_threshold = 1.0;
       }},
      {"train config: delta_factor must be a finite number in (0, inf) (got 0)",
       [](TrainConfig& c) {
         c.method = "twn";
         c.delta_factor = 0.0;
       }},
      {"train config: crop_padding 28 must be below the image size of toy (28x28); otherwise some crops hold no image "
       "at all",
       [](TrainConfig& c) {
         c.augment = true;
         c.crop_padding = 28;
       }},
  };
  for (const Case& k : cases) {
    TrainConfig cfg = small_config();
    k.edit(cfg);
    EXPECT_EQ(message(cfg, data), k.expected);
  }

  DataSplit flat = data;
  for (Dataset* d : {&flat.train, &flat.test}) {
    d->height = 1;
    d->width = 784;
  }
  TrainConfig cfg = small_config();
  cfg.augment = true;
  EXPECT_EQ(message(cfg, flat), "train config: augment needs images (height and width > 1) but toy samples are 1x1x784");
  DataSplit mislabelled = data;
  mislabelled.test.channels = 3;
  EXPECT_EQ(message(small_config(), mislabelled),
            "toy test split: images have 784 features but channels x height x width = 3x28x28 = 2352");
}

}  // namespace
}  // namespace ternbench::core
