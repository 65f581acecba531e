// GCC 12 reports -Wmaybe-uninitialized inside avx512fintrin.h when Eigen's AVX-512 packet code
// is inlined (a false positive of that compiler, see kernels_activation.cpp); the pragma must
// precede the first Eigen include.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif

#include "ternbench/core/kernels/normalization.hpp"

#include <omp.h>

#include <algorithm>
#include <string>
#include <utility>

#include "ternbench/base/error.hpp"
#include "threads.hpp"

namespace ternbench::kernels {
namespace {

// Dense features (S = 1) are handled a column at a time as whole vectors: per-channel
// segments of length one would cost a loop iteration per element.

void check_channels(const char* what, Eigen::Index rows, Eigen::Index S, Eigen::Index C) {
  TB_CHECK(S > 0 && rows == C * S, std::string(what) + ": rows must be channels * positions");
}

using detail::elementwise_threads;
using detail::share;

}  // namespace

void channel_affine_span(const float* x, Eigen::Index n, float center, float scale, float shift, bool relu, float* y) {
  const Eigen::Map<const Eigen::ArrayXf> in(x, n);
  Eigen::Map<Eigen::ArrayXf> out(y, n);
  if (relu) {
    out = ((in - center) * scale + shift).cwiseMax(0.0f);
  } else {
    out = (in - center) * scale + shift;
  }
}

namespace {

// y = scale_c * (x - center_c) + shift_c, then max(y, 0) when Relu: the one expression of
// BatchNorm's forward (and ReLU's after it), so the fused and the separate layers agree to the bit.
template <bool Relu>
void affine_columns(const char* what, const Eigen::Ref<const Mat>& x, Eigen::Index S, const Eigen::Ref<const VecF>& center,
                    const Eigen::Ref<const VecF>& scale, const Eigen::Ref<const VecF>& shift, Eigen::Ref<Mat> y,
                    int threads) {
  const Eigen::Index C = center.size();
  check_channels(what, x.rows(), S, C);
  TB_CHECK(scale.size() == C && shift.size() == C && y.rows() == x.rows() && y.cols() == x.cols(),
           std::string(what) + ": shape mismatch");
  threads = elementwise_threads(threads, x.size(), x.cols());
#pragma omp parallel for num_threads(threads) if (threads > 1) schedule(static)
  for (Eigen::Index j = 0; j < x.cols(); ++j) {
    if (S == 1) {
      if constexpr (Relu) {
        y.col(j) = ((x.col(j) - center).array() * scale.array() + shift.array()).cwiseMax(0.0f).matrix();
      } else {
        y.col(j) = ((x.col(j) - center).array() * scale.array() + shift.array()).matrix();
      }
      continue;
    }
    for (Eigen::Index c = 0; c < C; ++c) {
      channel_affine_span(x.col(j).data() + c * S, S, center(c), scale(c), shift(c), Relu, y.col(j).data() + c * S);
    }
  }
}

}  // namespace

void channel_mean_var(const Eigen::Ref<const Mat>& x, Eigen::Index S, Eigen::Ref<VecD> mean, Eigen::Ref<VecD> var,
                      int threads) {
  const Eigen::Index C = mean.size();
  check_channels("channel_mean_var", x.rows(), S, C);
  TB_CHECK(var.size() == C && x.cols() > 0, "channel_mean_var: shape mismatch or empty batch");
  const double count = static_cast<double>(x.cols()) * static_cast<double>(S);
  if (S == 1) {
    mean.setZero();
    var.setZero();
    for (Eigen::Index j = 0; j < x.cols(); ++j) mean += x.col(j).cast<double>();
    mean /= count;
    for (Eigen::Index j = 0; j < x.cols(); ++j) var += (x.col(j).cast<double>() - mean).array().square().matrix();
    var /= count;
    return;
  }
  // Images: one pass over memory. Sums of (x - shift) and of its square, shift being the
  // channel's first value, so the variance does not cancel catastrophically when
  // |mean| >> std. Float sums over one sample's S positions (still in L1 for the second
  // reduction), double over the batch, samples in order. Each thread owns a range of
  // channels, so every channel's sums run in that order whatever the thread count.
  threads = elementwise_threads(threads, x.size(), C);
#pragma omp parallel num_threads(threads) if (threads > 1)
  {
    const auto [c0, c1] = share(C, omp_get_thread_num(), omp_get_num_threads());
    for (Eigen::Index c = c0; c < c1; ++c) {
      mean(c) = 0.0;  // s1 until the end
      var(c) = 0.0;   // s2 until the end
    }
    for (Eigen::Index j = 0; j < x.cols(); ++j) {
      for (Eigen::Index c = c0; c < c1; ++c) {
        const auto d = x.col(j).segment(c * S, S).array() - x(c * S, 0);
        mean(c) += static_cast<double>(d.sum());
        var(c) += static_cast<double>(d.square().sum());
      }
    }
    for (Eigen::Index c = c0; c < c1; ++c) {
      const double m1 = mean(c) / count;
      var(c) = std::max(0.0, var(c) / count - m1 * m1);
      mean(c) = static_cast<double>(x(c * S, 0)) + m1;
    }
  }
}

void channel_affine(const Eigen::Ref<const Mat>& x, Eigen::Index S, const Eigen::Ref<const VecF>& center,
                    const Eigen::Ref<const VecF>& scale, const Eigen::Ref<const VecF>& shift, Eigen::Ref<Mat> y,
                    int threads) {
  affine_columns<false>("channel_affine", x, S, center, scale, shift, y, threads);
}

void channel_affine_relu(const Eigen::Ref<const Mat>& x, Eigen::Index S, const Eigen::Ref<const VecF>& center,
                         const Eigen::Ref<const VecF>& scale, const Eigen::Ref<const VecF>& shift, Eigen::Ref<Mat> y,
                         int threads) {
  affine_columns<true>("channel_affine_relu", x, S, center, scale, shift, y, threads);
}

void channel_backward_sums(const Eigen::Ref<const Mat>& x, const Eigen::Ref<const Mat>& dy, Eigen::Index S,
                           const Eigen::Ref<const VecF>& center, Eigen::Ref<VecD> sum_dy, Eigen::Ref<VecD> sum_dyxc,
                           int threads) {
  const Eigen::Index C = center.size();
  check_channels("channel_backward_sums", x.rows(), S, C);
  TB_CHECK(dy.rows() == x.rows() && dy.cols() == x.cols() && sum_dy.size() == C && sum_dyxc.size() == C,
           "channel_backward_sums: shape mismatch");
  sum_dy.setZero();
  sum_dyxc.setZero();
  if (S == 1) {
    for (Eigen::Index j = 0; j < x.cols(); ++j) {
      sum_dy += dy.col(j).cast<double>();
      sum_dyxc += (dy.col(j).array() * (x.col(j) - center).array()).cast<double>().matrix();
    }
    return;
  }
  // Each thread owns a range of channels and adds the samples in order, as one thread does.
  threads = elementwise_threads(threads, x.size(), C);
#pragma omp parallel num_threads(threads) if (threads > 1)
  {
    const auto [c0, c1] = share(C, omp_get_thread_num(), omp_get_num_threads());
    for (Eigen::Index j = 0; j < x.cols(); ++j) {
      for (Eigen::Index c = c0; c < c1; ++c) {
        float t_dy = 0.0f, t_dyxc = 0.0f;
        channel_sum_terms(dy.col(j).data() + c * S, x.col(j).data() + c * S, S, center(c), t_dy, t_dyxc);
        sum_dy(c) += static_cast<double>(t_dy);
        sum_dyxc(c) += static_cast<double>(t_dyxc);
      }
    }
  }
}

void channel_sum_terms(const float* g, const float* x, Eigen::Index S, float center, float& sum_g, float& sum_gxc) {
  const Eigen::Map<const Eigen::ArrayXf> gs(g, S), xs(x, S);
  sum_g = gs.sum();
  sum_gxc = (gs * (xs - center)).sum();
}

void channel_sums_of_terms(const Eigen::Ref<const Mat>& terms_dy, const Eigen::Ref<const Mat>& terms_dyxc,
                           Eigen::Ref<VecD> sum_dy, Eigen::Ref<VecD> sum_dyxc) {
  const Eigen::Index C = sum_dy.size();
  TB_CHECK(terms_dy.rows() == C && terms_dyxc.rows() == C && terms_dyxc.cols() == terms_dy.cols() &&
               sum_dyxc.size() == C,
           "channel_sums_of_terms: shape mismatch");
  sum_dy.setZero();
  sum_dyxc.setZero();
  for (Eigen::Index j = 0; j < terms_dy.cols(); ++j) {
    for (Eigen::Index c = 0; c < C; ++c) {
      sum_dy(c) += static_cast<double>(terms_dy(c, j));
      sum_dyxc(c) += static_cast<double>(terms_dyxc(c, j));
    }
  }
}

void channel_backward_input(const Eigen::Ref<const Mat>& x, const Eigen::Ref<const Mat>& dy, Eigen::Index S,
                            const Eigen::Ref<const VecF>& center, const Eigen::Ref<const VecF>& a,
                            const Eigen::Ref<const VecF>& b, const Eigen::Ref<const VecF>& k, Eigen::Ref<Mat> dx,
                            int threads) {
  const Eigen::Index C = center.size();
  check_channels("channel_backward_input", x.rows(), S, C);
  TB_CHECK(dy.rows() == x.rows() && dy.cols() == x.cols() && dx.rows() == x.rows() && dx.cols() == x.cols() &&
               a.size() == C && b.size() == C && k.size() == C,
           "channel_backward_input: shape mismatch");
  threads = elementwise_threads(threads, x.size(), x.cols());
#pragma omp parallel for num_threads(threads) if (threads > 1) schedule(static)
  for (Eigen::Index j = 0; j < x.cols(); ++j) {
    if (S == 1) {
      dx.col(j) = (a.array() * dy.col(j).array() + b.array() * (x.col(j) - center).array() + k.array()).matrix();
      continue;
    }
    for (Eigen::Index c = 0; c < C; ++c) {
      dx.col(j).segment(c * S, S) = (a(c) * dy.col(j).segment(c * S, S).array() +
                                     b(c) * (x.col(j).segment(c * S, S).array() - center(c)) + k(c))
                                        .matrix();
    }
  }
}

void global_avg_pool_forward(const Eigen::Ref<const Mat>& x, Eigen::Index S, Eigen::Ref<Mat> y) {
  const Eigen::Index C = y.rows();
  check_channels("global_avg_pool_forward", x.rows(), S, C);
  TB_CHECK(y.cols() == x.cols(), "global_avg_pool_forward: batch mismatch");
  const float inv = 1.0f / static_cast<float>(S);
  for (Eigen::Index j = 0; j < x.cols(); ++j) {
    for (Eigen::Index c = 0; c < C; ++c) y(c, j) = x.col(j).segment(c * S, S).sum() * inv;
  }
}

void global_avg_pool_backward(const Eigen::Ref<const Mat>& dy, Eigen::Index S, Eigen::Ref<Mat> dx) {
  const Eigen::Index C = dy.rows();
  check_channels("global_avg_pool_backward", dx.rows(), S, C);
  TB_CHECK(dy.cols() == dx.cols(), "global_avg_pool_backward: batch mismatch");
  const float inv = 1.0f / static_cast<float>(S);
  for (Eigen::Index j = 0; j < dy.cols(); ++j) {
    for (Eigen::Index c = 0; c < C; ++c) dx.col(j).segment(c * S, S).setConstant(dy(c, j) * inv);
  }
}

}  // namespace ternbench::kernels
