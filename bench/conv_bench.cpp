// Convolution layer throughput: the conv layers of LeNet-5 (TWN variant) and VGG-7 (CIFAR),
// forward and forward+backward, at batch 64 and 128 on 1 and 2 threads.
// Counters: GFLOP/s (2 * out_c*oh*ow * in_c*k*k * B per forward; a backward costs two more
// of those with dx, one more without) and ceiling = the share of the fp32 FMA peak measured
// on this machine kind (219 GFLOP/s per core, shared/notes/performance.md).
#include <benchmark/benchmark.h>

#include <string>
#include <vector>

#include "ternbench/base/rng.hpp"
#include "ternbench/core/nn/conv2d.hpp"

namespace {

using ternbench::Rng;
using ternbench::core::Conv2d;
using ternbench::core::Mat;

constexpr double kPeakPerCore = 219e9;

struct ConvCase {
  const char* name;
  int in_c, h, w, out_c, k, pad;
  bool first;  // no input gradient (first layer of the network)
};

const std::vector<ConvCase>& cases() {
  static const std::vector<ConvCase> all = {
      {"lenet5/conv0", 1, 28, 28, 32, 5, 0, true},    {"lenet5/conv1", 32, 12, 12, 64, 5, 0, false},
      {"vgg7/conv0", 3, 32, 32, 128, 3, 1, true},     {"vgg7/conv1", 128, 32, 32, 128, 3, 1, false},
      {"vgg7/conv2", 128, 16, 16, 256, 3, 1, false},  {"vgg7/conv3", 256, 16, 16, 256, 3, 1, false},
      {"vgg7/conv4", 256, 8, 8, 512, 3, 1, false},    {"vgg7/conv5", 512, 8, 8, 512, 3, 1, false},
  };
  return all;
}

Mat random_matrix(Eigen::Index rows, Eigen::Index cols, Rng& rng) {
  Mat m(rows, cols);
  for (Eigen::Index i = 0; i < m.size(); ++i) m(i) = 2.0f * rng.uniform_float() - 1.0f;
  return m;
}

void run(benchmark::State& state, const ConvCase& c, bool backward) {
  const Eigen::Index B = state.range(0);
  const int threads = static_cast<int>(state.range(1));
  Eigen::setNbThreads(threads);
  Rng rng(1);
  Conv2d conv("conv", c.in_c, c.h, c.w, c.out_c, c.k, 1, c.pad, rng);
  conv.set_threads(threads);
  const Mat x = random_matrix(conv.in_features(), B, rng);
  Mat y(conv.out_features(), B), dx(conv.in_features(), B);
  const Mat dy = random_matrix(conv.out_features(), B, rng);
  const double fwd_flops = 2.0 * c.out_c * conv.out_height() * conv.out_width() * c.in_c * c.k * c.k *
                           static_cast<double>(B);
  const double flops = backward ? fwd_flops * (c.first ? 2.0 : 3.0) : fwd_flops;
  // One untimed step: the layer sizes its scratch on first use.
  conv.forward(x, y);
  if (backward) conv.backward(x, y, dy, dx, !c.first);
  for (auto _ : state) {
    conv.forward(x, y);
    if (backward) conv.backward(x, y, dy, dx, !c.first);
    benchmark::ClobberMemory();
  }
  state.counters["GFLOP/s"] = benchmark::Counter(flops * 1e-9, benchmark::Counter::kIsIterationInvariantRate);
  state.counters["ceiling"] =
      benchmark::Counter(flops / (kPeakPerCore * threads), benchmark::Counter::kIsIterationInvariantRate);
  state.counters["img/s"] = benchmark::Counter(static_cast<double>(B), benchmark::Counter::kIsIterationInvariantRate);
  Eigen::setNbThreads(0);
}

const bool kRegistered = [] {
  for (const ConvCase& c : cases()) {
    for (const bool backward : {false, true}) {
      const std::string name = std::string("Conv/") + c.name + (backward ? "/fwd_bwd" : "/fwd");
      benchmark::RegisterBenchmark(name.c_str(), [&c, backward](benchmark::State& s) { run(s, c, backward); })
          ->ArgsProduct({{64, 128}, {1, 2}})
          ->ArgNames({"batch", "threads"})
          ->UseRealTime()
          ->Unit(benchmark::kMillisecond);
    }
  }
  return true;
}();

}  // namespace
