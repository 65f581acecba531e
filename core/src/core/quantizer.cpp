#include "ternbench/core/quantizer.hpp"

#include "ternbench/base/error.hpp"
#include "ternbench/core/kernels/quantize.hpp"

namespace ternbench::core {

void IdentityQuantizer::quantize(const Eigen::Ref<const Mat>& w, Eigen::Ref<Mat> q) {
  TB_CHECK(w.rows() == q.rows() && w.cols() == q.cols(), "IdentityQuantizer: shape mismatch");
  q = w;
}

void IdentityQuantizer::backward(const Eigen::Ref<const Mat>& /*w*/, const Eigen::Ref<const Mat>& dq,
                                 Eigen::Ref<Mat> dw) const {
  if (dw.data() != dq.data()) dw = dq;
}

TwnQuantizer::TwnQuantizer(double delta_factor) : delta_factor_(delta_factor) {
  TB_CHECK(delta_factor >= 0, "TwnQuantizer: delta_factor must be >= 0");
}

void TwnQuantizer::quantize(const Eigen::Ref<const Mat>& w, Eigen::Ref<Mat> q) {
  TB_CHECK(w.rows() == q.rows() && w.cols() == q.cols(), "TwnQuantizer: shape mismatch");
  if (w.size() == 0) return;
  const double mean_abs = kernels::abs_sum(w) / static_cast<double>(w.size());
  delta_ = static_cast<float>(delta_factor_ * mean_abs);
  // Codes first: then the kept |w| sum is a plain dot product and the kept count a
  // non-zero count, both branch-free passes (a masked sum is ~50x slower here).
  kernels::ternarize(w, delta_, 1.0f, q);
  const std::int64_t kept = kernels::count_nonzero(q);
  scale_ = kept > 0 ? static_cast<float>(kernels::dot(w, q) / static_cast<double>(kept)) : 0.0f;
  q *= scale_;
}

void TwnQuantizer::backward(const Eigen::Ref<const Mat>& /*w*/, const Eigen::Ref<const Mat>& dq,
                            Eigen::Ref<Mat> dw) const {
  if (dw.data() != dq.data()) dw = dq;  // identity straight-through estimator
}

std::vector<std::string> method_names() { return {"fp", "twn"}; }

namespace {

[[noreturn]] void unknown_method(const std::string& method) {
  std::string valid;
  for (const auto& m : method_names()) valid += (valid.empty() ? "" : ", ") + m;
  throw Error("method '" + method + "' is unknown (valid: " + valid + ")");
}

}  // namespace

bool method_quantizes(const std::string& method) {
  if (method == "fp") return false;
  if (method == "twn") return true;
  unknown_method(method);
}

std::unique_ptr<Quantizer> make_quantizer(const TrainConfig& cfg) {
  if (cfg.method == "fp") return std::make_unique<IdentityQuantizer>();
  if (cfg.method == "twn") return std::make_unique<TwnQuantizer>(cfg.delta_factor);
  unknown_method(cfg.method);
}

}  // namespace ternbench::core
