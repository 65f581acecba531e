// BWN (Rastegari et al. 2016): a_r sign(W) with a_r the mean |W| of each row.
#include <cmath>
#include <memory>

#include "option_checks.hpp"
#include "quantizer_util.hpp"
#include "ternbench/core/kernels/quantize.hpp"
#include "ternbench/core/methods/method.hpp"

namespace ternbench::core {

using namespace quantizer_util;

void BwnQuantizer::quantize(const Eigen::Ref<const Mat>& w, Eigen::Ref<Mat> q) {
  check_shape(w, q, "BwnQuantizer");
  scale_.resize(w.rows(), 1);  // no-op after the first call
  kernels::binarize_rows_by_mean(w, scale_, q);
}

void BwnQuantizer::backward(const Eigen::Ref<const Mat>& w, const Eigen::Ref<const Mat>& dq, Eigen::Ref<Mat> dw) {
  TB_CHECK(scale_.rows() == w.rows(), "BwnQuantizer: backward before quantize");
  kernels::bwn_backward(w, scale_, dq, dw);
}

double BwnQuantizer::scale() const { return row_mean(scale_); }

std::vector<float> BwnQuantizer::scales() const { return as_vector(scale_); }

namespace {

class Bwn final : public Method {
 public:
  const char* name() const override { return "bwn"; }
  const char* title() const override { return "BWN"; }
  const char* natural_encoding() const override { return "binary"; }
  std::unique_ptr<Quantizer> quantizer(const TrainConfig&, const QuantizerSite&) const override {
    return std::make_unique<BwnQuantizer>();
  }
};

}  // namespace

const Method& bwn_method() {
  static const Bwn m;
  return m;
}

}  // namespace ternbench::core
