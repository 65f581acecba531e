#pragma once
// Small helpers the quantizers of several methods share.
#include <Eigen/Core>
#include <string>
#include <vector>

#include "ternbench/base/error.hpp"
#include "ternbench/core/nn/layer.hpp"

namespace ternbench::core::quantizer_util {

inline void check_shape(const Eigen::Ref<const Mat>& w, const Eigen::Ref<const Mat>& q, const char* who) {
  TB_CHECK(w.rows() == q.rows() && w.cols() == q.cols(), std::string(who) + ": shape mismatch");
}

inline void pass_through(const Eigen::Ref<const Mat>& dq, Eigen::Ref<Mat> dw) {
  if (dw.data() != dq.data()) dw = dq;
}

// A learned scalar scale of a layer: 1x1, init 1, no weight decay (DESIGN.md §2, TTQ).
inline Param scale_param(const std::string& layer, const char* which) {
  Param p;
  p.name = layer + "/" + which;
  p.value = Mat::Ones(1, 1);
  p.grad = Mat::Zero(1, 1);
  p.decay = false;
  return p;
}

inline double row_mean(const Mat& v) { return v.size() > 0 ? static_cast<double>(v.mean()) : 0.0; }

inline std::vector<float> as_vector(const Mat& v) { return std::vector<float>(v.data(), v.data() + v.size()); }

}  // namespace ternbench::core::quantizer_util
