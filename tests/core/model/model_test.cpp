// Model: registry, parameter count, layer policy, buffer reuse, end-to-end gradient.
#include <gtest/gtest.h>

#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "support/gradient_check.hpp"
#include "support/same_bits.hpp"
#include "ternbench/base/error.hpp"
#include "ternbench/base/rng.hpp"
#include "ternbench/core/nn/batchnorm.hpp"
#include "ternbench/core/nn/conv2d.hpp"
#include "ternbench/core/nn/dense.hpp"
#include "ternbench/core/nn/dropout.hpp"
#include "ternbench/core/nn/flatten.hpp"
#include "ternbench/core/nn/maxpool2d.hpp"
#include "ternbench/core/kernels/loss.hpp"
#include "ternbench/core/train/metrics.hpp"
#include "ternbench/core/model/model.hpp"
#include "ternbench/core/methods/quantizer.hpp"
#include "ternbench/core/nn/relu.hpp"

namespace ternbench::core {
namespace {

// float32 central differences (eps 1e-2) through two dense layers, a ReLU and softmax-CE.
constexpr double kGradTol = 1e-2;
// A gradient that is zero in exact arithmetic: float rounding of O(1) terms summed over a batch.
constexpr float kZeroGradTol = 1e-5f;
constexpr std::uint64_t kSeed = 5;

Mat random_matrix(Eigen::Index rows, Eigen::Index cols, Rng& rng) {
  Mat m(rows, cols);
  for (Eigen::Index i = 0; i < m.size(); ++i) m(i) = 2.0f * rng.uniform_float() - 1.0f;
  return m;
}

TrainConfig config(const std::string& model) {
  TrainConfig cfg;
  cfg.model = model;
  return cfg;
}

// The MNIST input: 1 x 28 x 28 images, 10 classes.
Model mnist_model(const std::string& name, Rng& rng) { return make_model(config(name), 1, 28, 28, 10, rng); }

Model tiny_model(Rng& rng) {
  Model m("tiny");
  m.add(std::make_unique<Dense>("dense0", 4, 6, rng));
  m.add(std::make_unique<Relu>("relu0", 6));
  m.add(std::make_unique<Dense>("dense1", 6, 3, rng));
  return m;
}

TEST(Model, MlpHas545810ParametersNamedByHdf5Path) {
  Rng rng(kSeed);
  Model m = mnist_model("mlp", rng);
  EXPECT_EQ(m.param_count(), 784 * 500 + 500 + 500 * 300 + 300 + 300 * 10 + 10);
  EXPECT_EQ(m.param_count(), 545810);  // as PyTorch counts 784-500-300-10
  std::vector<std::string> names;
  for (const Param* p : m.params()) names.push_back(p->name);
  EXPECT_EQ(names, (std::vector<std::string>{"dense0/W", "dense0/b", "dense1/W", "dense1/b", "dense2/W", "dense2/b"}));
  EXPECT_EQ(m.input_size(), 784);
  EXPECT_EQ(m.output_size(), 10);
  EXPECT_EQ(m.weights().size(), 3u);
  EXPECT_EQ(model_shape(config("mlp"), 1, 28, 28, 10).inputs, 784);
  EXPECT_EQ(model_shape(config("mlp"), 1, 28, 28, 10).classes, 10);
}

// The run's thread count reaches the convolutions from the config, not from a global.
TEST(Model, ConvolutionsTakeTheConfigsThreadCount) {
  auto conv_threads = [](const Model& m) {
    std::vector<int> out;
    for (const auto& l : m.layers())
      if (const auto* c = dynamic_cast<const Conv2d*>(l.get())) out.push_back(c->threads());
    return out;
  };
  Rng rng(kSeed);
  TrainConfig cfg = config("lenet5");
  cfg.threads = 2;
  Model m = make_model(cfg, 1, 28, 28, 10, rng);
  EXPECT_EQ(conv_threads(m), (std::vector<int>{2, 2}));
  m.set_threads(1);
  EXPECT_EQ(conv_threads(m), (std::vector<int>{1, 1}));
  Model added("added");
  added.set_threads(3);
  added.add(std::make_unique<Conv2d>("c", 1, 6, 6, 2, 3, 1, 0, rng));
  EXPECT_EQ(conv_threads(added), (std::vector<int>{3}));
}

TEST(Model, UnknownNameIsAnErrorListingValidNames) {
  Rng rng(kSeed);
  try {
    mnist_model("resnet-1000", rng);
    FAIL() << "expected ternbench::Error";
  } catch (const Error& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find("resnet-1000"), std::string::npos);
    EXPECT_NE(msg.find("mlp"), std::string::npos);
  }
  EXPECT_THROW(model_shape(config("nope"), 1, 28, 28, 10), Error);
}

TEST(Model, AddRejectsMismatchedLayer) {
  Rng rng(kSeed);
  Model m("bad");
  m.add(std::make_unique<Dense>("dense0", 4, 6, rng));
  EXPECT_THROW(m.add(std::make_unique<Dense>("dense1", 5, 3, rng)), Error);
}

TEST(Model, TwnPolicyQuantizesFirstAndMiddleButNotLastByDefault) {
  Rng rng(kSeed);
  Model m = mnist_model("mlp", rng);
  TrainConfig cfg;
  cfg.method = "twn";
  apply_method(m, cfg);
  const auto ws = m.weights();
  EXPECT_TRUE(ws[0]->quantized());
  EXPECT_TRUE(ws[1]->quantized());
  EXPECT_FALSE(ws[2]->quantized());

  Rng rng2(kSeed);
  Model m2 = mnist_model("mlp", rng2);
  cfg.quantize_first = false;
  cfg.quantize_last = true;
  apply_method(m2, cfg);
  const auto ws2 = m2.weights();
  EXPECT_FALSE(ws2[0]->quantized());
  EXPECT_TRUE(ws2[1]->quantized());
  EXPECT_TRUE(ws2[2]->quantized());
}

TEST(Model, FpMethodQuantizesNothing) {
  Rng rng(kSeed);
  Model m = mnist_model("mlp", rng);
  TrainConfig cfg;
  cfg.method = "fp";
  apply_method(m, cfg);
  for (const Weight* w : m.weights()) {
    EXPECT_FALSE(w->quantized());
    EXPECT_EQ(&w->training(), &w->latent().value);  // no copy for full precision
  }
}

TEST(Model, FpInitStdPutsTheQuantizableMatricesAtScasStartingWeights) {
  TrainConfig cfg;
  cfg.method = "fp";
  cfg.fp_init_std = 0.8;
  Rng rng(kSeed), rng_ref(kSeed);
  Model m = mnist_model("mlp", rng);
  Model ref = mnist_model("mlp", rng_ref);
  apply_method(m, cfg);
  const auto ws = m.weights();
  const auto refs = ref.weights();
  for (std::size_t i = 0; i < ws.size(); ++i) {
    EXPECT_FALSE(ws[i]->quantized());
    Mat expect = refs[i]->latent().value;
    if (i + 1 < ws.size()) scale_to_spread(expect, 0.8);  // the last layer stays as initialised
    EXPECT_EQ(ws[i]->latent().value, expect) << ws[i]->latent().name;
  }
}

TEST(Model, ScaThetaLearnsAtItsOwnRateAndNothingElseDoes) {
  TrainConfig cfg;
  cfg.method = "sca";
  cfg.sca_theta_lr_scale = 30;
  Rng rng(kSeed);
  Model m = mnist_model("mlp", rng);
  apply_method(m, cfg);
  const auto ws = m.weights();
  for (Param* p : m.params()) {
    const bool theta = p == &ws[0]->latent() || p == &ws[1]->latent();
    EXPECT_EQ(p->lr_scale, theta ? 30.0f : 1.0f) << p->name;
  }
}

TEST(Model, ApplyMethodRejectsUnknownMethod) {
  Rng rng(kSeed);
  Model m = mnist_model("mlp", rng);
  TrainConfig cfg;
  cfg.method = "xnor";
  cfg.quantize_first = false;  // even when no layer would be quantized
  EXPECT_THROW(apply_method(m, cfg), Error);
}

TEST(Model, SmallerBatchReusesBuffersAndGivesTheSameColumns) {
  Rng rng(kSeed);
  Model m = tiny_model(rng);
  const Mat x = random_matrix(4, 10, rng);
  const Mat full = m.forward(x);
  const float* data = m.forward(x).data();
  const Eigen::Ref<const Mat> part = m.forward(x.leftCols(3));
  EXPECT_EQ(part.data(), data);  // a view of the same buffer, not a new allocation
  ASSERT_EQ(part.cols(), 3);
  EXPECT_EQ(Mat(part), full.leftCols(3));
}

TEST(Model, WeightGradientsMatchCentralDifferencesThroughTheWholeStack) {
  Rng rng(kSeed);
  Model m = tiny_model(rng);
  const Mat x = random_matrix(4, 5, rng);
  const std::vector<std::uint8_t> labels = {0, 2, 1, 1, 0};
  auto loss = [&] { return kernels::softmax_cross_entropy_eval(m.forward(x), labels).loss; };
  Mat dlogits(3, 5);
  kernels::softmax_cross_entropy(m.forward(x), labels, dlogits);
  m.backward(x, dlogits);
  for (Param* p : m.params()) {
    const Mat analytic = p->grad;
    EXPECT_LT(testing::relative_gradient_error(loss, p->value, analytic), kGradTol) << p->name;
  }
}

TEST(Model, BackwardRejectsInputOfAnotherBatch) {
  Rng rng(kSeed);
  Model m = tiny_model(rng);
  const Mat x = random_matrix(4, 5, rng);
  m.forward(x);
  const Mat dlogits = Mat::Zero(3, 4);
  EXPECT_THROW(m.backward(x.leftCols(4), dlogits), Error);
}

// dense0 (4 -> 6), bn0, relu0, dropout0, dense1 (6 -> 3).
Model normalised_model(Rng& rng, double dropout_rate) {
  Model m("normalised");
  m.add(std::make_unique<Dense>("dense0", 4, 6, rng));
  m.add(std::make_unique<BatchNorm>("bn0", 6, 1));
  m.add(std::make_unique<Relu>("relu0", 6));
  m.add(std::make_unique<Dropout>("dropout0", 6, dropout_rate, kSeed));
  m.add(std::make_unique<Dense>("dense1", 6, 3, rng));
  return m;
}

BatchNorm& bn_of(Model& m) { return dynamic_cast<BatchNorm&>(*m.layers()[1]); }
Dropout& dropout_of(Model& m) { return dynamic_cast<Dropout&>(*m.layers()[3]); }

TEST(Model, SetTrainingReachesEveryLayer) {
  Rng rng(kSeed);
  Model m = normalised_model(rng, 0.5);
  EXPECT_TRUE(m.training());  // as a new PyTorch module
  EXPECT_TRUE(bn_of(m).training());
  EXPECT_TRUE(dropout_of(m).training());
  m.set_training(false);
  EXPECT_FALSE(m.training());
  EXPECT_FALSE(bn_of(m).training());
  EXPECT_FALSE(dropout_of(m).training());
  // Evaluation is deterministic and leaves the running statistics alone.
  const Mat x = random_matrix(4, 5, rng);
  const Mat first = m.forward(x);
  const Mat stats = bn_of(m).running_mean().value;
  EXPECT_EQ(Mat(m.forward(x)), first);
  EXPECT_EQ(bn_of(m).running_mean().value, stats);
  // A layer added later takes the model's mode.
  m.add(std::make_unique<BatchNorm>("bn1", 3, 1));
  EXPECT_FALSE(dynamic_cast<BatchNorm&>(*m.layers().back()).training());
}

TEST(Model, RunningStatisticsAreBuffersNotParameters) {
  Rng rng(kSeed);
  Model m = normalised_model(rng, 0.5);
  // dense0 4*6+6, bn0 gamma+beta 2*6, dense1 6*3+3; running_mean/var (2*6) are not counted.
  EXPECT_EQ(m.param_count(), 4 * 6 + 6 + 2 * 6 + 6 * 3 + 3);
  std::vector<std::string> names;
  for (const Param* p : m.buffers()) names.push_back(p->name);
  EXPECT_EQ(names, (std::vector<std::string>{"bn0/running_mean", "bn0/running_var"}));
  EXPECT_EQ(m.weights().size(), 2u);
}

TEST(Model, GradientsMatchCentralDifferencesThroughBatchNorm) {
  Rng rng(kSeed);
  Model m = normalised_model(rng, 0.0);  // no dropout: the loss must be a fixed function
  const Mat x = random_matrix(4, 6, rng);
  const std::vector<std::uint8_t> labels = {0, 2, 1, 1, 0, 2};
  auto loss = [&] { return kernels::softmax_cross_entropy_eval(m.forward(x), labels).loss; };
  Mat dlogits(3, 6);
  kernels::softmax_cross_entropy(m.forward(x), labels, dlogits);
  m.backward(x, dlogits);
  for (Param* p : m.params()) {
    const Mat analytic = p->grad;
    if (p->name == "dense0/b") {
      // bn0 subtracts the batch mean, so a bias right before it has no effect on the loss:
      // its gradient is zero up to float rounding (and a relative error would measure noise).
      EXPECT_LT(analytic.cwiseAbs().maxCoeff(), kZeroGradTol);
      continue;
    }
    EXPECT_LT(testing::relative_gradient_error(loss, p->value, analytic), kGradTol) << p->name;
  }
}

// conv0 (1x12x12 -> 8x10x10), bn0, relu0, pool0 (-> 8x5x5), flatten0, dense0 (200 -> 16), bn1,
// relu1, dense1 (16 -> 3): a BatchNorm -> ReLU -> MaxPool2d run and a BatchNorm -> ReLU run.
Model fused_runs_model(Rng& rng) {
  Model m("fused");
  m.add(std::make_unique<Conv2d>("conv0", 1, 12, 12, 8, 3, 1, 0, rng));
  m.add(std::make_unique<BatchNorm>("bn0", 8, 100));
  m.add(std::make_unique<Relu>("relu0", 800));
  m.add(std::make_unique<MaxPool2d>("pool0", 8, 10, 10, 2));
  m.add(std::make_unique<Flatten>("flatten0", 200));
  m.add(std::make_unique<Dense>("dense0", 200, 16, rng));
  m.add(std::make_unique<BatchNorm>("bn1", 16, 1));
  m.add(std::make_unique<Relu>("relu1", 16));
  m.add(std::make_unique<Dense>("dense1", 16, 3, rng));
  return m;
}

using ternbench::testing::same_bits;

// The model's layers run one by one into buffers of their own, as Model did before fusing.
Mat layer_by_layer_step(Model& m, const Mat& x, const std::vector<std::uint8_t>& labels, bool backward) {
  const auto& layers = m.layers();
  std::vector<Mat> acts(layers.size()), grads(layers.size());
  for (std::size_t i = 0; i < layers.size(); ++i) {
    acts[i].resize(layers[i]->out_features(), x.cols());
    layers[i]->forward(i == 0 ? x : acts[i - 1], acts[i]);
  }
  if (!backward) return acts.back();
  Mat dy(acts.back().rows(), x.cols()), no_dx;
  kernels::softmax_cross_entropy(acts.back(), labels, dy);
  for (std::size_t i = layers.size(); i-- > 0;) {
    const Mat& g = i + 1 == layers.size() ? dy : grads[i];
    if (i == 0) {
      layers[i]->backward(x, acts[i], g, no_dx, false);
    } else {
      grads[i - 1].resize(layers[i - 1]->out_features(), x.cols());
      layers[i]->backward(acts[i - 1], acts[i], g, grads[i - 1], true);
    }
  }
  return acts.back();
}

TEST(Model, FusedRunsGiveTheLayerByLayerBitsOnOneAndTwoThreads) {
  for (const int threads : {1, 2}) {
    SCOPED_TRACE("threads " + std::to_string(threads));
    Rng rng_a(kSeed), rng_b(kSeed), rng_x(kSeed + 1);
    Model fused = fused_runs_model(rng_a), reference = fused_runs_model(rng_b);
    fused.set_threads(threads);
    // 400 images: bn0's 320000 values are enough for the kernels to use both threads.
    const Mat x = random_matrix(144, 400, rng_x);
    std::vector<std::uint8_t> labels(400);
    for (std::size_t i = 0; i < labels.size(); ++i) labels[i] = static_cast<std::uint8_t>(i % 3);
    for (int step = 0; step < 2; ++step) {
      const Mat logits = fused.forward(x);
      Mat dlogits(3, 400);
      kernels::softmax_cross_entropy(logits, labels, dlogits);
      fused.backward(x, dlogits);
      EXPECT_TRUE(same_bits(logits, layer_by_layer_step(reference, x, labels, true)));
      const std::vector<Param*> pf = fused.params(), pr = reference.params();
      ASSERT_EQ(pf.size(), pr.size());
      for (std::size_t i = 0; i < pf.size(); ++i) EXPECT_TRUE(same_bits(pf[i]->grad, pr[i]->grad)) << pf[i]->name;
      const std::vector<Param*> bf = fused.buffers(), br = reference.buffers();
      for (std::size_t i = 0; i < bf.size(); ++i) EXPECT_TRUE(same_bits(bf[i]->value, br[i]->value)) << bf[i]->name;
    }
    fused.set_training(false);
    reference.set_training(false);
    EXPECT_TRUE(same_bits(Mat(fused.forward(x)), layer_by_layer_step(reference, x, labels, false)));
  }
}

TEST(Model, GradientsMatchCentralDifferencesThroughFusedRuns) {
  Rng rng(kSeed);
  Model m = fused_runs_model(rng);
  const Mat x = random_matrix(144, 4, rng);
  const std::vector<std::uint8_t> labels = {0, 2, 1, 1};
  auto loss = [&] { return kernels::softmax_cross_entropy_eval(m.forward(x), labels).loss; };
  Mat dlogits(3, 4);
  kernels::softmax_cross_entropy(m.forward(x), labels, dlogits);
  m.backward(x, dlogits);
  for (const char* name : {"bn0/gamma", "bn0/beta", "bn1/gamma", "dense0/W"}) {
    for (Param* p : m.params()) {
      if (p->name != name) continue;
      const Mat analytic = p->grad;
      EXPECT_LT(testing::relative_gradient_error(loss, p->value, analytic), kGradTol) << p->name;
    }
  }
}

TEST(Model, EvaluateRunsInEvalModeAndRestoresTheMode) {
  Rng rng(kSeed);
  Model m = normalised_model(rng, 0.5);
  Dataset d;
  d.channels = 1;
  d.height = 2;
  d.width = 2;
  d.num_classes = 3;
  d.images = random_matrix(4, 7, rng);
  d.labels = {0, 1, 2, 0, 1, 2, 0};
  const Mat stats = bn_of(m).running_var().value;
  const Evaluation e1 = evaluate(m, d, 0, 3);
  const Evaluation e2 = evaluate(m, d, 0, 3);
  EXPECT_EQ(e1.loss, e2.loss);  // no dropout, no batch statistics
  EXPECT_EQ(bn_of(m).running_var().value, stats);
  EXPECT_TRUE(m.training());
  m.set_training(false);
  evaluate(m, d, 0, 3);
  EXPECT_FALSE(m.training());
}

TEST(Model, ExportWeightsHasEveryParameterAndBufferWithItsShape) {
  Rng rng(kSeed);
  Model m = normalised_model(rng, 0.5);
  bn_of(m).running_var().value(2, 0) = 7.0f;
  const std::vector<NamedTensor> ts = export_weights(m);
  std::vector<std::string> names;
  for (const NamedTensor& t : ts) names.push_back(t.name);
  EXPECT_EQ(names, (std::vector<std::string>{"dense0/W", "dense0/b", "bn0/gamma", "bn0/beta", "bn0/running_mean",
                                             "bn0/running_var", "dense1/W", "dense1/b"}));
  EXPECT_EQ(ts[0].shape, (std::vector<std::int64_t>{6, 4}));
  EXPECT_EQ(ts[2].shape, (std::vector<std::int64_t>{6}));
  EXPECT_EQ(ts[5].shape, (std::vector<std::int64_t>{6}));
  EXPECT_FLOAT_EQ(ts[5].data[2], 7.0f);
  EXPECT_FLOAT_EQ(ts[2].data[0], 1.0f);  // gamma starts at one
}

}  // namespace
}  // namespace ternbench::core
