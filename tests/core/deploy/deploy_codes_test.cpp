// read_stored_codes, which every reader of stored codes goes through (restore_model for the
// float model, the ternary engine): codes that do not decode to the stored W, or whose
// attributes do not fit the model, are refused as bad input naming the file and the tensor.
#include "ternbench/core/deploy/deploy_codes.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "support/error_of.hpp"
#include "support/toy_data.hpp"
#include "ternbench/base/error.hpp"
#include "ternbench/core/deploy/ternary_net.hpp"
#include "ternbench/core/train/restore.hpp"
#include "ternbench/core/train/trainer.hpp"

namespace ternbench::core {
namespace {

using ternbench::testing::error_of;
using ternbench::testing::toy_data;

struct Trained {
  DataSplit data = toy_data(60, 20);
  TrainConfig cfg;
  std::vector<NamedTensor> weights;
  Trained() {
    cfg.method = "twn";
    cfg.model = "custom";
    for (const char* l : {"dense(8)", "batchnorm", "relu", "dense(10)"}) cfg.layers.push_back(parse_layer_spec(l));
    cfg.quantize_last = true;
    cfg.epochs = 1;
    cfg.batch_size = 32;
    cfg.lr = 0.05;
    weights = train(cfg, data).weights;
  }
  NamedTensor& tensor(const std::string& name) {
    for (auto& t : weights)
      if (t.name == name) return t;
    throw std::runtime_error("no tensor " + name);
  }
  AttrValue& attr(const std::string& name, const std::string& key) {
    for (auto& [k, v] : tensor(name).attrs)
      if (k == key) return v;
    throw std::runtime_error("no attribute " + key);
  }
  // What restore_model (the float model's path) refuses the tensors with.
  std::string restore_refusal() {
    return error_of<DataError>([&] { (void)restore_model(cfg, data, weights, "run.h5"); });
  }
};

TEST(DeployCodes, StoredCodesDecodeToTheStoredWeightsOnEveryPath) {
  Trained t;
  EXPECT_EQ(t.restore_refusal(), testing::kNoError);
  Model model = restore_model(t.cfg, t.data, t.weights, "run.h5");
  EXPECT_EQ(error_of([&] { TernaryNet net(model, t.weights, "run.h5", 1); }), testing::kNoError);
}

// The float path trusted the codes before; now it refuses what the engine refuses.
TEST(DeployCodes, CodesThatDisagreeWithTheStoredWeightsAreRefusedByTheFloatModelAndTheEngine) {
  Trained t;
  Model model = restore_model(t.cfg, t.data, t.weights, "run.h5");
  float& w = t.tensor("dense1/W").data[7];
  w = w == 0 ? 1.0f : 0.0f;
  const std::string msg = t.restore_refusal();
  EXPECT_EQ(msg.rfind("run.h5: dense1/W_codes decodes to ", 0), 0u) << msg;
  EXPECT_NE(msg.find(" at (0, 7) where dense1/W holds "), std::string::npos) << msg;
  EXPECT_EQ(error_of<DataError>([&] { TernaryNet net(model, t.weights, "run.h5", 1); }), msg);
}

TEST(DeployCodes, AChangedEncodingDecodesToOtherWeightsAndIsRefused) {
  Trained t;
  t.attr("dense0/W_codes", "encoding") = std::string("binary");
  const std::string msg = t.restore_refusal();
  EXPECT_EQ(msg.rfind("run.h5: dense0/W_codes decodes to ", 0), 0u) << msg;
  EXPECT_NE(msg.find("where dense0/W holds"), std::string::npos) << msg;
}

TEST(DeployCodes, CodesOfAnotherShapeOrWithoutTheirWeightsAreRefused) {
  Trained rows;
  rows.attr("dense0/W_codes", "rows") = std::int64_t{4};
  EXPECT_EQ(rows.restore_refusal(),
            "run.h5: attribute rows of dense0/W_codes is 4, but dense0/W has 8 rows; the file was edited or damaged, "
            "restore it from a copy or train the run again");
  Trained layout;
  layout.attr("dense0/W_codes", "scale_layout") = std::string("diagonal");
  EXPECT_NE(layout.restore_refusal().find("run.h5: dense0/W_codes: codes: unknown scale_layout 'diagonal'"),
            std::string::npos);
  Trained missing;
  std::erase_if(missing.weights, [](const NamedTensor& t) { return t.name == "dense0/W"; });
  EXPECT_EQ(missing.restore_refusal(),
            "run.h5: no tensor dense0/W of 6272 float32 values beside dense0/W_codes; the file was edited or "
            "damaged, restore it from a copy or train the run again");
}

}  // namespace
}  // namespace ternbench::core
