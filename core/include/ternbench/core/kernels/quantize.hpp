#pragma once
// Weight quantization maths. Pure functions, no allocation. Sums run in double over 16
// independent lanes: a fixed order (bit-reproducible) that GCC vectorises without
// -ffast-math. The sums a training step takes (abs_sum, kept_abs, ttq_backward's) are
// blocked instead (core/src/core/kernels/block_sums.hpp: blocks of 64 lanes whose totals
// add in block order), so they split over the threads and do not depend on the count; the
// others stay on one thread. Element-wise passes and maxima, whose results do not depend
// on a split, run on Eigen::nbThreads() OpenMP threads (the run's count) for large
// matrices. Loops stay free of data-dependent branches; those defeat vectorisation and
// mispredict on weights. Element-wise outputs may alias their inputs unless noted.
// "Per row" means per output channel: weight matrices are (out, in).
#include <Eigen/Core>
#include <cstdint>

#include "ternbench/base/rng.hpp"

namespace ternbench::kernels {

using Mat = Eigen::MatrixXf;

// sum |w|, blocked                  w: any shape
double abs_sum(const Eigen::Ref<const Mat>& w);

// max |w| (0 for an empty matrix)   w: any shape
float abs_max(const Eigen::Ref<const Mat>& w);

// The pieces of abs_sum and abs_max an optimizer's update pass takes block by block
// (core::UpdateHook): values per block of the blocked sums for n values; abs_sum's total of
// one block (n contiguous values from a block's start), so that the block totals added in
// block order are abs_sum of the whole; max |p| of n values (0 for none, NaN never wins).
Eigen::Index sum_block_size(Eigen::Index n);
double abs_sum_block(const float* p, Eigen::Index n);
float abs_max_span(const float* p, Eigen::Index n);

// sum a .* b                        a, b: same shape
double dot(const Eigen::Ref<const Mat>& a, const Eigen::Ref<const Mat>& b);

// Number of entries != 0.           w: any shape
std::int64_t count_nonzero(const Eigen::Ref<const Mat>& w);

// TWN's layer-wise forward in two passes, one of them over w. kept_abs: the entries with
// |w| > delta, how many and the sum of their |w| (blocked, so it equals abs_sum of w with
// the other entries zeroed), and each entry's code. ternarize_codes: q = scale * sign(w)
// where |w| > delta, else 0, from the codes, which take a sixteenth of what w takes (q may
// be w itself). Entry e in column-major order is kept when bit e % 16 of codes[2 (e / 16)]
// is set, kept and negative when the same bit of codes[2 (e / 16) + 1] is.
// w: any shape   codes: ternary_code_words(w.size()) words   q: the shape of that w
struct KeptAbs {
  std::int64_t count = 0;
  double abs_sum = 0;
};
Eigen::Index ternary_code_words(Eigen::Index n);
KeptAbs kept_abs(const Eigen::Ref<const Mat>& w, float delta, std::uint16_t* codes);
void ternarize_codes(const std::uint16_t* codes, float scale, Eigen::Ref<Mat> q);

struct SignCounts {
  std::int64_t neg = 0, zero = 0, pos = 0;
};
// Number of negative, exactly zero and positive entries (NaN is none of them).   w: any shape
SignCounts sign_counts(const Eigen::Ref<const Mat>& w);

// ---- binary ------------------------------------------------------------------------------

// q = h * sign(w) with sign(0) = +1 (so -0 gives +h).      w, q: same shape
void binarize(const Eigen::Ref<const Mat>& w, float h, Eigen::Ref<Mat> q);

// q = +h with probability clip((w/h + 1)/2, 0, 1), else -h; one rng.uniform_float() per
// entry in column-major order, so the stream position depends only on the shape.
// w, q: same shape; h > 0
void binarize_stochastic(const Eigen::Ref<const Mat>& w, float h, Rng& rng, Eigen::Ref<Mat> q);

// w = min(max(w, lo), hi)                                  w: any shape
void clip(Eigen::Ref<Mat> w, float lo, float hi);
// The same on n contiguous values, on the calling thread.
void clip_span(float* p, Eigen::Index n, float lo, float hi);

// ---- per-row (per output channel) statistics and codes -----------------------------------

// out(r) = mean_c |w(r, c)|                                w: (R, C)  out: (R, 1)
void row_abs_mean(const Eigen::Ref<const Mat>& w, Eigen::Ref<Mat> out);

// q(r, c) = scale(r) * sign(w(r, c)), sign(0) = +1          w, q: (R, C)  scale: (R, 1)
void binarize_rows(const Eigen::Ref<const Mat>& w, const Eigen::Ref<const Mat>& scale, Eigen::Ref<Mat> q);

// row_abs_mean(w, scale) then binarize_rows(w, scale, q), bit for bit. With threads, in one
// pass over w: row blocks small enough to stay in cache between the two, split across the
// threads (each row's sum keeps its order); on one thread, those two passes.
// w, q: (R, C)  scale: (R, 1) output.  q must not alias w.
void binarize_rows_by_mean(const Eigen::Ref<const Mat>& w, Eigen::Ref<Mat> scale, Eigen::Ref<Mat> q);

// XNOR-Net backward of q = a * sign(w), a = row mean |w|, as DESIGN.md prints it:
// dw(r, c) = dq(r, c) * (1/C + scale(r) * 1{|w(r, c)| <= 1}).
// w, dq, dw: (R, C)  scale: (R, 1)  (dw may alias dq)
void bwn_backward(const Eigen::Ref<const Mat>& w, const Eigen::Ref<const Mat>& scale,
                  const Eigen::Ref<const Mat>& dq, Eigen::Ref<Mat> dw);

// Per-row TWN: delta(r) = factor * mean_c |w(r, c)|; codes t = sign(w) 1{|w| > delta(r)};
// scale(r) = mean of |w| over the kept entries of row r (0 when none); q = scale(r) t.
// w, q: (R, C)  delta, scale: (R, 1) outputs.  q must not alias w.
void ternarize_rows(const Eigen::Ref<const Mat>& w, float factor, Eigen::Ref<Mat> delta,
                    Eigen::Ref<Mat> scale, Eigen::Ref<Mat> q);

// ---- TTQ (asymmetric learned scales) -----------------------------------------------------

// q = +wp where w > delta, -wn where w < -delta, else 0.   w, q: same shape
void ttq_forward(const Eigen::Ref<const Mat>& w, float delta, float wp, float wn, Eigen::Ref<Mat> q);

struct ScaleGrads {
  double pos = 0;  // sum of dq over the positive region
  double neg = 0;  // sum of dq over the negative region
};
// dw = wp dq (w > delta), dq (|w| <= delta), wn dq (w < -delta). Returns the sums of dq over
// the positive and negative regions (dWp = pos, dWn = -neg).
// w, dq, dw: same shape (dw may alias dq)
// One pass over w and dq; the sums blocked, so the pass splits over the threads.
ScaleGrads ttq_backward(const Eigen::Ref<const Mat>& w, float delta, float wp, float wn,
                        const Eigen::Ref<const Mat>& dq, Eigen::Ref<Mat> dw);

// ---- frozen-mask ternary (Faraone stage 3) -----------------------------------------------

// sum |w| .* mask                                 w, mask: same shape, mask in {0, 1}
double masked_abs_sum(const Eigen::Ref<const Mat>& w, const Eigen::Ref<const Mat>& mask);

// Sums of |w| and counts over mask & (w >= 0) and over mask & (w < 0).
struct SignedMaskStats {
  double pos_abs_sum = 0, neg_abs_sum = 0;
  std::int64_t pos = 0, neg = 0;
};
SignedMaskStats masked_sign_stats(const Eigen::Ref<const Mat>& w, const Eigen::Ref<const Mat>& mask);

// q = mask * (w >= 0 ? wp : -wn)  (wp = wn = alpha: the symmetric TWN form)
// w, mask, q: same shape
void ternarize_masked(const Eigen::Ref<const Mat>& w, const Eigen::Ref<const Mat>& mask, float wp, float wn,
                      Eigen::Ref<Mat> q);

// dw = dq .* mask                                 dq, mask, dw: same shape (dw may alias dq)
void mask_gradient(const Eigen::Ref<const Mat>& dq, const Eigen::Ref<const Mat>& mask, Eigen::Ref<Mat> dw);

// Learned-scale backward under a mask: dw = mask * (w >= 0 ? wp : wn) * dq; returns the sums
// of dq over mask & (w >= 0) and mask & (w < 0).   all: same shape (dw may alias dq)
ScaleGrads masked_ttq_backward(const Eigen::Ref<const Mat>& w, const Eigen::Ref<const Mat>& mask, float wp,
                               float wn, const Eigen::Ref<const Mat>& dq, Eigen::Ref<Mat> dw);

// w = w .* mask                                   w, mask: same shape
void apply_mask(Eigen::Ref<Mat> w, const Eigen::Ref<const Mat>& mask);

// ---- SCA (tanh parameterisation) ---------------------------------------------------------
// tanh is Eigen's vectorised float tanh: within 3e-7 of libm's, and bit-identical between its
// packet and scalar paths, so results do not depend on alignment.

// q = tanh(theta)                                  theta, q: same shape
void tanh_forward(const Eigen::Ref<const Mat>& theta, Eigen::Ref<Mat> q);

// dtheta = dq * (1 - tanh(theta)^2)               all: same shape (dtheta may alias dq)
void tanh_backward(const Eigen::Ref<const Mat>& theta, const Eigen::Ref<const Mat>& dq, Eigen::Ref<Mat> dtheta);
// The same from the forward's output t = tanh(theta): dtheta = dq .* (1 - t^2), without
// evaluating tanh again.   t, dq, dtheta: same shape (dtheta may alias dq)
void tanh_backward_from_output(const Eigen::Ref<const Mat>& t, const Eigen::Ref<const Mat>& dq,
                               Eigen::Ref<Mat> dtheta);

// Least-squares scale of round(t): mean of |t| over entries with |t| >= 0.5 (0 when none).
double round_support_mean_abs(const Eigen::Ref<const Mat>& t);

// q = scale * round(t) for t in [-1, 1]: scale * sign(t) where |t| >= 0.5 (std::round's half
// away from zero), else 0.                         t, q: same shape (q may alias t)
void round_ternary(const Eigen::Ref<const Mat>& t, float scale, Eigen::Ref<Mat> q);

// sum_i (alpha - w_i^2) w_i^2 with w = tanh(theta)     theta: any shape
double wdr_sum(const Eigen::Ref<const Mat>& theta, double alpha);

// grad += coeff * 2 w (1 - w^2)(alpha - 2 w^2), w = tanh(theta)    theta, grad: same shape
void wdr_add_gradient(const Eigen::Ref<const Mat>& theta, double alpha, double coeff, Eigen::Ref<Mat> grad);
// tanh_backward_from_output(t, dq, dtheta) then wdr_add_gradient(theta, alpha, coeff, dtheta)
// for t = tanh_forward(theta), bit for bit, in one pass and without evaluating tanh again.
// t, dq, dtheta: same shape (dtheta may alias dq)
void tanh_backward_add_wdr(const Eigen::Ref<const Mat>& t, const Eigen::Ref<const Mat>& dq, double alpha,
                           double coeff, Eigen::Ref<Mat> dtheta);

// ---- Faraone stage 1 (L2 + sub-threshold L1) ---------------------------------------------

// sum_i w_i^2                                      w: any shape
double squared_sum(const Eigen::Ref<const Mat>& w);

// sum |w| over |w| < delta                         w: any shape
double below_threshold_abs_sum(const Eigen::Ref<const Mat>& w, float delta);

// grad += 2 c2 w + cq sign(w) 1{|w| < delta}      w, grad: same shape (sign(0) = 0)
void l2_threshold_add_gradient(const Eigen::Ref<const Mat>& w, float delta, float c2, float cq,
                               Eigen::Ref<Mat> grad);

}  // namespace ternbench::kernels
