// The model registry: parameter counts worked out by hand, a forward and backward pass of
// every model, data-set-dependent input shapes, layer names, and custom stacks with their
// errors.
#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <vector>

#include "ternbench/base/error.hpp"
#include "ternbench/base/rng.hpp"
#include "ternbench/core/nn/batchnorm.hpp"
#include "ternbench/core/kernels/loss.hpp"
#include "ternbench/core/train/metrics.hpp"
#include "ternbench/core/model/model.hpp"

namespace ternbench::core {
namespace {

constexpr std::uint64_t kSeed = 21;

TrainConfig config(const std::string& model, std::vector<std::string> layers = {}) {
  TrainConfig cfg;
  cfg.model = model;
  for (const std::string& l : layers) cfg.layers.push_back(parse_layer_spec(l));
  return cfg;
}

struct Input {
  int c, h, w, classes;
};
constexpr Input kMnist{1, 28, 28, 10};
constexpr Input kCifar{3, 32, 32, 10};

Model build(const TrainConfig& cfg, Input in) {
  Rng rng(kSeed);
  return make_model(cfg, in.c, in.h, in.w, in.classes, rng);
}

std::vector<std::string> param_names(Model& m) {
  std::vector<std::string> out;
  for (const Param* p : m.params()) out.push_back(p->name);
  return out;
}

// Conv weights are out*in*k*k plus one bias per output channel; BN has gamma and beta per
// channel (running statistics are buffers, not parameters, as PyTorch counts).
constexpr std::int64_t conv(std::int64_t in, std::int64_t out, std::int64_t k) { return out * in * k * k + out; }
constexpr std::int64_t dense(std::int64_t in, std::int64_t out) { return out * in + out; }
constexpr std::int64_t bn(std::int64_t c) { return 2 * c; }

TEST(Models, NamesAreTheRegistry) {
  EXPECT_EQ(model_names(), (std::vector<std::string>{"mlp", "lenet300", "lenet5", "vgg7", "resnet20", "custom"}));
}

TEST(Models, MlpAndLenet300CountsOnMnist) {
  Model mlp = build(config("mlp"), kMnist);
  EXPECT_EQ(mlp.param_count(), dense(784, 500) + dense(500, 300) + dense(300, 10));
  EXPECT_EQ(mlp.param_count(), 545810);
  Model lenet300 = build(config("lenet300"), kMnist);
  EXPECT_EQ(lenet300.param_count(), dense(784, 300) + dense(300, 100) + dense(100, 10));
  EXPECT_EQ(lenet300.param_count(), 266610);  // 235,500 + 30,100 + 1,010
}

TEST(Models, InputSizeFollowsTheDataSet) {
  Model mlp = build(config("mlp"), kCifar);
  EXPECT_EQ(mlp.input_size(), 3072);
  EXPECT_EQ(mlp.param_count(), dense(3072, 500) + dense(500, 300) + dense(300, 10));
  const ModelShape s = model_shape(config("lenet5"), 3, 32, 32, 100);
  EXPECT_EQ(s.inputs, 3072);
  EXPECT_EQ(s.classes, 100);
  // LeNet-5 on 32x32x3: 32 -> 28 -> 14 -> 10 -> 5, so FC512 takes 64*5*5 = 1600 features.
  Model lenet5 = build(config("lenet5"), {3, 32, 32, 100});
  EXPECT_EQ(lenet5.output_size(), 100);
  EXPECT_EQ(lenet5.param_count(),
            conv(3, 32, 5) + bn(32) + conv(32, 64, 5) + bn(64) + dense(1600, 512) + bn(512) + dense(512, 100));
}

TEST(Models, Lenet5CountOnMnist) {
  // 28 -> conv5 24 -> pool 12 -> conv5 8 -> pool 4: FC512 takes 64*4*4 = 1024 features.
  //   conv0 32*1*25+32 = 832, bn0 64, conv1 64*32*25+64 = 51,264, bn1 128,
  //   dense0 1024*512+512 = 524,800, bn2 1,024, dense1 512*10+10 = 5,130.
  Model m = build(config("lenet5"), kMnist);
  EXPECT_EQ(m.param_count(),
            conv(1, 32, 5) + bn(32) + conv(32, 64, 5) + bn(64) + dense(1024, 512) + bn(512) + dense(512, 10));
  EXPECT_EQ(m.param_count(), 583242);
  EXPECT_EQ(param_names(m),
            (std::vector<std::string>{"conv0/W", "conv0/b", "bn0/gamma", "bn0/beta", "conv1/W", "conv1/b", "bn1/gamma",
                                      "bn1/beta", "dense0/W", "dense0/b", "bn2/gamma", "bn2/beta", "dense1/W",
                                      "dense1/b"}));
  // BN after a conv is per channel, after a dense layer per feature.
  EXPECT_EQ(m.buffers()[0]->value.rows(), 32);
  EXPECT_EQ(m.buffers()[4]->value.rows(), 512);
}

TEST(Models, Vgg7CountOnCifar) {
  // Padding 1 keeps 32x32; three pools: 32 -> 16 -> 8 -> 4, so FC1024 takes 512*4*4 = 8192.
  //   convs: 3,584 + 147,584 + 295,168 + 590,080 + 1,180,160 + 2,359,808 = 4,576,384
  //   six BN: 2*(128+128+256+256+512+512) = 3,584
  //   dense0 8192*1024+1024 = 8,389,632, bn6 2,048, dense1 10,250
  Model m = build(config("vgg7"), kCifar);
  EXPECT_EQ(m.param_count(), conv(3, 128, 3) + bn(128) + conv(128, 128, 3) + bn(128) + conv(128, 256, 3) + bn(256) +
                                 conv(256, 256, 3) + bn(256) + conv(256, 512, 3) + bn(512) + conv(512, 512, 3) +
                                 bn(512) + dense(8192, 1024) + bn(1024) + dense(1024, 10));
  EXPECT_EQ(m.param_count(), 12981898);
  EXPECT_EQ(m.weights().size(), 8u);
}

TEST(Models, Resnet20CountOnCifar) {
  // Stem conv 3->16. Stage 1: three blocks 16->16 (bn0 16, conv 16->16, bn1 16, conv 16->16).
  // Stages 2 and 3 open with a block that halves H, W and projects the shortcut with a 1x1
  // conv (its bn0 sees the block's input channels), then two blocks at the stage's width.
  // Final BN at 64, global average pooling, FC 64 -> 10. Layer by layer: stem 448; stage 1
  // 3 x 4,704 = 14,112; stage 2 14,528 + 2 x 18,624 = 51,776; stage 3 57,728 + 2 x 74,112 =
  // 205,952; final BN 128; FC 650; total 273,066.
  constexpr std::int64_t stage1 = 3 * (bn(16) + conv(16, 16, 3) + bn(16) + conv(16, 16, 3));
  constexpr std::int64_t stage2 = (bn(16) + conv(16, 32, 3) + bn(32) + conv(32, 32, 3) + conv(16, 32, 1)) +
                                  2 * (bn(32) + conv(32, 32, 3) + bn(32) + conv(32, 32, 3));
  constexpr std::int64_t stage3 = (bn(32) + conv(32, 64, 3) + bn(64) + conv(64, 64, 3) + conv(32, 64, 1)) +
                                  2 * (bn(64) + conv(64, 64, 3) + bn(64) + conv(64, 64, 3));
  Model m = build(config("resnet20"), kCifar);
  EXPECT_EQ(m.param_count(), conv(3, 16, 3) + stage1 + stage2 + stage3 + bn(64) + dense(64, 10));
  EXPECT_EQ(m.param_count(), 273066);
  // 19 3x3 convs + 2 projections + the FC: "20" counts the 19 convs and the FC.
  const std::vector<Weight*> ws = m.weights();
  ASSERT_EQ(ws.size(), 22u);
  EXPECT_EQ(ws.front()->latent().name, "conv0/W");
  EXPECT_EQ(ws[1]->latent().name, "block0/conv0/W");
  EXPECT_EQ(ws[7]->latent().name, "block3/conv0/W");
  EXPECT_EQ(ws[9]->latent().name, "block3/shortcut/W");
  EXPECT_EQ(ws.back()->latent().name, "dense0/W");
  EXPECT_EQ(m.buffers().size(), 2u * (9 * 2 + 1));
}

TEST(Models, Resnet20ExportsNestedPathsWithShapes) {
  Model m = build(config("resnet20"), kCifar);
  const std::vector<NamedTensor> ts = export_weights(m);
  auto shape_of = [&](const std::string& n) {
    for (const NamedTensor& t : ts) {
      if (t.name == n) return t.shape;
    }
    return std::vector<std::int64_t>{};
  };
  EXPECT_EQ(shape_of("conv0/W"), (std::vector<std::int64_t>{16, 3, 3, 3}));
  EXPECT_EQ(shape_of("block3/shortcut/W"), (std::vector<std::int64_t>{32, 16, 1, 1}));
  EXPECT_EQ(shape_of("block3/bn0/running_var"), (std::vector<std::int64_t>{16}));
  EXPECT_EQ(shape_of("block8/conv1/b"), (std::vector<std::int64_t>{64}));
  EXPECT_EQ(shape_of("dense0/W"), (std::vector<std::int64_t>{10, 64}));
  // Every parameter and buffer, once.
  EXPECT_EQ(ts.size(), m.params().size() + m.buffers().size());
}

// One training step's worth of work on a batch of two: logits of the right shape, finite
// gradients for every parameter.
void forward_backward(const std::string& name, Input in) {
  SCOPED_TRACE(name);
  Model m = build(config(name), in);
  Rng rng(kSeed + 1);
  Mat x(m.input_size(), 2);
  for (Eigen::Index i = 0; i < x.size(); ++i) x(i) = rng.uniform_float();
  const std::vector<std::uint8_t> labels = {3, 7};
  Mat dlogits(in.classes, 2);
  const Eigen::Ref<const Mat> logits = m.forward(x);
  ASSERT_EQ(logits.rows(), in.classes);
  ASSERT_EQ(logits.cols(), 2);
  const kernels::LossResult r = kernels::softmax_cross_entropy(logits, labels, dlogits);
  EXPECT_TRUE(std::isfinite(r.loss));
  m.backward(x, dlogits);
  double total = 0;
  for (const Param* p : m.params()) {
    EXPECT_TRUE(p->grad.allFinite()) << p->name;
    total += p->grad.cwiseAbs().sum();
  }
  EXPECT_GT(total, 0.0);
  m.set_training(false);
  EXPECT_TRUE(Mat(m.forward(x)).allFinite());
}

TEST(Models, MlpRunsForwardAndBackward) { forward_backward("mlp", kMnist); }
TEST(Models, Lenet300RunsForwardAndBackward) { forward_backward("lenet300", kMnist); }
TEST(Models, Lenet5RunsForwardAndBackward) { forward_backward("lenet5", kMnist); }
TEST(Models, Vgg7RunsForwardAndBackward) { forward_backward("vgg7", kCifar); }
TEST(Models, Resnet20RunsForwardAndBackward) { forward_backward("resnet20", kCifar); }
TEST(Models, Resnet20RunsOnMnistShapes) { forward_backward("resnet20", kMnist); }  // 28 -> 14 -> 7

TEST(Models, TwnPolicyReachesTheConvolutionsInsideResidualBlocks) {
  // TTQ's ResNet-20 setting: first and last layer full precision, every other conv ternary,
  // shortcut projections included.
  Model m = build(config("resnet20"), kCifar);
  TrainConfig cfg = config("resnet20");
  cfg.method = "twn";
  cfg.quantize_first = false;
  apply_method(m, cfg);
  const std::vector<Weight*> ws = m.weights();
  EXPECT_FALSE(ws.front()->quantized());
  EXPECT_FALSE(ws.back()->quantized());
  for (std::size_t i = 1; i + 1 < ws.size(); ++i) EXPECT_TRUE(ws[i]->quantized()) << ws[i]->latent().name;
}

TEST(Models, ExportAndStatisticsIncludeConvWeights) {
  Model m = build(config("lenet5"), kMnist);
  TrainConfig cfg = config("lenet5");
  cfg.method = "twn";
  apply_method(m, cfg);
  const std::vector<NamedTensor> ts = export_weights(m);
  auto find = [&](const std::string& n) -> const NamedTensor* {
    for (const NamedTensor& t : ts) {
      if (t.name == n) return &t;
    }
    return nullptr;
  };
  ASSERT_NE(find("conv1/W"), nullptr);
  EXPECT_EQ(find("conv1/W")->shape, (std::vector<std::int64_t>{64, 32, 5, 5}));
  ASSERT_NE(find("conv1/W_latent"), nullptr);
  EXPECT_EQ(find("conv1/W_latent")->shape, (std::vector<std::int64_t>{64, 32, 5, 5}));
  ASSERT_NE(find("bn2/running_var"), nullptr);
  EXPECT_EQ(find("bn2/running_var")->shape, (std::vector<std::int64_t>{512}));
  EXPECT_EQ(find("dense1/W_latent"), nullptr);  // the last layer stays fp
  TrainResult result;
  summarize_weights(m, result);
  ASSERT_EQ(result.layers.size(), 4u);
  EXPECT_EQ(result.layers[0].name, "conv0/W");
  EXPECT_EQ(result.layers[1].precision, "ternary");
  EXPECT_EQ(result.layers[1].n, 64 * 32 * 25);
  EXPECT_EQ(result.n_weights, 32 * 25 + 64 * 32 * 25 + 1024 * 512 + 512 * 10);
}

TEST(Models, CustomStackBuildsWithNamesByKind) {
  const TrainConfig cfg = config("custom", {"conv(4, kernel=3, padding=1)", "batchnorm", "relu", "maxpool(2)",
                                            "dropout(0.25)", "gap", "dense(16)", "batchnorm", "relu", "dense(10)"});
  Model m = build(cfg, {1, 8, 8, 10});
  std::vector<std::string> names;
  for (const auto& l : m.layers()) names.push_back(l->name());
  EXPECT_EQ(names, (std::vector<std::string>{"conv0", "bn0", "relu0", "pool0", "dropout0", "gap0", "dense0", "bn1",
                                             "relu1", "dense1"}));
  EXPECT_EQ(m.layers()[1]->in_features(), 4 * 8 * 8);  // per channel over 8x8
  EXPECT_EQ(m.layers()[1]->params()[0]->value.rows(), 4);
  EXPECT_EQ(m.layers()[7]->params()[0]->value.rows(), 16);  // per feature after dense
  EXPECT_EQ(m.layers()[5]->in_features(), 4 * 4 * 4);      // gap after the 2x2 pool
  EXPECT_EQ(model_shape(cfg, 1, 8, 8, 10).inputs, 64);
}

TEST(Models, CustomStackRunsForwardAndBackward) {
  TrainConfig cfg = config("custom", {"conv(3, kernel=3)", "relu", "flatten", "dropout(0.5)", "dense(10)"});
  Model m = build(cfg, {2, 6, 6, 10});
  Mat x = Mat::Ones(2 * 6 * 6, 2), dlogits = Mat::Ones(10, 2);
  EXPECT_EQ(m.forward(x).rows(), 10);
  m.backward(x, dlogits);
}

// Each bad stack throws ternbench::Error from both model_shape and make_model, naming the
// layer by index with its spelling and saying what is wrong.
struct BadStack {
  std::vector<std::string> layers;
  Input in;
  std::vector<std::string> expected;  // substrings of the message
};

void expect_rejected(const BadStack& bad) {
  const TrainConfig cfg = config("custom", bad.layers);
  for (int pass = 0; pass < 2; ++pass) {
    try {
      if (pass == 0) {
        model_shape(cfg, bad.in.c, bad.in.h, bad.in.w, bad.in.classes);
      } else {
        build(cfg, bad.in);
      }
      ADD_FAILURE() << "expected ternbench::Error (pass " << pass << ")";
    } catch (const Error& e) {
      const std::string msg = e.what();
      for (const std::string& s : bad.expected) EXPECT_NE(msg.find(s), std::string::npos) << msg << " lacks " << s;
    }
  }
}

TEST(Models, CustomConvAfterDenseIsAnError) {
  expect_rejected({{"dense(32)", "relu", "conv(8, kernel=3)", "dense(10)"},
                   kMnist,
                   {"custom model", "layers[2] = conv(8, kernel=3, stride=1, padding=0)", "needs an image input"}});
}

TEST(Models, CustomGapAfterFlattenIsAnError) {
  expect_rejected({{"conv(8, kernel=3)", "flatten", "gap", "dense(10)"}, kMnist, {"layers[2] = gap", "image input"}});
}

TEST(Models, CustomKernelLargerThanInputIsAnError) {
  expect_rejected({{"conv(8, kernel=29)", "flatten", "dense(10)"}, kMnist, {"layers[0]", "kernel 29", "28x28"}});
  // 28 -> 24 -> 12 -> 8 -> 4: a third 5x5 conv does not fit the 4x4 map.
  expect_rejected({{"conv(8, kernel=5)", "maxpool(2)", "conv(8, kernel=5)", "maxpool(2)", "conv(8, kernel=5)",
                    "flatten", "dense(10)"},
                   kMnist,
                   {"layers[4]", "kernel 5", "4x4"}});
  expect_rejected({{"maxpool(kernel=3, stride=3)", "maxpool(kernel=3, stride=3)", "maxpool(kernel=3, stride=3)",
                    "maxpool(kernel=3, stride=3)", "dense(10)"},
                   kMnist,
                   {"layers[3]", "kernel 3", "1x1"}});  // 28 -> 9 -> 3 -> 1
}

TEST(Models, CustomWrongClassCountIsAnError) {
  expect_rejected({{"dense(64)", "relu", "dense(5)"}, kMnist, {"layers[2] = dense(5)", "5 outputs", "10 classes"}});
}

// Both are refused before any layer is built: the first would otherwise allocate a
// 65536 x 65536 weight matrix (16 GiB with its gradient), and the test would end in
// std::bad_alloc instead of ternbench::Error.
TEST(Models, CustomStackOverTheParameterMaximumIsAnError) {
  expect_rejected({{"dense(65536)", "dense(65536)", "dense(10)"},
                   kMnist,
                   {"custom model: layers[0] = dense(65536): the model reaches 51445760 parameters here, more than "
                    "the maximum of 50000000"}});
  // 784 x 63000 + 63000 = 49.5 million, and 49.6 with batch norm: under the maximum until
  // the last layer. (Shapes only: building the first layer would take seconds.)
  try {
    model_shape(config("custom", {"dense(63000)", "batchnorm", "dense(10)"}), 1, 28, 28, 10);
    ADD_FAILURE() << "expected ternbench::Error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("layers[2] = dense(10): the model reaches 50211010 parameters"),
              std::string::npos)
        << e.what();
  }
}

TEST(Models, CustomStackOverTheActivationMaximumIsAnError) {
  // 10,000 channels of 28x28 = 7.84 million values; the ReLU after them doubles that.
  expect_rejected({{"conv(10000, kernel=1)", "relu", "gap", "dense(10)"},
                   kMnist,
                   {"layers[1] = relu: the layers up to here make 15680000 activation values per image, more than "
                    "the maximum of 8000000"}});
}

TEST(Models, BuiltInModelsAreUnderTheSizeMaxima) {
  for (const std::string& name : model_names()) {
    if (name == "custom") continue;
    EXPECT_NO_THROW(model_shape(config(name), 3, 32, 32, 10)) << name;
    EXPECT_NO_THROW(model_shape(config(name), 1, 28, 28, 10)) << name;
  }
}

TEST(Models, CustomEmptyStackIsAnError) { expect_rejected({{}, kMnist, {"custom model", "empty"}}); }

TEST(Models, CustomUnknownTypeIsAnError) {
  TrainConfig cfg = config("custom");
  LayerSpec s;
  s.type = "softmax";
  cfg.layers = {s};
  EXPECT_THROW(model_shape(cfg, 1, 28, 28, 10), Error);
}

TEST(Models, BuiltInModelTooBigForItsInputIsAnError) {
  try {
    model_shape(config("lenet5"), 1, 8, 8, 10);  // 8 -> 4 -> 2, then a 5x5 kernel
    FAIL() << "expected ternbench::Error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("model 'lenet5'"), std::string::npos) << e.what();
  }
  EXPECT_THROW(model_shape(config("mlp"), 0, 28, 28, 10), Error);
}

}  // namespace
}  // namespace ternbench::core
