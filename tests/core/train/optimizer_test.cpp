// SGD (momentum, Nesterov) and Adam in PyTorch's conventions, on hand-computed steps; the
// state buffers a checkpoint saves.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <string>
#include <vector>

#include "ternbench/base/error.hpp"
#include "ternbench/core/train/optimizer.hpp"

namespace ternbench::core {
namespace {

Param make_param(std::initializer_list<float> values, bool decay) {
  Param p;
  p.name = std::string(decay ? "weight" : "bias");
  p.value.resize(static_cast<Eigen::Index>(values.size()), 1);
  Eigen::Index i = 0;
  for (float v : values) p.value(i++, 0) = v;
  p.grad = Mat::Constant(p.value.rows(), 1, 0.5f);
  p.decay = decay;
  return p;
}

TEST(Sgd, MomentumAndWeightDecayStepsMatchHandComputation) {
  Param w = make_param({1.0f, -2.0f}, true);
  Param b = make_param({1.0f}, false);
  Sgd opt({&w, &b}, /*lr=*/0.1, /*momentum=*/0.9, /*weight_decay=*/0.01);
  opt.step();
  // w0: g = 0.5 + 0.01*1 = 0.51, v = 0.51, w = 1 - 0.051
  // w1: g = 0.5 - 0.02 = 0.48, v = 0.48, w = -2 - 0.048
  // b (no decay): v = 0.5, b = 1 - 0.05
  EXPECT_FLOAT_EQ(w.value(0, 0), 0.949f);
  EXPECT_FLOAT_EQ(w.value(1, 0), -2.048f);
  EXPECT_FLOAT_EQ(b.value(0, 0), 0.95f);
  opt.step();  // same gradients
  // w0: g = 0.5 + 0.00949 = 0.50949, v = 0.9*0.51 + 0.50949 = 0.96849, w = 0.949 - 0.096849
  // w1: g = 0.5 - 0.02048 = 0.47952, v = 0.432 + 0.47952 = 0.91152, w = -2.048 - 0.091152
  // b: v = 0.45 + 0.5 = 0.95, b = 0.95 - 0.095
  EXPECT_FLOAT_EQ(w.value(0, 0), 0.852151f);
  EXPECT_FLOAT_EQ(w.value(1, 0), -2.139152f);
  EXPECT_FLOAT_EQ(b.value(0, 0), 0.855f);
}

TEST(Sgd, LargeParametersSplitAcrossThreadsStepToTheOneThreadBits) {
  // 70001 values: above the size that is split, and not a whole number of vectors.
  for (const bool nesterov : {false, true}) {
    Param w[2];
    for (Param& p : w) {
      p.decay = true;
      p.value.resize(70001, 1);
      p.grad.resize(70001, 1);
      for (Eigen::Index i = 0; i < p.value.size(); ++i) {
        p.value(i) = std::sin(0.37f * static_cast<float>(i));
        p.grad(i) = std::cos(0.11f * static_cast<float>(i));
      }
    }
    Sgd one({&w[0]}, 0.05, 0.9, 1e-4, nesterov), two({&w[1]}, 0.05, 0.9, 1e-4, nesterov);
    const int saved = Eigen::nbThreads();
    for (int step = 0; step < 3; ++step) {
      Eigen::setNbThreads(1);
      one.step();
      Eigen::setNbThreads(2);
      two.step();
    }
    Eigen::setNbThreads(saved);
    EXPECT_EQ(std::memcmp(w[0].value.data(), w[1].value.data(), sizeof(float) * 70001), 0) << "nesterov " << nesterov;
    EXPECT_EQ(std::memcmp(one.state()[0].second->data(), two.state()[0].second->data(), sizeof(float) * 70001), 0);
  }
}

// Records what the optimizer hands an UpdateHook: which values each block covered, and
// that they were already updated (the hook runs after the update of its block).
class RecordingHook final : public UpdateHook {
 public:
  explicit RecordingHook(const Mat* before) : before_(before) {}
  Eigen::Index block_size(Eigen::Index) const override { return 4096; }
  void begin(Eigen::Index blocks) override {
    ++begins;
    seen.assign(static_cast<std::size_t>(before_->size()), 0);
    blocks_expected = blocks;
  }
  void block(Eigen::Index b, float* values, Eigen::Index e0, Eigen::Index e1) override {
    if (e0 != b * 4096 || e1 > e0 + 4096) ++bad_blocks;
    for (Eigen::Index e = e0; e < e1; ++e) {
      seen[static_cast<std::size_t>(e)] += 1;
      if (values[e] == (*before_)(e)) ++unchanged;
    }
  }
  void end() override { ++ends; }
  int begins = 0, ends = 0, bad_blocks = 0;
  Eigen::Index blocks_expected = 0, unchanged = 0;
  std::vector<int> seen;

 private:
  const Mat* before_;
};

TEST(Sgd, UpdateHookSeesEveryUpdatedValueOnceAndTheBitsDoNotMove) {
  for (const int threads : {1, 2, 3}) {
    Param plain, hooked;
    for (Param* p : {&plain, &hooked}) {
      p->decay = true;
      p->value.resize(70001, 1);
      p->grad.resize(70001, 1);
      for (Eigen::Index i = 0; i < p->value.size(); ++i) {
        p->value(i) = std::sin(0.37f * static_cast<float>(i)) + 2.0f;  // no value stays put
        p->grad(i) = std::cos(0.11f * static_cast<float>(i)) + 2.0f;
      }
    }
    const Mat before = hooked.value;
    RecordingHook hook(&before);
    hooked.after_update = &hook;
    Sgd a({&plain}, 0.05, 0.9, 1e-4), b({&hooked}, 0.05, 0.9, 1e-4);
    const int saved = Eigen::nbThreads();
    Eigen::setNbThreads(threads);
    a.step();
    b.step();
    Eigen::setNbThreads(saved);
    EXPECT_EQ(std::memcmp(plain.value.data(), hooked.value.data(), sizeof(float) * 70001), 0) << threads;
    EXPECT_EQ(hook.begins, 1);
    EXPECT_EQ(hook.ends, 1);
    EXPECT_EQ(hook.blocks_expected, (70001 + 4095) / 4096);
    EXPECT_EQ(hook.bad_blocks, 0);
    EXPECT_EQ(hook.unchanged, 0);
    EXPECT_EQ(std::count(hook.seen.begin(), hook.seen.end(), 1), 70001) << threads;
  }
}

TEST(Sgd, WithoutMomentumIsPlainGradientDescent) {
  Param w = make_param({3.0f}, true);
  Sgd opt({&w}, 0.2, 0.0, 0.0);
  opt.step();
  opt.step();
  EXPECT_FLOAT_EQ(w.value(0, 0), 3.0f - 2 * 0.2f * 0.5f);
}

TEST(Sgd, ParameterLearningRateScaleMultipliesOnlyItsStep) {
  Param theta = make_param({1.0f}, false);
  Param b = make_param({1.0f}, false);
  theta.lr_scale = 10.0f;
  Sgd opt({&theta, &b}, 0.1, 0.9, 0.0);
  opt.step();  // v = 0.5 each; theta -= 0.1 * 10 * 0.5, b -= 0.1 * 0.5
  EXPECT_FLOAT_EQ(theta.value(0, 0), 0.5f);
  EXPECT_FLOAT_EQ(b.value(0, 0), 0.95f);
  opt.step();  // v = 0.95
  EXPECT_FLOAT_EQ(theta.value(0, 0), 0.5f - 0.95f);
  EXPECT_FLOAT_EQ(b.value(0, 0), 0.95f - 0.095f);
}

TEST(Adam, ParameterLearningRateScaleMultipliesOnlyItsStep) {
  Param theta = make_param({1.0f}, false);
  Param b = make_param({1.0f}, false);
  theta.lr_scale = 4.0f;
  Adam opt({&theta, &b}, 0.01, 0.9, 0.999, 1e-8, 0.0);
  opt.step();  // first bias-corrected step is lr * g / |g| = lr
  EXPECT_NEAR(theta.value(0, 0), 1.0f - 0.04f, 1e-6f);
  EXPECT_NEAR(b.value(0, 0), 1.0f - 0.01f, 1e-6f);
}

TEST(Sgd, QuadraticConvergesToItsMinimum) {
  // L = 0.5 (w - 3)^2 ⇒ the optimum is w = 3.
  Param w = make_param({-4.0f}, false);
  Sgd opt({&w}, 0.1, 0.9, 0.0);
  for (int i = 0; i < 500; ++i) {
    w.grad(0, 0) = w.value(0, 0) - 3.0f;
    opt.step();
  }
  EXPECT_NEAR(w.value(0, 0), 3.0f, 1e-5f);
}

// Float32 results of a few multiply-adds on values near 1 against the exact decimals of the
// hand computation: a handful of float roundings (~6e-8 each). torch.optim (1.13, float32)
// gives the same digits to this tolerance.
constexpr float kStepTol = 1e-6f;

// w = [1, -2] (decayed), b = [0.5] (not decayed); gradients of step 1 and step 2.
struct TwoSteps {
  Param w, b;
  TwoSteps() {
    w = make_param({1.0f, -2.0f}, true);
    b = make_param({0.5f}, false);
  }
  void set_grads(int step) {
    if (step == 1) {
      w.grad << 0.5f, -0.25f;
      b.grad << 0.2f;
    } else {
      w.grad << -0.1f, 0.3f;
      b.grad << 0.4f;
    }
  }
};

TEST(Sgd, NesterovStepsMatchHandComputation) {
  TwoSteps t;
  Sgd opt({&t.w, &t.b}, /*lr=*/0.1, /*momentum=*/0.9, /*weight_decay=*/0.01, /*nesterov=*/true);
  t.set_grads(1);
  opt.step();
  // w0: g = 0.5 + 0.01*1 = 0.51,       v = 0.51,   w0 = 1 - 0.1*(0.51 + 0.9*0.51)     = 0.9031
  // w1: g = -0.25 + 0.01*(-2) = -0.27, v = -0.27,  w1 = -2 - 0.1*(-0.27 - 0.243)      = -1.9487
  // b:  g = 0.2 (no decay),            v = 0.2,    b  = 0.5 - 0.1*(0.2 + 0.18)        = 0.462
  EXPECT_NEAR(t.w.value(0, 0), 0.9031f, kStepTol);
  EXPECT_NEAR(t.w.value(1, 0), -1.9487f, kStepTol);
  EXPECT_NEAR(t.b.value(0, 0), 0.462f, kStepTol);
  t.set_grads(2);
  opt.step();
  // w0: g = -0.1 + 0.009031 = -0.090969, v = 0.459 - 0.090969 = 0.368031,
  //     w0 = 0.9031 - 0.1*(-0.090969 + 0.9*0.368031) = 0.9031 - 0.02402589 = 0.87907411
  // w1: g = 0.3 - 0.019487 = 0.280513, v = -0.243 + 0.280513 = 0.037513,
  //     w1 = -1.9487 - 0.1*(0.280513 + 0.9*0.037513) = -1.98012747
  // b:  v = 0.18 + 0.4 = 0.58, b = 0.462 - 0.1*(0.4 + 0.522) = 0.3698
  EXPECT_NEAR(t.w.value(0, 0), 0.87907411f, kStepTol);
  EXPECT_NEAR(t.w.value(1, 0), -1.98012747f, kStepTol);
  EXPECT_NEAR(t.b.value(0, 0), 0.3698f, kStepTol);
  EXPECT_EQ(opt.steps(), 2);
}

TEST(Adam, StepsWithBiasCorrectionAndL2DecayMatchHandComputation) {
  TwoSteps t;
  Adam opt({&t.w, &t.b}, /*lr=*/0.1, /*beta1=*/0.9, /*beta2=*/0.999, /*eps=*/1e-8, /*weight_decay=*/0.1);
  t.set_grads(1);
  opt.step();
  // Step 1: bias correction makes m^ = g and v^ = g^2, so each value moves by
  // lr * g / (|g| + eps), i.e. 0.1 against the sign of g (to 2e-9).
  // w0: g = 0.5 + 0.1*1 = 0.6 -> 0.9;  w1: g = -0.25 + 0.1*(-2) = -0.45 -> -1.9;  b: g = 0.2 -> 0.4
  EXPECT_NEAR(t.w.value(0, 0), 0.9f, kStepTol);
  EXPECT_NEAR(t.w.value(1, 0), -1.9f, kStepTol);
  EXPECT_NEAR(t.b.value(0, 0), 0.4f, kStepTol);
  t.set_grads(2);
  opt.step();
  // Step 2: 1 - 0.9^2 = 0.19, 1 - 0.999^2 = 0.001999; w -= 0.1 * (m/0.19) / sqrt(v/0.001999).
  // w0: g = -0.1 + 0.09 = -0.01, m = 0.054 - 0.001 = 0.053,
  //     v = 0.999*0.00036 + 0.001*0.0001 = 0.00035974, w0 = 0.9 - 0.0657558 = 0.8342442
  // w1: g = 0.3 - 0.19 = 0.11, m = -0.0405 + 0.011 = -0.0295,
  //     v = 0.999*0.0002025 + 0.001*0.0121 = 0.0002143975, w1 = -1.9 + 0.0474094 = -1.8525905
  // b:  g = 0.4, m = 0.018 + 0.04 = 0.058,
  //     v = 0.999*0.00004 + 0.001*0.16 = 0.00019996, b = 0.4 - 0.0965182 = 0.3034818
  EXPECT_NEAR(t.w.value(0, 0), 0.8342442f, kStepTol);
  EXPECT_NEAR(t.w.value(1, 0), -1.8525905f, kStepTol);
  EXPECT_NEAR(t.b.value(0, 0), 0.3034818f, kStepTol);
  EXPECT_EQ(opt.steps(), 2);
}

TEST(Adam, QuadraticConvergesToItsMinimum) {
  // L = 0.5 (w - 3)^2 ⇒ the optimum is w = 3; Adam's steps shrink with the gradient near it.
  Param w = make_param({-4.0f}, false);
  Adam opt({&w}, 0.05, 0.9, 0.999, 1e-8, 0.0);
  for (int i = 0; i < 3000; ++i) {
    w.grad(0, 0) = w.value(0, 0) - 3.0f;
    opt.step();
  }
  EXPECT_NEAR(w.value(0, 0), 3.0f, 1e-3f);
}

TEST(Optimizer, StateListsNamedBuffersInParameterOrder) {
  TwoSteps t;
  Sgd sgd({&t.w, &t.b}, 0.1, 0.9, 0.01);
  const auto s = sgd.state();
  ASSERT_EQ(s.size(), 2u);
  EXPECT_EQ(s[0].first, "weight/momentum_buffer");
  EXPECT_EQ(s[1].first, "bias/momentum_buffer");
  t.set_grads(1);
  sgd.step();
  EXPECT_NEAR((*s[0].second)(0, 0), 0.51f, kStepTol);  // v = g after the first step
  EXPECT_NEAR((*s[1].second)(0, 0), 0.2f, kStepTol);

  Adam adam({&t.w, &t.b}, 0.1, 0.9, 0.999, 1e-8, 0.0);
  const auto a = adam.state();
  ASSERT_EQ(a.size(), 4u);
  EXPECT_EQ(a[0].first, "weight/exp_avg");
  EXPECT_EQ(a[1].first, "weight/exp_avg_sq");
  EXPECT_EQ(a[2].first, "bias/exp_avg");
  EXPECT_EQ(a[3].first, "bias/exp_avg_sq");
  EXPECT_EQ(a[0].second->rows(), 2);
  EXPECT_EQ(a[2].second->rows(), 1);
  adam.step();
  EXPECT_NEAR((*a[2].second)(0, 0), 0.02f, kStepTol);     // m = 0.1 * 0.2
  EXPECT_NEAR((*a[3].second)(0, 0), 0.00004f, 1e-10f);    // v = 0.001 * 0.2^2
}

// What a checkpoint does: copy the buffers and the step count into a fresh optimizer, which
// then continues bit-identically to the original.
TEST(Optimizer, RestoredStateContinuesBitIdentically) {
  for (const char* name : {"sgd", "adam"}) {
    TrainConfig cfg;
    cfg.optimizer = name;
    cfg.lr = 0.1;
    cfg.nesterov = true;
    cfg.weight_decay = 0.01;
    TwoSteps a, b;
    const auto opt_a = make_optimizer(cfg, {&a.w, &a.b});
    a.set_grads(1);
    opt_a->step();

    b.w.value = a.w.value;
    b.b.value = a.b.value;
    const auto opt_b = make_optimizer(cfg, {&b.w, &b.b});
    const auto sa = opt_a->state();
    const auto sb = opt_b->state();
    ASSERT_EQ(sa.size(), sb.size());
    for (std::size_t i = 0; i < sa.size(); ++i) {
      EXPECT_EQ(sa[i].first, sb[i].first);
      *sb[i].second = *sa[i].second;
    }
    opt_b->set_steps(opt_a->steps());

    a.set_grads(2);
    b.set_grads(2);
    opt_a->step();
    opt_b->step();
    EXPECT_TRUE(a.w.value == b.w.value) << name;
    EXPECT_TRUE(a.b.value == b.b.value) << name;
  }
}

TEST(Optimizer, FactoryFollowsTheConfig) {
  Param w = make_param({1.0f}, true);
  TrainConfig cfg;
  cfg.lr = 0.25;
  cfg.optimizer = "sgd";
  auto opt = make_optimizer(cfg, {&w});
  EXPECT_NE(dynamic_cast<Sgd*>(opt.get()), nullptr);
  EXPECT_EQ(opt->lr(), 0.25);
  cfg.optimizer = "adam";
  opt = make_optimizer(cfg, {&w});
  EXPECT_NE(dynamic_cast<Adam*>(opt.get()), nullptr);
  opt->set_lr(0.5);
  EXPECT_EQ(opt->lr(), 0.5);
  cfg.optimizer = "adamw";
  try {
    make_optimizer(cfg, {&w});
    ADD_FAILURE() << "expected an Error";
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(), "optimizer 'adamw' is unknown (valid: sgd, adam)");
  }
}

}  // namespace
}  // namespace ternbench::core
