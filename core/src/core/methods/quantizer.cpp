#include "ternbench/core/methods/quantizer.hpp"

#include <algorithm>
#include <cmath>

#include "ternbench/base/error.hpp"
#include "ternbench/core/methods/method.hpp"
#include "ternbench/core/methods/regularizer.hpp"

// Each method's quantizer lives in its method's file (src/core/methods/); this file holds
// what they share and the name-based entry points, which ask the method registry.
namespace ternbench::core {

const char* Quantizer::scale_layout() const {
  const std::size_t n = scales().size();
  return n == 0 ? "none" : n == 1 ? "layer" : "row";
}

void Quantizer::backward_regularized(const Eigen::Ref<const Mat>& w, const Eigen::Ref<const Mat>& q,
                                     const Eigen::Ref<const Mat>& dq, Eigen::Ref<Mat> dw, const Regularizer& reg) {
  backward_given_output(w, q, dq, dw);
  reg.add_gradient(w, dw);
}

namespace {

// init_std / std(w), std the population standard deviation; 0 for a constant matrix.
double spread_gain(const Eigen::Ref<const Mat>& w, double init_std) {
  TB_CHECK(init_std > 0 && std::isfinite(init_std), "the init spread must be a finite number > 0");
  const double n = static_cast<double>(w.size());
  double sum = 0;
  for (Eigen::Index j = 0; j < w.cols(); ++j) {
    for (Eigen::Index i = 0; i < w.rows(); ++i) sum += static_cast<double>(w(i, j));
  }
  const double mean = sum / n;
  double var = 0;
  for (Eigen::Index j = 0; j < w.cols(); ++j) {
    for (Eigen::Index i = 0; i < w.rows(); ++i) {
      const double d = static_cast<double>(w(i, j)) - mean;
      var += d * d;
    }
  }
  const double sd = std::sqrt(var / n);
  return sd > 0 ? init_std / sd : 0.0;
}

// f(clip(gain * w, -0.99, 0.99)) in place, computed in double.
template <class F>
void map_clipped(Eigen::Ref<Mat> w, double gain, F f) {
  for (Eigen::Index j = 0; j < w.cols(); ++j) {
    for (Eigen::Index i = 0; i < w.rows(); ++i) {
      const double x = std::clamp(gain * static_cast<double>(w(i, j)), -0.99, 0.99);
      w(i, j) = static_cast<float>(f(x));
    }
  }
}

}  // namespace

void sca_init_theta(Eigen::Ref<Mat> w, double init_std) {
  if (w.size() == 0) return;
  map_clipped(w, spread_gain(w, init_std), [](double x) { return std::atanh(x); });
}

void scale_to_spread(Eigen::Ref<Mat> w, double init_std) {
  if (w.size() == 0) return;
  map_clipped(w, spread_gain(w, init_std), [](double x) { return x; });
}

std::vector<std::string> method_names() {
  std::vector<std::string> names;
  for (const Method* m : methods()) names.emplace_back(m->name());
  return names;
}

bool method_quantizes(const std::string& method) { return find_method(method).quantizes(); }

void check_method_config(const TrainConfig& cfg) {
  for (const Method* m : methods()) {
    for (const MethodOption& option : m->options()) check_option(option, cfg);
    m->check(cfg);
  }
}

std::unique_ptr<Quantizer> make_quantizer(const TrainConfig& cfg, const QuantizerSite& site) {
  return find_method(cfg.method).quantizer(cfg, site);
}

}  // namespace ternbench::core
