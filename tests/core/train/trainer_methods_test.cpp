// Every method through the trainer: deployed values, stages, regularizers, the codes a
// weights file stores, and SCA's sparsity against alpha.
#include <gtest/gtest.h>

#include <cmath>
#include <map>
#include <set>
#include <string>

#include "support/toy_data.hpp"
#include "ternbench/core/methods/quantizer.hpp"
#include "ternbench/base/error.hpp"
#include "ternbench/core/deploy/deploy_codes.hpp"
#include "ternbench/core/train/restore.hpp"
#include "ternbench/core/train/trainer.hpp"

namespace ternbench::core {
namespace {

using testing::toy_data;

TrainConfig method_config(const std::string& method) {
  TrainConfig cfg;
  cfg.method = method;
  cfg.model = "custom";
  // Batch norm after each hidden layer, as in the papers' models: binary and ternary layers
  // are scale-free behind it.
  for (const char* l : {"dense(64)", "batchnorm", "relu", "dense(32)", "batchnorm", "relu", "dense(10)"})
    cfg.layers.push_back(parse_layer_spec(l));
  cfg.epochs = 3;
  cfg.batch_size = 32;
  cfg.lr = 0.05;
  cfg.seed = 5;
  return cfg;
}

const NamedTensor* find(const TrainResult& r, const std::string& name) {
  for (const auto& t : r.weights) {
    if (t.name == name) return &t;
  }
  return nullptr;
}

template <class T>
T attr(const NamedTensor& t, const std::string& key) {
  for (const auto& [k, v] : t.attrs) {
    if (k == key) return std::get<T>(v);
  }
  ADD_FAILURE() << t.name << " has no attribute " << key;
  return T{};
}

const StageMetrics* stage(const TrainResult& r, const std::string& name) {
  for (const auto& s : r.stages) {
    if (s.stage == name) return &s;
  }
  return nullptr;
}

TEST(TrainerMethods, EveryMethodLearnsTheToyProblemAndDeploysItsValueSet) {
  const DataSplit data = toy_data(300, 100);
  const std::map<std::string, std::size_t> max_values = {{"fp", 0},  {"binaryconnect", 2}, {"bwn", 0},
                                                         {"twn", 3}, {"ttq", 3},           {"sca", 3},
                                                         {"faraone", 3}};
  for (const std::string& m : method_names()) EXPECT_TRUE(max_values.count(m)) << m << ": add its value set here";
  for (const auto& [method, max_distinct] : max_values) {
    TrainConfig cfg = method_config(method);
    if (method == "faraone") cfg.faraone_stage1_epochs = cfg.faraone_retrain_epochs = 2;
    const TrainResult r = train(cfg, data);
    ASSERT_FALSE(r.diverged) << method;
    EXPECT_GE(r.epochs.back().test_acc, 0.9) << method;
    ASSERT_EQ(r.layers.size(), 3u);
    EXPECT_EQ(r.layers[2].precision, "fp32") << method;  // last layer full precision by default
    const std::string want = method == "fp" ? "fp32" : (method == "binaryconnect" || method == "bwn") ? "binary"
                                                                                                      : "ternary";
    EXPECT_EQ(r.layers[0].precision, want) << method;
    const NamedTensor* w = find(r, "dense1/W");
    ASSERT_NE(w, nullptr);
    if (max_distinct > 0) {
      const std::set<float> values(w->data.begin(), w->data.end());
      EXPECT_LE(values.size(), max_distinct) << method;
    }
    if (method == "bwn") {  // one magnitude per row (output channel)
      for (std::size_t row = 0; row < 32; ++row) {
        std::set<float> mags;
        for (std::size_t c = 0; c < 64; ++c) mags.insert(std::fabs(w->data[row * 64 + c]));
        EXPECT_EQ(mags.size(), 1u);
      }
    }
  }
}

TEST(TrainerMethods, StoredCodesAndScalesDecodeToExactlyTheDeployedWeights) {
  const DataSplit data = toy_data(120, 40);
  struct Case {
    std::string method;
    bool per_channel = false;
    std::string layout;
  };
  for (const Case& c : {Case{"binaryconnect", false, "none"}, Case{"bwn", false, "row"},
                        Case{"twn", false, "layer"}, Case{"twn", true, "row"}, Case{"ttq", false, "sign"},
                        Case{"sca", false, "none"}, Case{"faraone", false, "layer"}}) {
    TrainConfig cfg = method_config(c.method);
    cfg.epochs = 1;
    cfg.twn_per_channel = c.per_channel;
    cfg.quantize_last = true;  // SCA: the scaled last layer
    if (c.method == "faraone") cfg.faraone_stage1_epochs = cfg.faraone_retrain_epochs = 1;
    const TrainResult r = train(cfg, data);
    for (const std::string layer : {"dense0", "dense1", "dense2"}) {
      const NamedTensor* w = find(r, layer + "/W");
      const NamedTensor* codes = find(r, layer + "/W_codes");
      ASSERT_NE(w, nullptr);
      ASSERT_NE(codes, nullptr) << c.method << " " << layer;
      const NamedTensor* scales = find(r, layer + "/W_scales");
      const std::string layout = attr<std::string>(*codes, "scale_layout");
      if (!(c.method == "sca" && layer == "dense2")) {
        EXPECT_EQ(layout, c.layout) << c.method;
      }
      const std::span<const float> s = scales ? std::span<const float>(scales->data) : std::span<const float>();
      const Mat q = decode_deployed(codes->u8, attr<std::string>(*codes, "encoding"), w->shape[0], w->shape[1], s,
                                    layout);
      for (Eigen::Index i = 0; i < q.rows(); ++i) {
        for (Eigen::Index j = 0; j < q.cols(); ++j) {
          ASSERT_EQ(q(i, j), w->data[static_cast<std::size_t>(i * q.cols() + j)]) << c.method << " " << layer;
        }
      }
    }
  }
}

TEST(TrainerMethods, ModelRebuiltFromStoredTensorsReproducesTheRecordedAccuracyExactly) {
  const DataSplit data = toy_data(150, 60);
  for (const std::string& method : method_names()) {
    TrainConfig cfg = method_config(method);
    cfg.epochs = 2;
    cfg.test_limit = 50;
    cfg.quantize_last = method == "sca";
    if (method == "faraone") cfg.faraone_stage1_epochs = cfg.faraone_retrain_epochs = 1;
    const TrainResult r = train(cfg, data);
    Model m = restore_model(cfg, data, r.weights, "run.h5");
    const Evaluation e = evaluate_test_split(cfg, data, m);
    EXPECT_EQ(e.accuracy, r.epochs.back().test_acc) << method;
    EXPECT_EQ(e.loss, r.epochs.back().test_loss) << method;
  }
}

TEST(TrainerMethods, RestoreNamesAMissingOrMisshapenTensor) {
  const DataSplit data = toy_data(40, 20);
  TrainConfig cfg = method_config("twn");
  cfg.epochs = 1;
  TrainResult r = train(cfg, data);
  std::vector<NamedTensor> missing;
  for (const auto& t : r.weights) {
    if (t.name != "dense1/b") missing.push_back(t);
  }
  try {
    (void)restore_model(cfg, data, missing, "x.h5");
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("x.h5: no tensor dense1/b"), std::string::npos) << e.what();
  }
  TrainConfig other = cfg;
  other.layers[0] = parse_layer_spec("dense(48)");
  EXPECT_THROW((void)restore_model(other, data, r.weights, "x.h5"), Error);
}

TEST(TrainerMethods, ScaRecordsContinuousAndRoundedAccuracy) {
  const DataSplit data = toy_data(200, 80);
  TrainConfig cfg = method_config("sca");
  const TrainResult r = train(cfg, data);
  for (const auto& e : r.epochs) {
    EXPECT_TRUE(std::isfinite(e.test_acc_continuous));
    EXPECT_TRUE(std::isfinite(e.reg_penalty));
  }
  ASSERT_NE(stage(r, "continuous"), nullptr);
  ASSERT_NE(stage(r, "rounded"), nullptr);
  EXPECT_EQ(stage(r, "rounded")->test_acc, r.epochs.back().test_acc);
  EXPECT_EQ(stage(r, "continuous")->test_acc, r.epochs.back().test_acc_continuous);
  // Batch norm follows dense0, so its deployed weights are the plain codes {-1, 0, 1}, and
  // they are round(tanh(theta)) of the stored latent theta.
  const NamedTensor* w = find(r, "dense0/W");
  const NamedTensor* latent = find(r, "dense0/W_latent");
  ASSERT_NE(w, nullptr);
  ASSERT_NE(latent, nullptr);
  for (std::size_t i = 0; i < w->data.size(); ++i) {
    ASSERT_EQ(w->data[i], std::round(std::tanh(latent->data[i]))) << i;
  }
}

TEST(TrainerMethods, ScaFineTuneKeepsTheRoundedWeights) {
  const DataSplit data = toy_data(200, 80);
  TrainConfig cfg = method_config("sca");
  const TrainResult before = train(cfg, data);
  cfg.sca_finetune_epochs = 2;
  const TrainResult after = train(cfg, data);
  ASSERT_EQ(after.epochs.size(), 5u);
  EXPECT_EQ(after.epochs[3].stage, "finetune");
  ASSERT_NE(stage(after, "finetuned"), nullptr);
  EXPECT_EQ(find(after, "dense0/W")->data, find(before, "dense0/W")->data);
  EXPECT_NE(find(after, "dense0/b")->data, find(before, "dense0/b")->data);
}

TEST(TrainerMethods, ScaSparsityRisesWithAlpha) {
  const DataSplit data = toy_data(300, 60);
  double last = -1;
  for (const double alpha : {0.05, 0.2, 0.5, 1.0, 1.5}) {
    TrainConfig cfg = method_config("sca");
    cfg.sca_alpha = alpha;
    cfg.sca_lambda = 0.05;
    cfg.epochs = 4;
    const TrainResult r = train(cfg, data);
    // Over the quantized layers (the fp last layer has no zeros).
    const double s = static_cast<double>(r.layers[0].n_zero + r.layers[1].n_zero) /
                     static_cast<double>(r.layers[0].n + r.layers[1].n);
    EXPECT_GT(s, last) << "alpha " << alpha;
    last = s;
  }
}

TEST(TrainerMethods, FaraoneRecordsEachStageAndKeepsPrunedWeightsAtZero) {
  const DataSplit data = toy_data(200, 80);
  for (const std::string style : {"twn", "ttq"}) {
    TrainConfig cfg = method_config("faraone");
    cfg.faraone_stage1_epochs = 2;
    cfg.faraone_retrain_epochs = 3;
    cfg.faraone_target_sparsity = 0.6;
    cfg.faraone_retrain_quantizer = style;
    std::vector<EpochMetrics> seen;
    const TrainResult r = train(cfg, data, [&](const EpochMetrics& m) { seen.push_back(m); });
    ASSERT_EQ(r.epochs.size(), 5u);
    EXPECT_EQ(seen.size(), 5u);
    for (int i = 0; i < 5; ++i) {
      EXPECT_EQ(r.epochs[static_cast<std::size_t>(i)].epoch, i + 1);
      EXPECT_EQ(r.epochs[static_cast<std::size_t>(i)].stage, i < 2 ? "stage1" : "stage3");
    }
    EXPECT_TRUE(std::isfinite(r.epochs[0].reg_penalty));
    EXPECT_TRUE(std::isnan(r.epochs[3].reg_penalty));
    ASSERT_NE(stage(r, "stage1"), nullptr);
    ASSERT_NE(stage(r, "stage2"), nullptr);
    ASSERT_NE(stage(r, "stage3"), nullptr);
    EXPECT_EQ(stage(r, "stage1")->epochs, 2);
    EXPECT_EQ(stage(r, "stage2")->epochs, 2);
    EXPECT_EQ(stage(r, "stage3")->epochs, 5);
    // The mask is frozen: every stage-3 epoch has the pruned sparsity, and the pruned latent
    // weights are exactly zero.
    const double pruned = stage(r, "stage2")->sparsity;
    for (std::size_t i = 2; i < 5; ++i) EXPECT_EQ(r.epochs[i].sparsity, pruned) << style;
    EXPECT_GE(r.layers[0].sparsity, 0.6);
    const NamedTensor* w = find(r, "dense0/W");
    const NamedTensor* latent = find(r, "dense0/W_latent");
    for (std::size_t i = 0; i < w->data.size(); ++i) {
      if (w->data[i] == 0.0f) {
        EXPECT_EQ(latent->data[i], 0.0f);
      }
    }
  }
}

TEST(TrainerMethods, TtqLearnsItsScales) {
  const DataSplit data = toy_data(200, 80);
  const TrainResult r = train(method_config("ttq"), data);
  const NamedTensor* s = find(r, "dense0/W_scales");
  ASSERT_NE(s, nullptr);
  ASSERT_EQ(s->data.size(), 2u);
  EXPECT_NE(s->data[0], 1.0f);
  EXPECT_NE(s->data[1], 1.0f);
}

TEST(TrainerMethods, SizesCoverEveryLayerAndTheFloatParameters) {
  const DataSplit data = toy_data(100, 40);
  const TrainResult r = train(method_config("twn"), data);
  ASSERT_EQ(r.sizes.layers.size(), 3u);
  EXPECT_EQ(r.sizes.n_float_params, 64 + 32 + 10 + 2 * (64 + 32));  // biases, batch-norm gamma and beta
  EXPECT_EQ(r.sizes.layers[0].ternary_2bit_bits, 2.0 * 784 * 64 + 32);
  EXPECT_EQ(r.sizes.layers[2].ternary_2bit_bits, 32.0 * 32 * 10);  // fp32 layer stays fp32
  EXPECT_EQ(r.sizes.total.fp32, 32.0 * (784 * 64 + 64 * 32 + 32 * 10 + 106 + 192));
  EXPECT_LT(r.sizes.total.relative_index, r.sizes.total.fp32);
}

TEST(TrainerMethods, QuantizedRunsAreBitIdentical) {
  const DataSplit data = toy_data(100, 40);
  for (const std::string method : {"binaryconnect", "ttq", "sca", "faraone"}) {
    TrainConfig cfg = method_config(method);
    cfg.epochs = 2;
    cfg.bc_stochastic = true;
    const TrainResult a = train(cfg, data), b = train(cfg, data);
    ASSERT_EQ(a.epochs.size(), b.epochs.size());
    for (std::size_t i = 0; i < a.epochs.size(); ++i) EXPECT_EQ(a.epochs[i].test_loss, b.epochs[i].test_loss);
    for (std::size_t i = 0; i < a.weights.size(); ++i) {
      EXPECT_EQ(a.weights[i].data, b.weights[i].data);
      EXPECT_EQ(a.weights[i].u8, b.weights[i].u8);
    }
  }
}

}  // namespace
}  // namespace ternbench::core
