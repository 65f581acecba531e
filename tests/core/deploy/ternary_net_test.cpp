// The ternary engine on trained models of every method: the same predictions as the float
// model, folded batch norms, the float steps it keeps, and the files it refuses.
#include "ternbench/core/deploy/ternary_net.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "support/error_of.hpp"
#include "support/toy_data.hpp"
#include "ternbench/base/error.hpp"
#include "ternbench/core/methods/method.hpp"
#include "ternbench/core/train/restore.hpp"
#include "ternbench/core/train/trainer.hpp"

namespace ternbench::core {
namespace {

using ternbench::testing::error_of;
using ternbench::testing::toy_data;

// Every layer kind the engine runs: conv with padding and with stride, batch norm after a
// conv and after a dense layer, pooling, dropout, and a float last layer.
TrainConfig conv_config(const std::string& method) {
  TrainConfig cfg;
  cfg.method = method;
  cfg.model = "custom";
  for (const char* l : {"conv(4, kernel=3, padding=1)", "batchnorm", "relu", "maxpool(2)",
                        "conv(6, kernel=3, stride=2)", "relu", "flatten", "dropout(0.1)", "dense(16)", "batchnorm",
                        "relu", "dense(10)"})
    cfg.layers.push_back(parse_layer_spec(l));
  cfg.epochs = 1;
  cfg.batch_size = 32;
  cfg.lr = 0.05;
  cfg.seed = 7;
  cfg.test_limit = 60;
  if (method == "faraone") cfg.faraone_stage1_epochs = cfg.faraone_retrain_epochs = 1;
  return cfg;
}

TEST(TernaryNet, EveryMethodPredictsAsTheFloatModelOnOneAndTwoThreads) {
  const DataSplit data = toy_data(120, 60);
  for (const std::string& method : method_names()) {
    for (const bool last : {false, true}) {
      TrainConfig cfg = conv_config(method);
      cfg.quantize_last = last;
      const TrainResult r = train(cfg, data);
      Model model = restore_model(cfg, data, r.weights, "run.h5");
      const Dataset test = test_split_as_evaluated(cfg, data);
      const Evaluation want = evaluate_test_split(cfg, data, model);
      std::vector<int> float_pred;
      (void)evaluate(model, test, 0, 1000, &float_pred);
      for (const int threads : {1, 2}) {
        TernaryNet net(model, r.weights, "run.h5", threads);
        std::vector<int> pred;
        const Evaluation got = evaluate_engine(net, test, 0, 25, &pred);
        EXPECT_EQ(pred, float_pred) << method << " last=" << last << " threads=" << threads;
        EXPECT_EQ(got.accuracy, want.accuracy) << method;
        EXPECT_NEAR(got.loss, want.loss, 1e-4 * (1 + want.loss)) << method;
        // Logits agree to rounding: folding a batch norm changes the order of operations only.
        const Mat engine = net.forward(test.images.leftCols(8));
        const Mat reference = model.forward(test.images.leftCols(8));
        EXPECT_LE((engine - reference).cwiseAbs().maxCoeff(), 1e-4f * (1 + reference.cwiseAbs().maxCoeff()))
            << method;
      }
      TernaryNet net(model, r.weights, "run.h5", 1);
      std::vector<std::string> kinds;
      for (const auto& s : net.steps()) kinds.push_back(s.name + " " + s.kind);
      const bool quantized = method != "fp";
      const std::string conv = quantized ? "conv0+bn0 ternary conv" : "conv0 float conv";
      EXPECT_EQ(kinds.front(), conv) << method;
      EXPECT_EQ(kinds.back(), quantized && last ? "dense1 ternary dense" : "dense1 float dense") << method;
      std::size_t sum = 0;
      for (const auto& s : net.steps()) sum += s.bytes;
      EXPECT_EQ(net.bytes(), sum);
      // Weights and biases of conv0 (4*9 + 4), conv1 (6*4*9 + 6), dense0 (16*216 + 16: conv1
      // gives 6 channels of 6x6) and dense1 (10*16 + 10); bn0 and bn1 hold 4 values per channel.
      EXPECT_EQ(net.float32_bytes(), 4u * (40 + 222 + 3472 + 170 + 4 * 4 + 4 * 16));
      if (!quantized) {
        EXPECT_EQ(kinds[1], "bn0 float batchnorm");
      }
    }
  }
}

TEST(TernaryNet, CodesThatDisagreeWithTheStoredWeightsAreRefused) {
  const DataSplit data = toy_data(60, 20);
  TrainConfig cfg = conv_config("twn");
  const TrainResult r = train(cfg, data);
  std::vector<NamedTensor> edited = r.weights;
  for (auto& t : edited) {
    if (t.name == "conv1/W") t.data[5] = t.data[5] == 0 ? 1.0f : 0.0f;
  }
  // restore_model refuses the edited tensors too (deploy_codes_test); the engine is given
  // them beside a model restored from the unedited ones.
  Model model = restore_model(cfg, data, r.weights, "run.h5");
  const std::string msg = error_of<DataError>([&] { TernaryNet net(model, edited, "run.h5", 1); });
  EXPECT_NE(msg.find("run.h5: conv1/W_codes decodes to "), std::string::npos) << msg;
  EXPECT_NE(msg.find("at (0, 5) where conv1/W holds"), std::string::npos) << msg;
}

TEST(TernaryNet, ResidualBlocksAreNamedAsNotRunByTheEngine) {
  DataSplit data = toy_data(8, 8);
  TrainConfig cfg;
  cfg.method = "twn";
  cfg.model = "resnet20";
  cfg.epochs = 1;
  cfg.batch_size = 8;
  const TrainResult r = train(cfg, data);
  Model model = restore_model(cfg, data, r.weights, "res.h5");
  const std::string msg = error_of([&] { TernaryNet net(model, r.weights, "res.h5", 1); });
  EXPECT_NE(msg.find("res.h5: layer block0 is of a kind the ternary engine does not run"), std::string::npos) << msg;
}

}  // namespace
}  // namespace ternbench::core
