// Warm starts: a run's parameters taken from another run's stored tensors, then mapped by
// the method into its latent parameters (SCA: theta from the weights scaled to a spread).
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "support/toy_data.hpp"
#include "ternbench/base/error.hpp"
#include "ternbench/base/rng.hpp"
#include "ternbench/core/train/metrics.hpp"
#include "ternbench/core/model/model.hpp"
#include "ternbench/core/methods/quantizer.hpp"
#include "ternbench/core/train/restore.hpp"
#include "ternbench/core/train/trainer.hpp"

namespace tb = ternbench;
using tb::core::NamedTensor;
using tb::core::TrainConfig;

namespace {

TrainConfig small(const std::string& method) {
  TrainConfig c;
  c.dataset = "toy";
  c.model = "custom";
  c.layers = {tb::core::parse_layer_spec("dense(16)"), tb::core::parse_layer_spec("batchnorm"),
              tb::core::parse_layer_spec("relu"), tb::core::parse_layer_spec("dense(10)")};
  c.method = method;
  c.epochs = 1;
  c.batch_size = 32;
  c.lr = 0.05;
  return c;
}

tb::core::Model model_of(const TrainConfig& c, std::uint64_t seed) {
  tb::Rng rng(seed);
  return tb::core::make_model(c, 1, 28, 28, 10, rng);
}

const NamedTensor& tensor(const std::vector<NamedTensor>& ts, const std::string& name) {
  const NamedTensor* t = tb::core::find_tensor(ts, name);
  EXPECT_NE(t, nullptr) << name;
  return *t;
}

}  // namespace

TEST(WarmStart, EveryParameterAndBufferIsTakenFromTheStoredTensors) {
  tb::core::Model source = model_of(small("fp"), 7);
  const std::vector<NamedTensor> stored = tb::core::export_weights(source);
  tb::core::Model run = model_of(small("fp"), 8);
  tb::core::load_stored_tensors(run, stored, "src.h5");
  const std::vector<NamedTensor> after = tb::core::export_weights(run);
  ASSERT_EQ(after.size(), stored.size());
  for (std::size_t i = 0; i < stored.size(); ++i) {
    EXPECT_EQ(after[i].name, stored[i].name);
    EXPECT_EQ(after[i].data, stored[i].data) << stored[i].name;
  }
}

TEST(WarmStart, ScaMapsTheSourceWeightsToThetaAtItsSpread) {
  tb::core::Model source = model_of(small("fp"), 7);
  const std::vector<NamedTensor> stored = tb::core::export_weights(source);
  TrainConfig sca = small("sca");
  sca.sca_init_std = 0.8;
  tb::core::Model run = model_of(sca, 8);
  tb::core::load_stored_tensors(run, stored, "src.h5");
  tb::core::apply_method(run, sca);
  // The first weight is quantized (quantize_first), the last stays fp (quantize_last = false).
  const NamedTensor& w0 = tensor(stored, "dense0/W");
  tb::core::Mat expect = Eigen::Map<const Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>>(
      w0.data.data(), w0.shape[0], w0.shape[1]);
  tb::core::sca_init_theta(expect, 0.8);
  EXPECT_TRUE(run.weights()[0]->latent().value == expect);
  const NamedTensor& w1 = tensor(stored, "dense1/W");
  const tb::core::Mat last = Eigen::Map<const Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>>(
      w1.data.data(), w1.shape[0], w1.shape[1]);
  EXPECT_TRUE(run.weights()[1]->latent().value == last);
}

TEST(WarmStart, TrainingFromStoredWeightsIsDeterministicAndDiffersFromAColdStart) {
  const tb::core::DataSplit data = tb::testing::toy_data(256, 64);
  const tb::core::TrainResult fp = tb::core::train(small("fp"), data);
  const tb::core::WarmStart warm{&fp.weights, "fp.h5"};
  const tb::core::TrainResult a = tb::core::train(small("twn"), data, {}, {}, warm);
  const tb::core::TrainResult b = tb::core::train(small("twn"), data, {}, {}, warm);
  const tb::core::TrainResult cold = tb::core::train(small("twn"), data);
  ASSERT_EQ(a.epochs.size(), 1u);
  EXPECT_EQ(a.epochs[0].train_loss, b.epochs[0].train_loss);
  EXPECT_EQ(a.epochs[0].test_loss, b.epochs[0].test_loss);
  EXPECT_NE(a.epochs[0].train_loss, cold.epochs[0].train_loss);
}

TEST(WarmStart, TensorsOfAnotherModelAreRefusedNamingTheFile) {
  TrainConfig other = small("fp");
  other.layers[0] = tb::core::parse_layer_spec("dense(8)");
  tb::core::Model source = model_of(other, 7);
  const std::vector<NamedTensor> stored = tb::core::export_weights(source);
  tb::core::Model run = model_of(small("fp"), 8);
  try {
    tb::core::load_stored_tensors(run, stored, "src.h5");
    FAIL() << "expected an Error";
  } catch (const tb::Error& e) {
    EXPECT_NE(std::string(e.what()).find("src.h5: tensor dense0/W has 6272 values"), std::string::npos) << e.what();
  }
}
