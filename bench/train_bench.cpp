// Training and inference throughput of the registry's models, as the trainer runs them.
//
//   train/<model>/<method>/b<batch>/t<threads>   one step of core/src/core/train/trainer.cpp:
//                                                model.refresh(), forward, softmax CE, backward,
//                                                optimizer step (SGD, momentum 0.9)
//   infer/<model>/<method>/b<batch>/t<threads>   forward in evaluation mode (deployed weights)
//   dense/mlp/b<batch>/t<threads>                only the mlp's three Dense layers, forward and
//                                                backward as in a training step (GEMM share)
//   fma_peak/t<threads>                          16 independent FMA chains per thread: the
//                                                machine's fp32 ceiling
//
// Inputs and labels are synthetic (our Rng), made once: no data loading is timed. Each model
// is built once per (model, method, batch, threads) and warmed up before any timing, then
// reused by every repetition, so the figures are steady-state ones. Counters:
//   img_s          images per second (real time)
//   faults_step    minor page faults per step in the timed loop (getrusage ru_minflt)
//   gflops         useful FLOP/s: 2 per multiply-add of the dense and conv layers (forward,
//                  weight gradient, input gradient except for the first layer, as trained);
//                  for fma_peak the FMA chains' FLOP/s
// Threads: Eigen::setNbThreads (what the trainer sets) and omp_set_num_threads, so any OpenMP
// region sees the same count; run with OMP_NUM_THREADS equal to the /t<n> you select.
#include <benchmark/benchmark.h>
#include <immintrin.h>
#include <malloc.h>
#include <omp.h>
#include <sys/resource.h>

#include <Eigen/Core>
#include <chrono>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "ternbench/base/rng.hpp"
#include "ternbench/core/kernels/loss.hpp"
#include "ternbench/core/model/model.hpp"
#include "ternbench/core/methods/regularizer.hpp"
#include "ternbench/core/train/optimizer.hpp"
#include "ternbench/core/train/train_config.hpp"

namespace tc = ternbench::core;
namespace tk = ternbench::kernels;

namespace {

// Input shape (channels, height, width) of each benchmarked model, 10 classes.
struct ModelInfo {
  const char* name;
  int c, h, w;
  double train_flops_per_image;  // see layer_flops below
  int warmup_steps;              // untimed steps after building
  double min_time;               // seconds per repetition
  int repetitions;
};

// One weight layer as multiply-adds per image: MACs = out_c * out_h * out_w * in_c * k * k
// (dense: out * in). Training = forward + weight gradient + input gradient (none for the
// first layer, whose dx the model does not compute), 2 FLOP per MAC.
struct WeightLayer {
  double in_c, out_c, k, out_h, out_w;
  double macs() const { return out_c * out_h * out_w * in_c * k * k; }
};

double train_flops(const std::vector<WeightLayer>& layers) {
  double f = 0;
  for (std::size_t i = 0; i < layers.size(); ++i) f += 2.0 * layers[i].macs() * (i == 0 ? 2.0 : 3.0);
  return f;
}

WeightLayer dense(double in, double out) { return {in, out, 1, 1, 1}; }
WeightLayer conv(double in_c, double out_c, double k, double out_hw) { return {in_c, out_c, k, out_hw, out_hw}; }

const std::vector<WeightLayer> kMlpLayers{dense(784, 500), dense(500, 300), dense(300, 10)};
const std::vector<WeightLayer> kLenet5Layers{conv(1, 32, 5, 24), conv(32, 64, 5, 8), dense(1024, 512),
                                             dense(512, 10)};
const std::vector<WeightLayer> kVgg7Layers{conv(3, 128, 3, 32),   conv(128, 128, 3, 32), conv(128, 256, 3, 16),
                                           conv(256, 256, 3, 16), conv(256, 512, 3, 8),  conv(512, 512, 3, 8),
                                           dense(8192, 1024),     dense(1024, 10)};

const ModelInfo kModels[] = {
    {"mlp", 1, 28, 28, train_flops(kMlpLayers), 20, 0.5, 5},
    {"lenet5", 1, 28, 28, train_flops(kLenet5Layers), 5, 0.5, 5},
    {"vgg7", 3, 32, 32, train_flops(kVgg7Layers), 2, 0.1, 3},
};

long minor_faults() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return u.ru_minflt;
}

void set_threads(int threads) {
  Eigen::setNbThreads(threads);
  omp_set_num_threads(threads);
}

// A model, its optimizer and one synthetic batch, built once and warmed up.
struct Fixture {
  std::string key;
  tc::TrainConfig cfg;
  std::unique_ptr<tc::Model> model;
  std::unique_ptr<tc::Optimizer> opt;
  std::unique_ptr<tc::Regularizer> reg;  // sca's WDR, faraone's stage-1 term
  std::vector<tc::Weight*> quantized;
  tc::Mat x, dlogits;
  std::vector<std::uint8_t> labels;
  bool stepped = false;

  // Exactly the body of the trainer's batch loop, minus copying the batch in.
  double train_step() {
    if (stepped) {
      for (tc::Weight* w : quantized) w->refresh_after_update();
    } else {
      model->refresh();
      stepped = true;
    }
    const tk::LossResult r = tk::softmax_cross_entropy(model->forward(x), std::span<const std::uint8_t>(labels), dlogits);
    model->backward(x, dlogits);  // adds reg's gradient (set on the quantized weights)
    opt->step();
    for (tc::Weight* w : quantized) w->after_step();
    return r.loss;
  }
};

std::unique_ptr<Fixture> g_fixture;  // the one of the last case; replaced when the case changes

Fixture& fixture(const ModelInfo& m, const std::string& method, int batch, int threads) {
  const std::string key = std::string(m.name) + "/" + method + "/" + std::to_string(batch) + "/" + std::to_string(threads);
  set_threads(threads);
  if (g_fixture && g_fixture->key == key) return *g_fixture;
  g_fixture.reset();  // free the previous model before building the next
  auto f = std::make_unique<Fixture>();
  f->key = key;
  f->cfg.model = m.name;
  f->cfg.method = method;
  f->cfg.batch_size = batch;
  f->cfg.threads = threads;
  f->cfg.lr = 0.01;  // small: a fixed batch must not drive the loss to denormals or NaN
  f->cfg.momentum = 0.9;
  ternbench::Rng rng(ternbench::derive_seed(1, "bench"));
  f->model = std::make_unique<tc::Model>(tc::make_model(f->cfg, m.c, m.h, m.w, 10, rng));
  tc::apply_method(*f->model, f->cfg);
  f->opt = tc::make_optimizer(f->cfg, f->model->params());
  f->reg = tc::make_regularizer(f->cfg);
  for (tc::Weight* w : f->model->weights()) {
    if (w->quantized()) f->quantized.push_back(w);
  }
  for (tc::Weight* w : f->quantized) w->set_regularizer(f->reg.get());  // as the trainer's RegularizerScope
  f->x.resize(f->model->input_size(), batch);
  for (Eigen::Index j = 0; j < f->x.cols(); ++j) {
    for (Eigen::Index i = 0; i < f->x.rows(); ++i) f->x(i, j) = rng.uniform_float();
  }
  f->dlogits.resize(f->model->output_size(), batch);
  f->labels.resize(static_cast<std::size_t>(batch));
  for (auto& l : f->labels) l = static_cast<std::uint8_t>(rng.uniform_index(10));
  for (int i = 0; i < m.warmup_steps; ++i) f->train_step();
  // Warm the evaluation path too (its buffers are the training ones; this touches them once).
  f->model->set_training(false);
  benchmark::DoNotOptimize(f->model->forward(f->x).data());
  f->model->set_training(true);
  g_fixture = std::move(f);
  return *g_fixture;
}

void report(benchmark::State& state, int batch, double seconds, long faults, double flops_per_image) {
  const double steps = static_cast<double>(state.iterations());
  state.counters["img_s"] = steps * batch / seconds;
  state.counters["faults_step"] = static_cast<double>(faults) / steps;
  if (flops_per_image > 0) state.counters["gflops"] = steps * batch * flops_per_image / seconds * 1e-9;
}

void bm_train(benchmark::State& state, const ModelInfo& m, std::string method, int batch, int threads) {
  Fixture& f = fixture(m, method, batch, threads);
  f.model->set_training(true);
  const long faults0 = minor_faults();
  const auto t0 = std::chrono::steady_clock::now();
  for (auto _ : state) benchmark::DoNotOptimize(f.train_step());
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  report(state, batch, seconds, minor_faults() - faults0, m.train_flops_per_image);
}

void bm_infer(benchmark::State& state, const ModelInfo& m, std::string method, int batch, int threads) {
  Fixture& f = fixture(m, method, batch, threads);
  f.model->set_training(false);
  const long faults0 = minor_faults();
  const auto t0 = std::chrono::steady_clock::now();
  for (auto _ : state) benchmark::DoNotOptimize(f.model->forward(f.x).data());
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  report(state, batch, seconds, minor_faults() - faults0, 0.0);
  f.model->set_training(true);
}

// The mlp's Dense layers alone, forward and backward as Model::forward/backward call them
// (the first layer computes no dx), on the model's own layers and preallocated buffers: the
// GEMM-bound part of the mlp step, without ReLU, loss, optimizer and refresh.
void bm_dense_mlp(benchmark::State& state, int batch, int threads) {
  Fixture& f = fixture(kModels[0], "fp", batch, threads);
  std::vector<tc::Layer*> dense;
  for (const auto& l : f.model->layers()) {
    if (l->weight() != nullptr) dense.push_back(l.get());
  }
  std::vector<tc::Mat> act(dense.size()), grad(dense.size());
  for (std::size_t i = 0; i < dense.size(); ++i) {
    act[i] = tc::Mat::Random(dense[i]->out_features(), batch);
    grad[i] = tc::Mat::Random(dense[i]->out_features(), batch) * 1e-3f;
  }
  tc::Mat no_dx;
  auto pass = [&] {
    for (std::size_t i = 0; i < dense.size(); ++i) dense[i]->forward(i == 0 ? f.x : act[i - 1], act[i]);
    for (std::size_t i = dense.size(); i-- > 0;) {
      const tc::Mat& in = i == 0 ? f.x : act[i - 1];
      if (i > 0) {
        dense[i]->backward(in, act[i], grad[i], grad[i - 1], true);
      } else {
        dense[i]->backward(in, act[i], grad[i], no_dx, false);
      }
    }
  };
  pass();
  pass();
  const long faults0 = minor_faults();
  const auto t0 = std::chrono::steady_clock::now();
  for (auto _ : state) {
    pass();
    benchmark::DoNotOptimize(grad[0].data());
  }
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  report(state, batch, seconds, minor_faults() - faults0, kModels[0].train_flops_per_image);
}

// 16 independent FMA chains per thread, in registers: the fp32 multiply-add ceiling.
constexpr int kFmaChains = 16;
constexpr long kFmaIters = 1L << 20;

#if defined(__AVX512F__)
using FmaVec = __m512;
constexpr int kFmaLanes = 16;
inline FmaVec fma_set1(float v) { return _mm512_set1_ps(v); }
inline FmaVec fma(FmaVec a, FmaVec b, FmaVec c) { return _mm512_fmadd_ps(a, b, c); }
inline float fma_sum(FmaVec v) {  // not _mm512_reduce_add_ps: GCC 12 warns inside it (-Wuninitialized)
  alignas(64) float t[16];
  _mm512_store_ps(t, v);
  float s = 0;
  for (const float e : t) s += e;
  return s;
}
#elif defined(__AVX2__) && defined(__FMA__)
using FmaVec = __m256;
constexpr int kFmaLanes = 8;
inline FmaVec fma_set1(float v) { return _mm256_set1_ps(v); }
inline FmaVec fma(FmaVec a, FmaVec b, FmaVec c) { return _mm256_fmadd_ps(a, b, c); }
inline float fma_sum(FmaVec v) {
  alignas(32) float t[8];
  _mm256_store_ps(t, v);
  return t[0] + t[1] + t[2] + t[3] + t[4] + t[5] + t[6] + t[7];
}
#else
using FmaVec = float;
constexpr int kFmaLanes = 1;
inline FmaVec fma_set1(float v) { return v; }
inline FmaVec fma(FmaVec a, FmaVec b, FmaVec c) { return a * b + c; }
inline float fma_sum(FmaVec v) { return v; }
#endif

float fma_chains(float seed) {
  const FmaVec a = fma_set1(0.999999f), b = fma_set1(1e-7f);
  FmaVec acc[kFmaChains];
  for (int c = 0; c < kFmaChains; ++c) acc[c] = fma_set1(seed + static_cast<float>(c));
  for (long i = 0; i < kFmaIters; ++i) {
    for (int c = 0; c < kFmaChains; ++c) acc[c] = fma(acc[c], a, b);
  }
  float s = 0;
  for (int c = 0; c < kFmaChains; ++c) s += fma_sum(acc[c]);
  return s;
}

void bm_fma_peak(benchmark::State& state, int threads) {
  set_threads(threads);
  const auto t0 = std::chrono::steady_clock::now();
  for (auto _ : state) {
    float total = 0;
#pragma omp parallel num_threads(threads) reduction(+ : total)
    total += fma_chains(static_cast<float>(omp_get_thread_num()));
    benchmark::DoNotOptimize(total);
  }
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  const double flops = 2.0 * kFmaLanes * kFmaChains * static_cast<double>(kFmaIters) * threads;
  state.counters["gflops"] = static_cast<double>(state.iterations()) * flops / seconds * 1e-9;
}

void register_all() {
  for (const int threads : {1, 2}) {
    const std::string t = "/t" + std::to_string(threads);
    benchmark::RegisterBenchmark(("fma_peak" + t).c_str(), bm_fma_peak, threads)
        ->UseRealTime()
        ->MinTime(0.2)
        ->Repetitions(5);
    for (const ModelInfo& m : kModels) {
      // fp and twn at both batch sizes, for training and inference; the other quantized
      // methods' training cost at batch 128 (their cost over fp is the question).
      for (const char* method : {"fp", "twn", "binaryconnect", "bwn", "ttq", "sca"}) {
        const bool main_pair = std::string(method) == "fp" || std::string(method) == "twn";
        for (const int batch : {64, 128}) {
          if (!main_pair && batch != 128) continue;
          const std::string tail = std::string("/") + m.name + "/" + method + "/b" + std::to_string(batch) + t;
          for (const bool train : {true, false}) {
            if (!main_pair && !train) continue;
            auto* b = train ? benchmark::RegisterBenchmark(("train" + tail).c_str(), bm_train, m, method, batch, threads)
                            : benchmark::RegisterBenchmark(("infer" + tail).c_str(), bm_infer, m, method, batch, threads);
            b->UseRealTime()->MinTime(m.min_time)->Repetitions(m.repetitions);
            b->Unit(benchmark::kMillisecond);
          }
        }
      }
    }
    for (const int batch : {64, 128}) {
      benchmark::RegisterBenchmark(("dense/mlp/b" + std::to_string(batch) + t).c_str(), bm_dense_mlp, batch, threads)
          ->UseRealTime()
          ->MinTime(0.5)
          ->Repetitions(5)
          ->Unit(benchmark::kMillisecond);
    }
  }
}

}  // namespace

int main(int argc, char** argv) {
  // As the ternbench binary does (orchestrator/src/main.cpp, keep_freed_memory): freed memory
  // stays in the process, so a steady-state step takes no page faults.
  mallopt(M_MMAP_THRESHOLD, 32 * 1024 * 1024);
  mallopt(M_TRIM_THRESHOLD, 1 << 30);
  mallopt(M_TOP_PAD, 64 * 1024 * 1024);
  register_all();
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  g_fixture.reset();
  return 0;
}
