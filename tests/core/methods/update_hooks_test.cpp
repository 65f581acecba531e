// The work quantizers have SGD do in its update (update_hooks.hpp): the statistic a hook
// takes equals the kernel's over the new values bit for bit, and the quantizer's forward
// from it (quantize_after_update) equals quantize(); a statistic that was not taken right
// before, or was discarded by a plain quantize(), is never used. On 1 and 2 threads, on
// layers of one block and of many.
#include <gtest/gtest.h>

#include <Eigen/Core>
#include <algorithm>
#include <cmath>
#include <functional>
#include <initializer_list>
#include <memory>
#include <vector>

#include "support/quantizer_inputs.hpp"
#include "support/same_bits.hpp"
#include "ternbench/base/rng.hpp"
#include "ternbench/core/kernels/quantize.hpp"
#include "ternbench/core/methods/quantizer.hpp"
#include "ternbench/core/methods/update_hooks.hpp"
#include "ternbench/core/train/optimizer.hpp"

namespace ternbench::core {
namespace {

using quantizer_tests::random_matrix;
using ternbench::testing::same_bits;

// A latent weight with a gradient, values over many magnitudes (sums that depend on their order).
Param latent(Eigen::Index rows, Eigen::Index cols, std::uint64_t seed) {
  Rng rng(seed);
  Param p;
  p.decay = true;
  p.value = random_matrix(rows, cols, rng);
  // Magnitudes vary within each block and between blocks, so that block totals added in
  // another order give other bits.
  for (Eigen::Index i = 0; i < p.value.size(); ++i) {
    p.value(i) *= std::ldexp(1.0f, static_cast<int>(i % 41) - 20 + static_cast<int>(i / 16384 % 2) * 30);
  }
  p.grad = random_matrix(rows, cols, rng);
  return p;
}

struct Threads {
  explicit Threads(int n) : saved(Eigen::nbThreads()) { Eigen::setNbThreads(n); }
  ~Threads() { Eigen::setNbThreads(saved); }
  int saved;
};

// Sizes: one block (300 x 10), and a layer the size of the mlp's first (500 x 784).
const Eigen::Index kShapes[][2] = {{300, 10}, {500, 784}};

TEST(UpdateHooks, AbsSumAndAbsMaxTakenInTheUpdateEqualTheKernelsOnTheNewValues) {
  for (const int threads : {1, 2}) {
    for (const auto& shape : kShapes) {
      Threads t(threads);
      Param p = latent(shape[0], shape[1], 3);
      AbsSumHook sum;
      p.after_update = &sum;
      Sgd opt({&p}, 0.1, 0.9, 1e-4);
      opt.step();
      ASSERT_TRUE(sum.fresh());
      EXPECT_TRUE(same_bits(sum.take(), kernels::abs_sum(p.value))) << shape[0] << "x" << shape[1] << " t" << threads;
      EXPECT_FALSE(sum.fresh());  // once
      if (p.value.size() > 2 * kernels::sum_block_size(p.value.size())) {  // the data makes the order show
        const Eigen::Index size = kernels::sum_block_size(p.value.size());
        double reversed = 0;
        for (Eigen::Index e0 = (p.value.size() - 1) / size * size; e0 >= 0; e0 -= size) {
          reversed += kernels::abs_sum_block(p.value.data() + e0, std::min(size, p.value.size() - e0));
        }
        EXPECT_FALSE(same_bits(reversed, kernels::abs_sum(p.value)));
      }

      AbsMaxHook max;
      p.after_update = &max;
      opt.step();
      ASSERT_TRUE(max.fresh());
      EXPECT_EQ(max.take(), kernels::abs_max(p.value));
    }
  }
}

TEST(UpdateHooks, ClipInTheUpdateEqualsTheClipAfterIt) {
  for (const int threads : {1, 2}) {
    Threads t(threads);
    Param a = latent(500, 784, 4), b = latent(500, 784, 4);
    for (Param* p : {&a, &b}) p->grad *= 1000.0f;  // steps large enough to leave [-1, 1]
    ClipHook clip(-1.0f, 1.0f);
    b.after_update = &clip;
    Sgd sa({&a}, 0.1, 0.9, 1e-4), sb({&b}, 0.1, 0.9, 1e-4);
    sa.step();
    kernels::clip(a.value, -1.0f, 1.0f);
    sb.step();
    EXPECT_TRUE(same_bits(a.value, b.value)) << threads;
    EXPECT_EQ(a.value.cwiseAbs().maxCoeff(), 1.0f);  // the clip did something
    EXPECT_TRUE(clip.take_clipped());
    EXPECT_FALSE(clip.take_clipped());
  }
}

// Trains a few steps as the trainer does (refresh, a gradient, SGD, after_step), once with
// quantize() every step and once with quantize_after_update() from the second step on;
// the training matrices and the latent values must agree bit for bit at every step.
void expect_same_training(const std::function<std::unique_ptr<Quantizer>()>& make, int threads) {
  Threads t(threads);
  Param pa = latent(500, 784, 5), pb = latent(500, 784, 5);
  const Mat grad = pa.grad;
  std::unique_ptr<Quantizer> qa = make(), qb = make();
  pb.after_update = qb->update_hook();
  ASSERT_NE(pb.after_update, nullptr);
  Mat a(500, 784), b(500, 784);
  Sgd sa({&pa}, 0.01, 0.9, 1e-4), sb({&pb}, 0.01, 0.9, 1e-4);
  for (int step = 0; step < 4; ++step) {
    qa->quantize(pa.value, a);
    if (step == 0) {
      qb->quantize(pb.value, b);
    } else {
      qb->quantize_after_update(pb.value, b);
    }
    EXPECT_TRUE(same_bits(a, b)) << "step " << step << " t" << threads;
    EXPECT_EQ(qa->delta(), qb->delta());
    EXPECT_EQ(qa->scale(), qb->scale());
    pa.grad = grad + 0.5f * a;  // a gradient that depends on the forward
    pb.grad = grad + 0.5f * b;
    sa.step();
    sb.step();
    qa->after_step(pa.value);
    qb->after_step(pb.value);
    EXPECT_TRUE(same_bits(pa.value, pb.value)) << "step " << step;
  }
}

TEST(UpdateHooks, TwnTtqAndBinaryConnectTrainToTheSameBitsWithTheirHooks) {
  for (const int threads : {1, 2}) {
    expect_same_training([] { return std::make_unique<TwnQuantizer>(0.7); }, threads);
    expect_same_training([] { return std::make_unique<TtqQuantizer>("dense0", 0.05); }, threads);
    expect_same_training([] { return std::make_unique<BinaryConnectQuantizer>(1.0, false, 1); }, threads);
  }
}

// A statistic left from a step is not used once the values were written otherwise: a plain
// quantize() discards it, and without a fresh one quantize_after_update() computes its own.
TEST(UpdateHooks, AStaleStatisticIsNeverUsed) {
  Param p = latent(300, 10, 6);
  TwnQuantizer twn(0.7);
  TtqQuantizer ttq("dense0", 0.05);
  for (Quantizer* q : std::initializer_list<Quantizer*>{&twn, &ttq}) {
    p.after_update = q->update_hook();
    Sgd opt({&p}, 0.1, 0.9, 1e-4);
    opt.step();
    Mat out(300, 10), expect(300, 10);
    q->quantize(p.value, out);  // discards the step's statistic
    p.value *= 3.0f;            // written as a checkpoint restore would
    q->quantize_after_update(p.value, out);
    q->quantize(p.value, expect);
    EXPECT_TRUE(same_bits(out, expect));
    // Never stepped: nothing was taken, so it computes.
    TwnQuantizer fresh(0.7);
    fresh.quantize_after_update(p.value, out);
    TwnQuantizer plain(0.7);
    plain.quantize(p.value, expect);
    EXPECT_TRUE(same_bits(out, expect));
  }
}

TEST(UpdateHooks, PerChannelTwnHasNoHook) {
  TwnQuantizer per_channel(0.7, true);
  EXPECT_EQ(per_channel.update_hook(), nullptr);
  TwnQuantizer per_layer(0.7);
  EXPECT_NE(per_layer.update_hook(), nullptr);
}

}  // namespace
}  // namespace ternbench::core
