#include "ternbench/core/train/optimizer.hpp"

#include <omp.h>

#include <algorithm>
#include <cmath>
#include <utility>

#include "ternbench/base/error.hpp"

namespace ternbench::core {
namespace {

std::vector<Mat> zeros_like(const std::vector<Param*>& params, const char* who) {
  std::vector<Mat> out;
  out.reserve(params.size());
  for (const Param* p : params) {
    TB_CHECK(p != nullptr && p->grad.rows() == p->value.rows() && p->grad.cols() == p->value.cols(),
             std::string(who) + ": parameter and gradient shapes differ" + (p != nullptr ? " for " + p->name : ""));
    out.push_back(Mat::Zero(p->value.rows(), p->value.cols()));
  }
  return out;
}

}  // namespace

Optimizer::Optimizer(std::vector<Param*> params, double lr) : params_(std::move(params)), lr_(lr) {}

Sgd::Sgd(std::vector<Param*> params, double lr, double momentum, double weight_decay, bool nesterov)
    : Optimizer(std::move(params), lr),
      velocity_(zeros_like(params_, "Sgd")),
      momentum_(static_cast<float>(momentum)),
      weight_decay_(static_cast<float>(weight_decay)),
      nesterov_(nesterov) {}

namespace {

// One SGD update of n values: Sgd::step's element-wise expressions, on a span so a large
// parameter can be split across threads. Eigen fuses each expression into one pass, with no
// temporaries (a step allocates nothing); the decayed gradient is recomputed for Nesterov
// rather than stored, for the same reason.
// Blocks of kBlock values (whole vectors) take both expressions while they are in L1, so
// the second does not read value and velocity from memory again.
void sgd_span(float* value, const float* grad, float* velocity, Eigen::Index n, float lr, float wd, float momentum,
              bool nesterov) {
  constexpr Eigen::Index kBlock = 2048;
  for (Eigen::Index b = 0; b < n; b += kBlock) {
    const Eigen::Index m = std::min(kBlock, n - b);
    Eigen::Map<Eigen::ArrayXf> p(value + b, m), v(velocity + b, m);
    const Eigen::Map<const Eigen::ArrayXf> g(grad + b, m);
    v = momentum * v + (g + wd * p);
    if (nesterov) {
      p -= lr * ((g + wd * p) + momentum * v);
    } else {
      p -= lr * v;
    }
  }
}

// The update of a parameter with an UpdateHook: its blocks split over the threads, each
// updated and then handed to the hook while it is in cache. Each value goes through the
// same operations as in one span: blocks are whole 16-float vectors from the data's start.
void sgd_hooked(Param& p, float* velocity, float lr, float wd, float momentum, bool nesterov, int threads,
                Eigen::Index min_parallel) {
  UpdateHook& hook = *p.after_update;
  const Eigen::Index n = p.value.size();
  const Eigen::Index size = std::max<Eigen::Index>(1, hook.block_size(n));
  const Eigen::Index blocks = (n + size - 1) / size;
  hook.begin(blocks);
  const int t = n < min_parallel ? 1 : static_cast<int>(std::min<Eigen::Index>(threads, blocks));
#pragma omp parallel for num_threads(t) if (t > 1) schedule(static)
  for (Eigen::Index b = 0; b < blocks; ++b) {
    const Eigen::Index e0 = b * size, e1 = std::min(n, e0 + size);
    sgd_span(p.value.data() + e0, p.grad.data() + e0, velocity + e0, e1 - e0, lr, wd, momentum, nesterov);
    hook.block(b, p.value.data(), e0, e1);
  }
  hook.end();
}

}  // namespace

void Sgd::step() {
  // Parameters this large (a wide dense layer's weights) are split across Eigen's threads in
  // spans of whole 16-float vectors: each value goes through the same operations as in one
  // span, so the result does not depend on the thread count.
  constexpr Eigen::Index kMinParallel = Eigen::Index{1} << 16, kAlign = 16;
  const int threads = std::max(1, Eigen::nbThreads());
  for (std::size_t i = 0; i < params_.size(); ++i) {
    Param& p = *params_[i];
    // x * 1.0f == x exactly, so a parameter at the default scale steps as before.
    const float lr = static_cast<float>(lr_) * p.lr_scale;
    Mat& v = velocity_[i];
    const float wd = p.decay ? weight_decay_ : 0.0f;
    const Eigen::Index n = p.value.size();
    if (p.after_update != nullptr) {
      sgd_hooked(p, v.data(), lr, wd, momentum_, nesterov_, threads, kMinParallel);
      continue;
    }
    if (threads == 1 || n < kMinParallel) {
      sgd_span(p.value.data(), p.grad.data(), v.data(), n, lr, wd, momentum_, nesterov_);
      continue;
    }
    const Eigen::Index vectors = (n + kAlign - 1) / kAlign;
#pragma omp parallel num_threads(threads)
    {
      const Eigen::Index t = omp_get_thread_num(), nt = omp_get_num_threads();
      const Eigen::Index begin = std::min(n, vectors * t / nt * kAlign), end = std::min(n, vectors * (t + 1) / nt * kAlign);
      if (end > begin) {
        sgd_span(p.value.data() + begin, p.grad.data() + begin, v.data() + begin, end - begin, lr, wd, momentum_,
                 nesterov_);
      }
    }
  }
  ++steps_;
}

std::vector<std::pair<std::string, Mat*>> Sgd::state() {
  std::vector<std::pair<std::string, Mat*>> out;
  for (std::size_t i = 0; i < params_.size(); ++i) out.emplace_back(params_[i]->name + "/momentum_buffer", &velocity_[i]);
  return out;
}

Adam::Adam(std::vector<Param*> params, double lr, double beta1, double beta2, double eps, double weight_decay)
    : Optimizer(std::move(params), lr),
      m_(zeros_like(params_, "Adam")),
      v_(zeros_like(params_, "Adam")),
      beta1_(beta1),
      beta2_(beta2),
      eps_(eps),
      weight_decay_(weight_decay) {}

void Adam::step() {
  ++steps_;
  // Scalars in double, as PyTorch computes them in Python before the float kernels.
  const double t = static_cast<double>(steps_);
  const double bc1 = 1.0 - std::pow(beta1_, t);
  const double bc2 = 1.0 - std::pow(beta2_, t);
  const float base_step = static_cast<float>(lr_ / bc1);
  const float bc2_sqrt = static_cast<float>(std::sqrt(bc2));
  const float b1 = static_cast<float>(beta1_), b2 = static_cast<float>(beta2_);
  const float one_minus_b1 = static_cast<float>(1.0 - beta1_), one_minus_b2 = static_cast<float>(1.0 - beta2_);
  const float eps = static_cast<float>(eps_);
  for (std::size_t i = 0; i < params_.size(); ++i) {
    Param& p = *params_[i];
    const float wd = p.decay ? static_cast<float>(weight_decay_) : 0.0f;
    const float step_size = base_step * p.lr_scale;
    const auto g = p.grad.array() + wd * p.value.array();  // an expression, evaluated per use
    auto m = m_[i].array();
    auto v = v_[i].array();
    m = b1 * m + one_minus_b1 * g;
    v = b2 * v + one_minus_b2 * g.square();
    p.value.array() -= step_size * m / (v.sqrt() / bc2_sqrt + eps);
  }
}

std::vector<std::pair<std::string, Mat*>> Adam::state() {
  std::vector<std::pair<std::string, Mat*>> out;
  for (std::size_t i = 0; i < params_.size(); ++i) {
    out.emplace_back(params_[i]->name + "/exp_avg", &m_[i]);
    out.emplace_back(params_[i]->name + "/exp_avg_sq", &v_[i]);
  }
  return out;
}

std::vector<std::string> optimizer_names() { return {"sgd", "adam"}; }

std::unique_ptr<Optimizer> make_optimizer(const TrainConfig& cfg, std::vector<Param*> params) {
  if (cfg.optimizer == "sgd")
    return std::make_unique<Sgd>(std::move(params), cfg.lr, cfg.momentum, cfg.weight_decay, cfg.nesterov);
  if (cfg.optimizer == "adam")
    return std::make_unique<Adam>(std::move(params), cfg.lr, cfg.adam_beta1, cfg.adam_beta2, cfg.adam_eps,
                                  cfg.weight_decay);
  throw Error("optimizer '" + cfg.optimizer + "' is unknown (valid: sgd, adam)");
}

}  // namespace ternbench::core
