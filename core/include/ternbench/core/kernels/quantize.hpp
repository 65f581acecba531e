#pragma once
// Weight quantization maths. Pure functions, no allocation. Sums run in double over 16
// independent lanes: a fixed order (bit-reproducible) that GCC vectorises without
// -ffast-math. Loops stay free of data-dependent branches; those defeat vectorisation
// and mispredict on weights.
#include <Eigen/Core>
#include <cstdint>

namespace ternbench::kernels {

using Mat = Eigen::MatrixXf;

// sum |w|                           w: any shape
double abs_sum(const Eigen::Ref<const Mat>& w);

// sum a .* b                        a, b: same shape
double dot(const Eigen::Ref<const Mat>& a, const Eigen::Ref<const Mat>& b);

// Number of entries != 0.           w: any shape
std::int64_t count_nonzero(const Eigen::Ref<const Mat>& w);

// q = scale * sign(w) where |w| > delta, else 0.   w, q: same shape (q may alias w)
void ternarize(const Eigen::Ref<const Mat>& w, float delta, float scale, Eigen::Ref<Mat> q);

struct SignCounts {
  std::int64_t neg = 0, zero = 0, pos = 0;
};
// Number of negative, exactly zero and positive entries (NaN is none of them).   w: any shape
SignCounts sign_counts(const Eigen::Ref<const Mat>& w);

}  // namespace ternbench::kernels
