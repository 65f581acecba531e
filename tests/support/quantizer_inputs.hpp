#pragma once
// Inputs shared by the quantizer tests of tests/core/methods/.
#include <Eigen/Core>
#include <cstdint>

#include "ternbench/base/rng.hpp"
#include "ternbench/core/nn/layer.hpp"

namespace ternbench::core::quantizer_tests {

// The checked losses are linear in the perturbed scalar (TTQ scales) or smooth with float
// tanh rounding (~1e-7) over eps = 1e-2; both land far below this.
inline constexpr double kGradTol = 1e-3;
inline constexpr std::uint64_t kSeed = 7;

inline Mat hand_weights() {
  Mat w(2, 2);
  w << 0.1f, -0.5f, 0.9f, -0.05f;
  return w;
}

inline Mat upstream() {  // a dL/dq with distinct entries, for hand-checked backward rules
  Mat dq(2, 3);
  dq << 1, 2, 3, 4, 5, 6;
  return dq;
}

inline Mat random_matrix(Eigen::Index rows, Eigen::Index cols, Rng& rng, float lo = -1, float hi = 1) {
  Mat m(rows, cols);
  for (Eigen::Index i = 0; i < m.size(); ++i) m(i) = lo + (hi - lo) * rng.uniform_float();
  return m;
}

// sum G .* q(w) in double: its gradient with respect to q is G.
inline double linear_loss(const Mat& g, const Mat& q) { return (g.cast<double>().array() * q.cast<double>().array()).sum(); }

}  // namespace ternbench::core::quantizer_tests
