// Model: registry, parameter count, layer policy, buffer reuse, end-to-end gradient.
#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "support/gradient_check.hpp"
#include "ternbench/base/error.hpp"
#include "ternbench/base/rng.hpp"
#include "ternbench/core/dense.hpp"
#include "ternbench/core/kernels/loss.hpp"
#include "ternbench/core/model.hpp"
#include "ternbench/core/relu.hpp"

namespace ternbench::core {
namespace {

// float32 central differences (eps 1e-2) through two dense layers, a ReLU and softmax-CE.
constexpr double kGradTol = 1e-2;
constexpr std::uint64_t kSeed = 5;

Mat random_matrix(Eigen::Index rows, Eigen::Index cols, Rng& rng) {
  Mat m(rows, cols);
  for (Eigen::Index i = 0; i < m.size(); ++i) m(i) = 2.0f * rng.uniform_float() - 1.0f;
  return m;
}

Model tiny_model(Rng& rng) {
  Model m("tiny");
  m.add(std::make_unique<Dense>("dense0", 4, 6, rng));
  m.add(std::make_unique<Relu>("relu0", 6));
  m.add(std::make_unique<Dense>("dense1", 6, 3, rng));
  return m;
}

TEST(Model, MlpHas545810ParametersNamedByHdf5Path) {
  Rng rng(kSeed);
  Model m = make_model("mlp", rng);
  EXPECT_EQ(m.param_count(), 784 * 500 + 500 + 500 * 300 + 300 + 300 * 10 + 10);
  EXPECT_EQ(m.param_count(), 545810);  // as PyTorch counts 784-500-300-10
  std::vector<std::string> names;
  for (const Param* p : m.params()) names.push_back(p->name);
  EXPECT_EQ(names, (std::vector<std::string>{"dense0/W", "dense0/b", "dense1/W", "dense1/b", "dense2/W", "dense2/b"}));
  EXPECT_EQ(m.input_size(), 784);
  EXPECT_EQ(m.output_size(), 10);
  EXPECT_EQ(m.weights().size(), 3u);
  EXPECT_EQ(model_shape("mlp").inputs, 784);
  EXPECT_EQ(model_shape("mlp").classes, 10);
}

TEST(Model, UnknownNameIsAnErrorListingValidNames) {
  Rng rng(kSeed);
  try {
    make_model("resnet-1000", rng);
    FAIL() << "expected ternbench::Error";
  } catch (const Error& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find("resnet-1000"), std::string::npos);
    EXPECT_NE(msg.find("mlp"), std::string::npos);
  }
  EXPECT_THROW(model_shape("nope"), Error);
}

TEST(Model, AddRejectsMismatchedLayer) {
  Rng rng(kSeed);
  Model m("bad");
  m.add(std::make_unique<Dense>("dense0", 4, 6, rng));
  EXPECT_THROW(m.add(std::make_unique<Dense>("dense1", 5, 3, rng)), Error);
}

TEST(Model, TwnPolicyQuantizesFirstAndMiddleButNotLastByDefault) {
  Rng rng(kSeed);
  Model m = make_model("mlp", rng);
  TrainConfig cfg;
  cfg.method = "twn";
  apply_method(m, cfg);
  const auto ws = m.weights();
  EXPECT_TRUE(ws[0]->quantized());
  EXPECT_TRUE(ws[1]->quantized());
  EXPECT_FALSE(ws[2]->quantized());

  Rng rng2(kSeed);
  Model m2 = make_model("mlp", rng2);
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
  Model m = make_model("mlp", rng);
  TrainConfig cfg;
  cfg.method = "fp";
  apply_method(m, cfg);
  for (const Weight* w : m.weights()) {
    EXPECT_FALSE(w->quantized());
    EXPECT_EQ(&w->deployed(), &w->latent().value);  // no copy for full precision
  }
}

TEST(Model, ApplyMethodRejectsUnknownMethod) {
  Rng rng(kSeed);
  Model m = make_model("mlp", rng);
  TrainConfig cfg;
  cfg.method = "ttq";
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

}  // namespace
}  // namespace ternbench::core
