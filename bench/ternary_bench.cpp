// Ternary inference kernels against dense float32 for the same layer (bench/RESULTS.md,
// "Ternary inference kernels"): every conv and dense layer of LeNet-5 and VGG-7 plus a
// 1024x1024 dense layer, at batch 1 and 64 on 1 and 2 threads.
//
//   Ternary/<layer>/float/batch:B/threads:T        Eigen GEMM y = W x (dense) or
//                                                  kernels::conv2d_forward (conv)
//   Ternary/<layer>/sparsity:S/batch:B/threads:T   ternary_dense or ternary_conv with S% zero
//                                                  codes (random signs, per-row scales)
//
// The two names differ only in the middle part, so the RESULTS.md step pairs them. Counters:
// img/s, and for the ternary runs the weight bytes (KiB) the engine keeps resident.
#include <benchmark/benchmark.h>

#include <Eigen/Core>
#include <cstdint>
#include <string>
#include <vector>

#include "ternbench/base/rng.hpp"
#include "ternbench/core/kernels/conv.hpp"
#include "ternbench/core/kernels/ternary.hpp"

namespace {

using ternbench::Rng;
using namespace ternbench::kernels;

struct LayerCase {
  const char* name;
  bool conv;
  int in_c, h, w, out_c, k, pad;  // dense: in_c inputs, out_c outputs
};

const std::vector<LayerCase>& cases() {
  static const std::vector<LayerCase> all = {
      {"lenet5/conv0", true, 1, 28, 28, 32, 5, 0},     {"lenet5/conv1", true, 32, 12, 12, 64, 5, 0},
      {"lenet5/fc0", false, 1024, 1, 1, 512, 1, 0},    {"lenet5/fc1", false, 512, 1, 1, 10, 1, 0},
      {"vgg7/conv0", true, 3, 32, 32, 128, 3, 1},      {"vgg7/conv1", true, 128, 32, 32, 128, 3, 1},
      {"vgg7/conv2", true, 128, 16, 16, 256, 3, 1},    {"vgg7/conv3", true, 256, 16, 16, 256, 3, 1},
      {"vgg7/conv4", true, 256, 8, 8, 512, 3, 1},      {"vgg7/conv5", true, 512, 8, 8, 512, 3, 1},
      {"vgg7/fc0", false, 8192, 1, 1, 1024, 1, 0},     {"vgg7/fc1", false, 1024, 1, 1, 10, 1, 0},
      {"square/fc1024", false, 1024, 1, 1, 1024, 1, 0},
  };
  return all;
}

ConvGeometry geometry(const LayerCase& c) {
  ConvGeometry g;
  g.in_c = c.in_c, g.in_h = c.h, g.in_w = c.w, g.out_c = c.out_c, g.kernel = c.k, g.padding = c.pad;
  return g;
}

Eigen::Index inputs(const LayerCase& c) { return c.conv ? geometry(c).in_features() : c.in_c; }
Eigen::Index outputs(const LayerCase& c) { return c.conv ? geometry(c).out_features() : c.out_c; }
Eigen::Index columns(const LayerCase& c) { return c.conv ? geometry(c).patch() : c.in_c; }

Mat random_matrix(Eigen::Index rows, Eigen::Index cols, Rng& rng) {
  Mat m(rows, cols);
  for (Eigen::Index i = 0; i < m.size(); ++i) m(i) = 2.0f * rng.uniform_float() - 1.0f;
  return m;
}

void run_float(benchmark::State& state, const LayerCase& c) {
  const Eigen::Index B = state.range(0);
  const int threads = static_cast<int>(state.range(1));
  Eigen::setNbThreads(threads);
  Rng rng(1);
  const Mat W = random_matrix(c.out_c, columns(c), rng), b = random_matrix(c.out_c, 1, rng);
  const Mat x = random_matrix(inputs(c), B, rng);
  Mat y(outputs(c), B);
  const ConvGeometry g = geometry(c);
  Eigen::VectorXf work(c.conv ? conv2d_workspace_size(g, threads) : 0);
  for (auto _ : state) {
    if (c.conv) {
      conv2d_forward(g, W, b, x, y, work, threads);
    } else {
      y.noalias() = W * x;
    }
    benchmark::ClobberMemory();
  }
  state.counters["img/s"] = benchmark::Counter(static_cast<double>(B), benchmark::Counter::kIsIterationInvariantRate);
  state.counters["KiB"] = static_cast<double>(W.size() + b.size()) * 4.0 / 1024.0;
  Eigen::setNbThreads(0);
}

void run_ternary(benchmark::State& state, const LayerCase& c, int sparsity) {
  const Eigen::Index B = state.range(0);
  const int threads = static_cast<int>(state.range(1));
  Rng rng(2);
  const Eigen::Index rows = c.out_c, cols = columns(c);
  std::vector<std::int8_t> codes(static_cast<std::size_t>(rows * cols));
  for (std::int8_t& v : codes) {
    v = rng.uniform_double() * 100.0 < sparsity ? 0 : (rng.uniform_float() < 0.5f ? -1 : 1);
  }
  std::vector<float> pos, neg, bias;
  for (Eigen::Index o = 0; o < rows; ++o) {
    pos.push_back(0.5f + rng.uniform_float());
    neg.push_back(0.5f + rng.uniform_float());
    bias.push_back(rng.uniform_float() - 0.5f);
  }
  TernaryMatrix W = make_ternary_matrix(codes, rows, cols, pos, neg, bias);
  const Mat x = random_matrix(inputs(c) * B, 1, rng);
  Mat y(outputs(c) * B, 1);
  TernaryConv conv;
  std::size_t bytes = 0;
  if (c.conv) {
    conv = make_ternary_conv(geometry(c), std::move(W));
    bytes = conv.bytes();
  } else {
    bytes = W.bytes();
  }
  std::vector<float> work(c.conv ? static_cast<std::size_t>(ternary_conv_workspace_size(conv, B)) : 0);
  for (auto _ : state) {
    if (c.conv) {
      ternary_conv(conv, x.data(), B, y.data(), work.data(), threads);
    } else {
      ternary_dense(W, x.data(), B, y.data(), threads);
    }
    benchmark::ClobberMemory();
  }
  state.counters["img/s"] = benchmark::Counter(static_cast<double>(B), benchmark::Counter::kIsIterationInvariantRate);
  state.counters["KiB"] = static_cast<double>(bytes) / 1024.0;
}

const bool kRegistered = [] {
  for (const LayerCase& c : cases()) {
    const std::string base = std::string("Ternary/") + c.name;
    benchmark::RegisterBenchmark((base + "/float").c_str(), [&c](benchmark::State& s) { run_float(s, c); })
        ->ArgsProduct({{1, 64}, {1, 2}})
        ->ArgNames({"batch", "threads"})
        ->UseRealTime()
        ->Unit(benchmark::kMicrosecond);
    for (const int sparsity : {50, 90, 98}) {
      benchmark::RegisterBenchmark((base + "/sparsity:" + std::to_string(sparsity)).c_str(),
                                   [&c, sparsity](benchmark::State& s) { run_ternary(s, c, sparsity); })
          ->ArgsProduct({{1, 64}, {1, 2}})
          ->ArgNames({"batch", "threads"})
          ->UseRealTime()
          ->Unit(benchmark::kMicrosecond);
    }
  }
  return true;
}();

}  // namespace
