#pragma once
// The blocked sums of kernels/quantize (core/src/core/kernels/block_sums.hpp) written out as
// plain loops: element e of a block adds into lane e % 64, a block's lanes add in lane
// order, the block totals in block order. Tests hold the kernels to these bit for bit.
#include <Eigen/Core>
#include <algorithm>
#include <cmath>
#include <functional>

#include "ternbench/core/kernels/quantize.hpp"

namespace ternbench::testing {

// sum_e term(e) over n values (e in column-major order) in the blocked order.
inline double blocked_reference(Eigen::Index n, const std::function<float(Eigen::Index)>& term) {
  const Eigen::Index spread = (n + 255) / 256;
  const Eigen::Index block = std::max<Eigen::Index>(Eigen::Index{1} << 14, (spread + 63) / 64 * 64);
  double total = 0;
  for (Eigen::Index b0 = 0; b0 < n; b0 += block) {
    double lanes[64] = {};
    for (Eigen::Index e = b0; e < std::min(n, b0 + block); ++e) lanes[e % 64] += term(e);
    double t = 0;
    for (const double l : lanes) t += l;
    total += t;
  }
  return total;
}

// kernels::ttq_backward value by value: dw, and the region sums in the blocked order.
inline kernels::ScaleGrads ttq_backward_reference(const Eigen::Ref<const Eigen::MatrixXf>& w, float delta, float wp,
                                                  float wn, const Eigen::Ref<const Eigen::MatrixXf>& dq,
                                                  Eigen::MatrixXf& dw) {
  const Eigen::Index rows = w.rows();
  const auto at = [rows](const Eigen::Ref<const Eigen::MatrixXf>& m, Eigen::Index e) { return m(e % rows, e / rows); };
  kernels::ScaleGrads g;
  g.pos = blocked_reference(w.size(), [&](Eigen::Index e) { return at(w, e) > delta ? at(dq, e) : 0.0f; });
  g.neg = blocked_reference(w.size(), [&](Eigen::Index e) { return at(w, e) < -delta ? at(dq, e) : 0.0f; });
  dw.resize(w.rows(), w.cols());
  for (Eigen::Index e = 0; e < w.size(); ++e) {
    const float x = at(w, e);
    dw(e % rows, e / rows) = at(dq, e) * (x > delta ? wp : (x < -delta ? wn : 1.0f));
  }
  return g;
}

// TWN's layer-wise forward value by value (kernels::kept_abs, then ternarize_codes): the kept
// count, the kept |w| sum in the blocked order, and q = scale sign(w) where |w| > delta.
inline kernels::KeptAbs twn_reference(const Eigen::Ref<const Eigen::MatrixXf>& w, float delta, float scale,
                                      Eigen::MatrixXf& q) {
  const Eigen::Index rows = w.rows();
  const auto at = [&w, rows](Eigen::Index e) { return w(e % rows, e / rows); };
  kernels::KeptAbs k;
  k.abs_sum = blocked_reference(w.size(), [&](Eigen::Index e) {
    const float a = std::fabs(at(e));
    return a > delta ? a : 0.0f;
  });
  q.resize(w.rows(), w.cols());
  for (Eigen::Index e = 0; e < w.size(); ++e) {
    const bool kept = std::fabs(at(e)) > delta;
    k.count += kept ? 1 : 0;
    q(e % rows, e / rows) = kept ? std::copysign(scale, at(e)) : 0.0f;
  }
  return k;
}

}  // namespace ternbench::testing
