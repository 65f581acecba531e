#include "ternbench/core/kernels/quantize.hpp"

#include <omp.h>
#if defined(__AVX512F__)
#include <immintrin.h>
#endif

#include <algorithm>
#include <cmath>

#include "block_sums.hpp"
#include "threads.hpp"
#include "ternbench/base/error.hpp"

namespace ternbench::kernels {
namespace {

constexpr int kLanes = 16;

// Calls f(offset_a, offset_b, length) for each contiguous run: once when both matrices are
// contiguous, else once per column. Offsets are in elements from data().
template <class F>
void for_each_run(const Eigen::Ref<const Mat>& a, const Eigen::Ref<const Mat>& b, F&& f) {
  if (a.outerStride() == a.rows() && b.outerStride() == b.rows()) {
    f(Eigen::Index{0}, Eigen::Index{0}, a.size());
  } else {
    for (Eigen::Index j = 0; j < a.cols(); ++j) f(j * a.outerStride(), j * b.outerStride(), a.rows());
  }
}

// Sum over the lanes, in lane order.
template <class T>
T lane_total(const T (&lanes)[kLanes]) {
  T total = 0;
  for (T v : lanes) total += v;
  return total;
}

// sum_i term(a_i, b_i) in double over kLanes lanes (a fixed order), for unconditional terms.
template <class F>
double lane_sum(const Eigen::Ref<const Mat>& a, const Eigen::Ref<const Mat>& b, F&& term) {
  double acc[kLanes] = {};
  const float* pa = a.data();
  const float* pb = b.data();
  for_each_run(a, b, [&](Eigen::Index oa, Eigen::Index ob, Eigen::Index n) {
    Eigen::Index i = 0;
    for (; i + kLanes <= n; i += kLanes) {
      for (int k = 0; k < kLanes; ++k) acc[k] += term(pa[oa + i + k], pb[ob + i + k]);
    }
    for (; i < n; ++i) acc[0] += term(pa[oa + i], pb[ob + i]);
  });
  return lane_total(acc);
}

// Conditional sums go through a float chunk on the stack: GCC will not vectorise a loop
// that both selects and widens to double (it emits a branch, which mispredicts on weights,
// ~20x slower), but it vectorises the float select loop and the double sum loop apart.
constexpr Eigen::Index kChunk = 256;

void accumulate(const float* buf, Eigen::Index n, double (&acc)[kLanes]) {
  Eigen::Index i = 0;
  for (; i + kLanes <= n; i += kLanes) {
    for (int k = 0; k < kLanes; ++k) acc[k] += buf[i + k];
  }
  for (; i < n; ++i) acc[0] += buf[i];
}

// sum_i term(a_i, b_i) in double for a float-valued (selecting) term.
template <class F>
double select_sum(const Eigen::Ref<const Mat>& a, const Eigen::Ref<const Mat>& b, F&& term) {
  double acc[kLanes] = {};
  alignas(64) float buf[kChunk];
  const float* pa = a.data();
  const float* pb = b.data();
  for_each_run(a, b, [&](Eigen::Index oa, Eigen::Index ob, Eigen::Index n) {
    for (Eigen::Index i0 = 0; i0 < n; i0 += kChunk) {
      const Eigen::Index m = std::min(kChunk, n - i0);
      for (Eigen::Index i = 0; i < m; ++i) buf[i] = term(pa[oa + i0 + i], pb[ob + i0 + i]);
      accumulate(buf, m, acc);
    }
  });
  return lane_total(acc);
}

// sum_ij term(a_ij, b_ij, c_ij) in double for a float-valued term, column by column.
template <class F>
double select_sum3(const Eigen::Ref<const Mat>& a, const Eigen::Ref<const Mat>& b, const Eigen::Ref<const Mat>& c,
                   F&& term) {
  double acc[kLanes] = {};
  alignas(64) float buf[kChunk];
  for (Eigen::Index j = 0; j < a.cols(); ++j) {
    const float* pa = a.col(j).data();
    const float* pb = b.col(j).data();
    const float* pc = c.col(j).data();
    for (Eigen::Index i0 = 0; i0 < a.rows(); i0 += kChunk) {
      const Eigen::Index m = std::min(kChunk, a.rows() - i0);
      for (Eigen::Index i = 0; i < m; ++i) buf[i] = term(pa[i0 + i], pb[i0 + i], pc[i0 + i]);
      accumulate(buf, m, acc);
    }
  }
  return lane_total(acc);
}

// Threads for an element-wise pass over `elements` entries: the run's count (the trainer sets
// Eigen's, which OpenMP regions here follow), 1 below a size where the fork costs more than
// the pass. Element-wise results do not depend on how the columns are split.
constexpr Eigen::Index kParallelMin = 1 << 15;

int map_threads(Eigen::Index elements) {
  return elements < kParallelMin ? 1 : std::max(1, Eigen::nbThreads());
}

// f(j) for every column j, on map_threads(rows * cols) threads (columns in static blocks).
// f reaches its captures through references a store through a float* might alias, which
// stops GCC vectorising: column bodies copy what they read into locals first.
template <class F>
void for_each_column(Eigen::Index rows, Eigen::Index cols, F&& f) {
  const int threads = map_threads(rows * cols);
#pragma omp parallel for num_threads(threads) if (threads > 1) schedule(static)
  for (Eigen::Index j = 0; j < cols; ++j) f(j);
}

// out_ij = f(a_ij, b_ij), column by column (inner loops contiguous, so they vectorise).
template <class F>
void map2(const Eigen::Ref<const Mat>& a, const Eigen::Ref<const Mat>& b, Eigen::Ref<Mat> out, F&& f) {
  for_each_column(a.rows(), a.cols(), [&](Eigen::Index j) {
    const F g = f;
    const Eigen::Index n = a.rows();
    const float* pa = a.col(j).data();
    const float* pb = b.col(j).data();
    float* o = out.col(j).data();
    for (Eigen::Index i = 0; i < n; ++i) o[i] = g(pa[i], pb[i]);
  });
}

// f(in, o, n) over runs of a and out that together cover every entry once: the whole
// matrices as map_threads' contiguous ranges (whole 16-float vectors) when both are
// contiguous, else column by column. For element-wise work whose short runs cost: a column
// of 500 ends in 4 values that Eigen's tanh evaluates one at a time.
template <class F>
void for_each_span(const Eigen::Ref<const Mat>& a, Eigen::Ref<Mat> out, F&& f) {
  if (a.outerStride() != a.rows() || out.outerStride() != out.rows()) {
    for_each_column(a.rows(), a.cols(), [&](Eigen::Index j) { f(a.col(j).data(), out.col(j).data(), a.rows()); });
    return;
  }
  const Eigen::Index n = a.size();
  const int threads = map_threads(n);
#pragma omp parallel num_threads(threads) if (threads > 1)
  {
    const auto [v0, v1] = detail::share((n + kLanes - 1) / kLanes, omp_get_thread_num(), omp_get_num_threads());
    const Eigen::Index begin = std::min(n, v0 * kLanes), end = std::min(n, v1 * kLanes);
    if (end > begin) f(a.data() + begin, out.data() + begin, end - begin);
  }
}

// Row sums of term(a_rc, b_rc) in double, one accumulator per row, summed in column order.
// Rows go in chunks of kRowChunk whose accumulators live on the stack: each column then
// contributes one contiguous run (vectorised, streamed in memory order) and nothing is
// allocated. emit(r, sum) receives each row's total.
constexpr Eigen::Index kRowChunk = 512;
constexpr Eigen::Index kRowBlock = 64;  // binarize_rows_by_mean's cache-sized row blocks

template <class F, class E>
void row_sums(const Eigen::Ref<const Mat>& a, const Eigen::Ref<const Mat>& b, F&& term, E&& emit) {
  const Eigen::Index R = a.rows();
  double acc[kRowChunk];
  for (Eigen::Index r0 = 0; r0 < R; r0 += kRowChunk) {
    const Eigen::Index nr = std::min<Eigen::Index>(kRowChunk, R - r0);
    for (Eigen::Index k = 0; k < nr; ++k) acc[k] = 0;
    for (Eigen::Index j = 0; j < a.cols(); ++j) {
      const float* pa = a.col(j).data() + r0;
      const float* pb = b.col(j).data() + r0;
      for (Eigen::Index k = 0; k < nr; ++k) acc[k] += term(pa[k], pb[k]);
    }
    for (Eigen::Index k = 0; k < nr; ++k) emit(r0 + k, acc[k]);
  }
}

// Calls f(j, i0, n, t) for consecutive runs of column j with t[0..n) = tanh(theta(i0.., j)).
// Eigen's tanh is vectorised (libm's tanhf is not, and costs ~35 ns a call); the chunk on
// the stack lets callers reuse tanh several times without allocating.
constexpr Eigen::Index kTanhChunk = 256;

template <class F>
void for_each_tanh_chunk(const Eigen::Ref<const Mat>& theta, F&& f) {
  alignas(64) float t[kTanhChunk];
  for (Eigen::Index j = 0; j < theta.cols(); ++j) {
    const float* p = theta.col(j).data();
    for (Eigen::Index i0 = 0; i0 < theta.rows(); i0 += kTanhChunk) {
      const Eigen::Index n = std::min<Eigen::Index>(kTanhChunk, theta.rows() - i0);
      Eigen::Map<Eigen::ArrayXf>(t, n) = Eigen::Map<const Eigen::ArrayXf>(p + i0, n).tanh();
      f(j, i0, n, static_cast<const float*>(t));
    }
  }
}

void check_same_shape(const Eigen::Ref<const Mat>& a, Eigen::Index rows, Eigen::Index cols, const char* what) {
  TB_CHECK(a.rows() == rows && a.cols() == cols, std::string(what) + ": shape mismatch");
}

void check_row_vector(const Eigen::Ref<const Mat>& v, Eigen::Index rows, const char* what) {
  TB_CHECK(v.rows() == rows && v.cols() == 1, std::string(what) + ": per-row vector must be (rows, 1)");
}

}  // namespace

namespace {

// acc's lanes += |p[i]| for a contiguous run of n values whose first is in lane `lane`.
void abs_sum_run(const float* p, Eigen::Index n, int lane, detail::Lanes& acc) {
  Eigen::Index start = 0;
#if defined(__AVX512F__)
  if (lane == 0) {  // whole lane rows in registers (what the chunks below do, value by value)
    detail::WideLanes lanes(acc);
    for (; start + detail::kSumLanes <= n; start += detail::kSumLanes) {
#pragma GCC unroll 4
      for (int q = 0; q < 4; ++q) lanes.add(q, _mm512_abs_ps(_mm512_loadu_ps(p + start + detail::kVector * q)));
    }
    lanes.store(acc);
  }
#endif
  alignas(64) float buf[kChunk];
  for (Eigen::Index i0 = start; i0 < n; i0 += kChunk) {
    const Eigen::Index m = std::min(kChunk, n - i0);
    for (Eigen::Index i = 0; i < m; ++i) buf[i] = std::fabs(p[i0 + i]);
    detail::add_lanes(buf, m, lane, acc);  // start and chunks are whole lane rows
  }
}

}  // namespace

double abs_sum(const Eigen::Ref<const Mat>& w) {
  const bool contiguous = w.outerStride() == w.rows();
  const auto block = [&w, contiguous](Eigen::Index e0, Eigen::Index e1) {
    detail::Lanes acc = {};
    detail::for_each_run_in(w.rows(), contiguous, e0, e1, [&](Eigen::Index e, Eigen::Index n) {
      abs_sum_run(detail::element(w.data(), w.rows(), w.outerStride(), e), n,
                  static_cast<int>(e % detail::kSumLanes), acc);
    });
    return detail::lanes_total(acc);
  };
  return detail::blocked_sum<double>(w.size(), map_threads(w.size()), block, [](double& t, double v) { t += v; });
}

Eigen::Index sum_block_size(Eigen::Index n) { return detail::sum_block(n); }

double abs_sum_block(const float* p, Eigen::Index n) {
  detail::Lanes acc = {};
  abs_sum_run(p, n, 0, acc);
  return detail::lanes_total(acc);
}

namespace {

// max(m, max_i |p[i]|) for m >= 0. NaN never wins: std::max(m, NaN) is m, and AVX-512's
// max returns its second operand (the running maximum) when the first is NaN. GCC left the
// plain loop scalar, which made this pass cost more than TTQ's forward that also writes.
float run_abs_max(const float* p, Eigen::Index n, float m) {
  Eigen::Index i = 0;
#if defined(__AVX512F__)
  // Four running maxima, so that the max instructions do not wait on each other.
  __m512 acc[4] = {_mm512_set1_ps(m), _mm512_set1_ps(m), _mm512_set1_ps(m), _mm512_set1_ps(m)};
  for (; i + 4 * kLanes <= n; i += 4 * kLanes) {
#pragma GCC unroll 4
    for (int k = 0; k < 4; ++k) acc[k] = _mm512_max_ps(_mm512_abs_ps(_mm512_loadu_ps(p + i + kLanes * k)), acc[k]);
  }
  for (; i + kLanes <= n; i += kLanes) acc[0] = _mm512_max_ps(_mm512_abs_ps(_mm512_loadu_ps(p + i)), acc[0]);
  // Not _mm512_reduce_max_ps: GCC 12 warns inside it (an undefined register it reads).
  alignas(64) float lanes[kLanes];
  for (const __m512 a : acc) {
    _mm512_store_ps(lanes, a);
    for (const float v : lanes) m = std::max(m, v);
  }
#endif
  for (; i < n; ++i) m = std::max(m, std::fabs(p[i]));
  return m;
}

}  // namespace

float abs_max(const Eigen::Ref<const Mat>& w) {
  // A maximum does not depend on the order it is taken in: the columns split across threads.
  const int threads = map_threads(w.size());
  float m = 0;
#pragma omp parallel num_threads(threads) if (threads > 1)
  {
    float mine = 0;
#pragma omp for schedule(static) nowait
    for (Eigen::Index j = 0; j < w.cols(); ++j) mine = run_abs_max(w.col(j).data(), w.rows(), mine);
#pragma omp critical(tb_abs_max)
    m = std::max(m, mine);
  }
  return m;
}

float abs_max_span(const float* p, Eigen::Index n) { return run_abs_max(p, n, 0.0f); }

double dot(const Eigen::Ref<const Mat>& a, const Eigen::Ref<const Mat>& b) {
  TB_CHECK(a.rows() == b.rows() && a.cols() == b.cols(), "dot: shape mismatch");
  return lane_sum(a, b, [](float x, float y) { return static_cast<double>(x) * y; });
}

std::int64_t count_nonzero(const Eigen::Ref<const Mat>& w) {
  std::int64_t total = 0;
  const float* p = w.data();
  for_each_run(w, w, [&](Eigen::Index o, Eigen::Index, Eigen::Index n) {
    // int32 lanes vectorise twice as wide; a run of n < 2^31 * kLanes cannot overflow them.
    std::int32_t cnt[kLanes] = {};
    Eigen::Index i = 0;
    for (; i + kLanes <= n; i += kLanes) {
      for (int k = 0; k < kLanes; ++k) cnt[k] += p[o + i + k] != 0.0f ? 1 : 0;
    }
    for (; i < n; ++i) cnt[0] += p[o + i] != 0.0f ? 1 : 0;
    total += lane_total(cnt);
  });
  return total;
}

Eigen::Index ternary_code_words(Eigen::Index n) { return 2 * ((n + kLanes - 1) / kLanes); }

KeptAbs kept_abs(const Eigen::Ref<const Mat>& w, float delta, std::uint16_t* codes) {
  TB_CHECK(codes != nullptr, "kept_abs: codes must not be null");
  const bool contiguous = w.outerStride() == w.rows();
  const auto block = [&w, contiguous, d = delta, codes](Eigen::Index e0, Eigen::Index e1) {
    detail::Lanes acc = {};
    std::int64_t count = 0;
    alignas(64) float buf[kChunk];
    // Blocks start on whole lane rows, so no two blocks share a code word.
    std::fill(codes + 2 * (e0 / kLanes), codes + 2 * ((e1 + kLanes - 1) / kLanes), 0);
    detail::for_each_run_in(w.rows(), contiguous, e0, e1, [&](Eigen::Index e, Eigen::Index n) {
      const float* p = detail::element(w.data(), w.rows(), w.outerStride(), e);
      const int lane = static_cast<int>(e % detail::kSumLanes);
      Eigen::Index start = 0;
#if defined(__AVX512F__)
      if (lane == 0) {  // whole lane rows in registers (what the chunks below do, value by value)
        const __m512 cut = _mm512_set1_ps(d);
        const __m512 zero = _mm512_setzero_ps();
        detail::WideLanes lanes(acc);
        for (; start + detail::kSumLanes <= n; start += detail::kSumLanes) {
#pragma GCC unroll 4
          for (int q = 0; q < 4; ++q) {
            const __m512 x = _mm512_loadu_ps(p + start + detail::kVector * q);
            const __m512 a = _mm512_abs_ps(x);
            const __mmask16 kept = _mm512_cmp_ps_mask(a, cut, _CMP_GT_OQ);
            lanes.add(q, _mm512_maskz_mov_ps(kept, a));
            count += __builtin_popcount(static_cast<unsigned>(kept));
            std::uint16_t* out = codes + 2 * ((e + start) / kLanes + q);
            out[0] = kept;
            out[1] = _mm512_mask_cmp_ps_mask(kept, x, zero, _CMP_LT_OQ);
          }
        }
        lanes.store(acc);
      }
#endif
      for (Eigen::Index i0 = start; i0 < n; i0 += kChunk) {
        const Eigen::Index m = std::min(kChunk, n - i0);
        std::int32_t kept = 0;
        for (Eigen::Index i = 0; i < m; ++i) {
          const float a = std::fabs(p[i0 + i]);
          buf[i] = a > d ? a : 0.0f;
          kept += a > d ? 1 : 0;
        }
        detail::add_lanes(buf, m, lane, acc);  // start and chunks are whole lane rows
        count += kept;
        for (Eigen::Index i = 0; i < m; ++i) {  // the codes of the same values
          if (!(std::fabs(p[i0 + i]) > d)) continue;
          const Eigen::Index at = e + i0 + i;
          const auto bit = static_cast<std::uint16_t>(1u << (at % kLanes));
          codes[2 * (at / kLanes)] |= bit;
          if (p[i0 + i] < 0.0f) codes[2 * (at / kLanes) + 1] |= bit;
        }
      }
    });
    return KeptAbs{count, detail::lanes_total(acc)};
  };
  return detail::blocked_sum<KeptAbs>(w.size(), map_threads(w.size()), block, [](KeptAbs& t, const KeptAbs& v) {
    t.count += v.count;
    t.abs_sum += v.abs_sum;
  });
}

void ternarize_codes(const std::uint16_t* codes, float scale, Eigen::Ref<Mat> q) {
  const float s = std::fabs(scale);  // what copysign(scale, w) gives for a kept w > 0
  const auto one = [codes, s](Eigen::Index e) {
    const unsigned bit = 1u << (e % kLanes);
    const bool kept = (codes[2 * (e / kLanes)] & bit) != 0;
    const bool neg = (codes[2 * (e / kLanes) + 1] & bit) != 0;
    return kept ? (neg ? -s : s) : 0.0f;
  };
  if (q.outerStride() != q.rows()) {
    for_each_column(q.rows(), q.cols(), [&q, one](Eigen::Index j) {
      float* o = q.col(j).data();
      for (Eigen::Index i = 0; i < q.rows(); ++i) o[i] = one(j * q.rows() + i);
    });
    return;
  }
  // Contiguous: groups of 16 entries, one pair of code words each, split over the threads.
  float* o = q.data();
  const Eigen::Index n = q.size();
  const Eigen::Index groups = n / kLanes;
  const int threads = map_threads(n);
#pragma omp parallel for num_threads(threads) if (threads > 1) schedule(static)
  for (Eigen::Index g = 0; g < groups; ++g) {
#if defined(__AVX512F__)
    const __m512 v = _mm512_mask_blend_ps(codes[2 * g + 1], _mm512_set1_ps(s), _mm512_set1_ps(-s));
    _mm512_storeu_ps(o + kLanes * g, _mm512_maskz_mov_ps(codes[2 * g], v));
#else
    for (Eigen::Index e = kLanes * g; e < kLanes * (g + 1); ++e) o[e] = one(e);
#endif
  }
  for (Eigen::Index e = kLanes * groups; e < n; ++e) o[e] = one(e);
}

SignCounts sign_counts(const Eigen::Ref<const Mat>& w) {
  SignCounts c;
  const float* p = w.data();
  for_each_run(w, w, [&](Eigen::Index o, Eigen::Index, Eigen::Index n) {
    std::int32_t neg[kLanes] = {}, pos[kLanes] = {};
    Eigen::Index i = 0;
    for (; i + kLanes <= n; i += kLanes) {
      for (int k = 0; k < kLanes; ++k) neg[k] += p[o + i + k] < 0.0f ? 1 : 0;
      for (int k = 0; k < kLanes; ++k) pos[k] += p[o + i + k] > 0.0f ? 1 : 0;
    }
    for (; i < n; ++i) {
      neg[0] += p[o + i] < 0.0f ? 1 : 0;
      pos[0] += p[o + i] > 0.0f ? 1 : 0;
    }
    c.neg += lane_total(neg);
    c.pos += lane_total(pos);
  });
  c.zero = static_cast<std::int64_t>(w.size()) - count_nonzero(w);
  return c;
}

// ---- binary ------------------------------------------------------------------------------

void binarize(const Eigen::Ref<const Mat>& w, float h, Eigen::Ref<Mat> q) {
  check_same_shape(q, w.rows(), w.cols(), "binarize");
  map2(w, w, q, [=](float x, float) { return x >= 0.0f ? h : -h; });
}

void binarize_stochastic(const Eigen::Ref<const Mat>& w, float h, Rng& rng, Eigen::Ref<Mat> q) {
  check_same_shape(q, w.rows(), w.cols(), "binarize_stochastic");
  TB_CHECK(h > 0.0f, "binarize_stochastic: h must be > 0");
  for (Eigen::Index j = 0; j < w.cols(); ++j) {
    const float* p = w.col(j).data();
    float* o = q.col(j).data();
    for (Eigen::Index i = 0; i < w.rows(); ++i) {
      const float prob = std::clamp(0.5f * (p[i] / h + 1.0f), 0.0f, 1.0f);
      o[i] = rng.uniform_float() < prob ? h : -h;
    }
  }
}

void clip_span(float* p, Eigen::Index n, float lo, float hi) {
  for (Eigen::Index i = 0; i < n; ++i) p[i] = std::min(std::max(p[i], lo), hi);
}

void clip(Eigen::Ref<Mat> w, float lo, float hi) {
  for_each_column(w.rows(), w.cols(), [&w, lo, hi](Eigen::Index j) { clip_span(w.col(j).data(), w.rows(), lo, hi); });
}

// ---- per-row -----------------------------------------------------------------------------

void row_abs_mean(const Eigen::Ref<const Mat>& w, Eigen::Ref<Mat> out) {
  check_row_vector(out, w.rows(), "row_abs_mean");
  const double n = static_cast<double>(w.cols());
  row_sums(
      w, w, [](float a, float) { return static_cast<double>(std::fabs(a)); },
      [&](Eigen::Index r, double s) { out(r, 0) = n > 0 ? static_cast<float>(s / n) : 0.0f; });
}

void binarize_rows(const Eigen::Ref<const Mat>& w, const Eigen::Ref<const Mat>& scale, Eigen::Ref<Mat> q) {
  check_same_shape(q, w.rows(), w.cols(), "binarize_rows");
  check_row_vector(scale, w.rows(), "binarize_rows");
  const float* s = scale.data();
  for_each_column(w.rows(), w.cols(), [&w, &q, s_ = s](Eigen::Index j) {
    const float* sc = s_;
    const Eigen::Index n = w.rows();
    const float* p = w.col(j).data();
    float* o = q.col(j).data();
    for (Eigen::Index i = 0; i < n; ++i) o[i] = p[i] >= 0.0f ? sc[i] : -sc[i];
  });
}

namespace {

// Rows [r0, r0 + rows) of binarize_rows_by_mean; N > 0 fixes rows = N at compile time, so
// the full blocks' loops have constant trip counts (unrolled, vectorised, no tails).
template <Eigen::Index N>
void binarize_row_block(const Eigen::Ref<const Mat>& w, Eigen::Ref<Mat> scale, Eigen::Ref<Mat> q, Eigen::Index r0,
                        Eigen::Index rows) {
  const Eigen::Index nr = N > 0 ? N : rows;
  const Eigen::Index C = w.cols();
  double acc[kRowBlock] = {};
  for (Eigen::Index j = 0; j < C; ++j) {
    const float* p = w.col(j).data() + r0;
    for (Eigen::Index k = 0; k < nr; ++k) acc[k] += static_cast<double>(std::fabs(p[k]));
  }
  const double n = static_cast<double>(C);
  float sc[kRowBlock];
  for (Eigen::Index k = 0; k < nr; ++k) sc[k] = n > 0 ? static_cast<float>(acc[k] / n) : 0.0f;
  for (Eigen::Index k = 0; k < nr; ++k) scale(r0 + k, 0) = sc[k];
  for (Eigen::Index j = 0; j < C; ++j) {
    const float* p = w.col(j).data() + r0;
    float* o = q.col(j).data() + r0;
    for (Eigen::Index k = 0; k < nr; ++k) o[k] = p[k] >= 0.0f ? sc[k] : -sc[k];
  }
}

}  // namespace

void binarize_rows_by_mean(const Eigen::Ref<const Mat>& w, Eigen::Ref<Mat> scale, Eigen::Ref<Mat> q) {
  check_same_shape(q, w.rows(), w.cols(), "binarize_rows_by_mean");
  check_row_vector(scale, w.rows(), "binarize_rows_by_mean");
  TB_CHECK(q.data() != w.data(), "binarize_rows_by_mean: q must not alias w");
  // On one thread the two passes measure faster (row_abs_mean streams whole columns).
  const int threads = map_threads(w.size());
  if (threads == 1) {
    row_abs_mean(w, scale);
    binarize_rows(w, scale, q);
    return;
  }
  // Blocks of kRowBlock rows, split across the threads: the block's row sums read it from
  // memory once, and its codes re-read it from L2 (kRowBlock x C floats, 64 KiB per 256
  // columns). Each row still sums in column order, as row_abs_mean does, so the scales are
  // its bits.
  const Eigen::Index R = w.rows();
  const Eigen::Index blocks = (R + kRowBlock - 1) / kRowBlock;
#pragma omp parallel for num_threads(threads) if (threads > 1) schedule(static)
  for (Eigen::Index b = 0; b < blocks; ++b) {
    const Eigen::Index r0 = b * kRowBlock;
    if (R - r0 >= kRowBlock) {
      binarize_row_block<kRowBlock>(w, scale, q, r0, kRowBlock);
    } else {
      binarize_row_block<0>(w, scale, q, r0, R - r0);
    }
  }
}

void bwn_backward(const Eigen::Ref<const Mat>& w, const Eigen::Ref<const Mat>& scale,
                  const Eigen::Ref<const Mat>& dq, Eigen::Ref<Mat> dw) {
  check_same_shape(dq, w.rows(), w.cols(), "bwn_backward");
  check_same_shape(dw, w.rows(), w.cols(), "bwn_backward");
  check_row_vector(scale, w.rows(), "bwn_backward");
  const float inv_n = w.cols() > 0 ? 1.0f / static_cast<float>(w.cols()) : 0.0f;
  const float* s = scale.data();
  for_each_column(w.rows(), w.cols(), [&w, &dq, &dw, inv_n_ = inv_n, s_ = s](Eigen::Index j) {
    const float inv = inv_n_;
    const float* sc = s_;
    const Eigen::Index n = w.rows();
    const float* p = w.col(j).data();
    const float* g = dq.col(j).data();
    float* o = dw.col(j).data();
    for (Eigen::Index i = 0; i < n; ++i) o[i] = g[i] * (inv + (std::fabs(p[i]) <= 1.0f ? sc[i] : 0.0f));
  });
}

void ternarize_rows(const Eigen::Ref<const Mat>& w, float factor, Eigen::Ref<Mat> delta, Eigen::Ref<Mat> scale,
                    Eigen::Ref<Mat> q) {
  check_same_shape(q, w.rows(), w.cols(), "ternarize_rows");
  check_row_vector(delta, w.rows(), "ternarize_rows");
  check_row_vector(scale, w.rows(), "ternarize_rows");
  TB_CHECK(q.data() != w.data(), "ternarize_rows: q must not alias w");
  row_abs_mean(w, delta);
  delta *= factor;
  const float* d = delta.data();
  for (Eigen::Index j = 0; j < w.cols(); ++j) {
    const float* p = w.col(j).data();
    float* o = q.col(j).data();
    for (Eigen::Index i = 0; i < w.rows(); ++i) o[i] = std::fabs(p[i]) > d[i] ? std::copysign(1.0f, p[i]) : 0.0f;
  }
  // Codes first, as in the per-layer TWN: the kept |w| sum is a dot with the codes and the
  // kept count a sum of |code|.
  row_sums(
      q, q, [](float c, float) { return static_cast<double>(std::fabs(c)); },
      [&](Eigen::Index r, double kept) { scale(r, 0) = static_cast<float>(kept); });
  row_sums(
      w, q, [](float x, float c) { return static_cast<double>(x) * c; },
      [&](Eigen::Index r, double s) {
        const float kept = scale(r, 0);
        scale(r, 0) = kept > 0 ? static_cast<float>(s / static_cast<double>(kept)) : 0.0f;
      });
  const float* s = scale.data();
  for (Eigen::Index j = 0; j < w.cols(); ++j) {
    float* o = q.col(j).data();
    for (Eigen::Index i = 0; i < w.rows(); ++i) o[i] *= s[i];
  }
}

// ---- TTQ ---------------------------------------------------------------------------------

void ttq_forward(const Eigen::Ref<const Mat>& w, float delta, float wp, float wn, Eigen::Ref<Mat> q) {
  check_same_shape(q, w.rows(), w.cols(), "ttq_forward");
  map2(w, w, q, [=](float x, float) { return x > delta ? wp : (x < -delta ? -wn : 0.0f); });
}

namespace {

#if defined(__AVX512F__)
// ttq_backward_run's whole vectors when the run starts in lane 0, in registers: the scalar
// code's operations value by value (the same compares, products and zeroed selections,
// widened and added lane by lane). Returns how many values it took.
Eigen::Index ttq_backward_vectors(const float* x, const float* d, float* o, Eigen::Index n, float delta, float wp,
                                  float wn, detail::Lanes& pos, detail::Lanes& neg) {
  const __m512 hi_cut = _mm512_set1_ps(delta), lo_cut = _mm512_set1_ps(-delta);
  const __m512 vwp = _mm512_set1_ps(wp), vwn = _mm512_set1_ps(wn), one = _mm512_set1_ps(1.0f);
  detail::WideLanes p(pos), q(neg);
  Eigen::Index i = 0;
  for (; i + detail::kSumLanes <= n; i += detail::kSumLanes) {
#pragma GCC unroll 4
    for (int k = 0; k < 4; ++k) {
      const Eigen::Index at = i + detail::kVector * k;
      const __m512 xv = _mm512_loadu_ps(x + at), dv = _mm512_loadu_ps(d + at);
      const __mmask16 up = _mm512_cmp_ps_mask(xv, hi_cut, _CMP_GT_OQ);
      const __mmask16 down = _mm512_cmp_ps_mask(xv, lo_cut, _CMP_LT_OQ);
      const __m512 factor = _mm512_mask_blend_ps(up, _mm512_mask_blend_ps(down, one, vwn), vwp);
      _mm512_storeu_ps(o + at, _mm512_mul_ps(dv, factor));  // dv is read: o may alias d
      p.add(k, _mm512_maskz_mov_ps(up, dv));
      q.add(k, _mm512_maskz_mov_ps(down, dv));
    }
  }
  p.store(pos);
  q.store(neg);
  return i;
}
#endif

// One contiguous run of ttq_backward's fused pass, whose first element is in lane `lane`.
// Per chunk: the two region selections into float buffers and dw, then the buffers into
// their lanes; a chunk's selections are read before its dw is written, as dw may alias dq.
// Scalars arrive by value, so GCC can tell the dw stores do not change them.
void ttq_backward_run(const float* x, const float* d, float* o, Eigen::Index n, int lane, float delta, float wp,
                      float wn, detail::Lanes& pos, detail::Lanes& neg) {
  Eigen::Index start = 0;
#if defined(__AVX512F__)
  if (lane == 0) start = ttq_backward_vectors(x, d, o, n, delta, wp, wn, pos, neg);
#endif
  alignas(64) float bp[kChunk];
  alignas(64) float bn[kChunk];
  for (Eigen::Index i0 = start; i0 < n; i0 += kChunk) {
    const Eigen::Index m = std::min(kChunk, n - i0);
    const float* xc = x + i0;
    const float* dc = d + i0;
    float* oc = o + i0;
    for (Eigen::Index i = 0; i < m; ++i) {
      bp[i] = xc[i] > delta ? dc[i] : 0.0f;
      bn[i] = xc[i] < -delta ? dc[i] : 0.0f;
    }
    for (Eigen::Index i = 0; i < m; ++i) oc[i] = dc[i] * (xc[i] > delta ? wp : (xc[i] < -delta ? wn : 1.0f));
    // Chunks start on whole lane rows after `start` (a multiple of the lanes): the run's lane.
    detail::add_lanes(bp, m, lane, pos);
    detail::add_lanes(bn, m, lane, neg);
  }
}

void add_scale_grads(ScaleGrads& t, const ScaleGrads& v) {
  t.pos += v.pos;
  t.neg += v.neg;
}

}  // namespace

ScaleGrads ttq_backward(const Eigen::Ref<const Mat>& w, float delta, float wp, float wn,
                        const Eigen::Ref<const Mat>& dq, Eigen::Ref<Mat> dw) {
  check_same_shape(dq, w.rows(), w.cols(), "ttq_backward");
  check_same_shape(dw, w.rows(), w.cols(), "ttq_backward");
  // Runs are contiguous in all three, so a strided view of any of them cuts them at column
  // ends; the sums do not depend on where runs are cut.
  const bool all = w.outerStride() == w.rows() && dq.outerStride() == dq.rows() && dw.outerStride() == dw.rows();
  const auto block = [&, all](Eigen::Index e0, Eigen::Index e1) {
    detail::Lanes pos = {}, neg = {};
    detail::for_each_run_in(w.rows(), all, e0, e1, [&](Eigen::Index e, Eigen::Index n) {
      ttq_backward_run(detail::element(w.data(), w.rows(), w.outerStride(), e),
                       detail::element(dq.data(), dq.rows(), dq.outerStride(), e),
                       detail::element(dw.data(), dw.rows(), dw.outerStride(), e), n, static_cast<int>(e % detail::kSumLanes),
                       delta, wp, wn, pos, neg);
    });
    return ScaleGrads{detail::lanes_total(pos), detail::lanes_total(neg)};
  };
  return detail::blocked_sum<ScaleGrads>(w.size(), map_threads(w.size()), block, add_scale_grads);
}

// ---- frozen mask -------------------------------------------------------------------------

double masked_abs_sum(const Eigen::Ref<const Mat>& w, const Eigen::Ref<const Mat>& mask) {
  TB_CHECK(w.rows() == mask.rows() && w.cols() == mask.cols(), "masked_abs_sum: shape mismatch");
  return lane_sum(w, mask, [](float x, float m) { return static_cast<double>(std::fabs(x)) * m; });
}

SignedMaskStats masked_sign_stats(const Eigen::Ref<const Mat>& w, const Eigen::Ref<const Mat>& mask) {
  TB_CHECK(w.rows() == mask.rows() && w.cols() == mask.cols(), "masked_sign_stats: shape mismatch");
  SignedMaskStats s;
  s.pos_abs_sum = select_sum(w, mask, [](float x, float m) { return m != 0.0f && x >= 0.0f ? x : 0.0f; });
  s.neg_abs_sum = select_sum(w, mask, [](float x, float m) { return m != 0.0f && x < 0.0f ? -x : 0.0f; });
  // Counts below 2^53 are exact in double.
  s.pos = static_cast<std::int64_t>(select_sum(w, mask, [](float x, float m) { return m != 0.0f && x >= 0.0f ? 1.0f : 0.0f; }));
  s.neg = static_cast<std::int64_t>(select_sum(w, mask, [](float x, float m) { return m != 0.0f && x < 0.0f ? 1.0f : 0.0f; }));
  return s;
}

void ternarize_masked(const Eigen::Ref<const Mat>& w, const Eigen::Ref<const Mat>& mask, float wp, float wn,
                      Eigen::Ref<Mat> q) {
  check_same_shape(mask, w.rows(), w.cols(), "ternarize_masked");
  check_same_shape(q, w.rows(), w.cols(), "ternarize_masked");
  map2(w, mask, q, [=](float x, float m) { return m != 0.0f ? (x >= 0.0f ? wp : -wn) : 0.0f; });
}

void mask_gradient(const Eigen::Ref<const Mat>& dq, const Eigen::Ref<const Mat>& mask, Eigen::Ref<Mat> dw) {
  check_same_shape(mask, dq.rows(), dq.cols(), "mask_gradient");
  check_same_shape(dw, dq.rows(), dq.cols(), "mask_gradient");
  map2(dq, mask, dw, [](float d, float m) { return m != 0.0f ? d : 0.0f; });
}

ScaleGrads masked_ttq_backward(const Eigen::Ref<const Mat>& w, const Eigen::Ref<const Mat>& mask, float wp,
                               float wn, const Eigen::Ref<const Mat>& dq, Eigen::Ref<Mat> dw) {
  check_same_shape(mask, w.rows(), w.cols(), "masked_ttq_backward");
  check_same_shape(dq, w.rows(), w.cols(), "masked_ttq_backward");
  check_same_shape(dw, w.rows(), w.cols(), "masked_ttq_backward");
  ScaleGrads g;
  // Region sums before dw is written, because dw may alias dq.
  g.pos = select_sum3(w, mask, dq, [](float x, float m, float d) { return m != 0.0f && x >= 0.0f ? d : 0.0f; });
  g.neg = select_sum3(w, mask, dq, [](float x, float m, float d) { return m != 0.0f && x < 0.0f ? d : 0.0f; });
  for (Eigen::Index j = 0; j < w.cols(); ++j) {
    const float* p = w.col(j).data();
    const float* m = mask.col(j).data();
    const float* d = dq.col(j).data();
    float* o = dw.col(j).data();
    for (Eigen::Index i = 0; i < w.rows(); ++i) o[i] = m[i] != 0.0f ? d[i] * (p[i] >= 0.0f ? wp : wn) : 0.0f;
  }
  return g;
}

void apply_mask(Eigen::Ref<Mat> w, const Eigen::Ref<const Mat>& mask) {
  check_same_shape(mask, w.rows(), w.cols(), "apply_mask");
  map2(w, mask, w, [](float x, float m) { return m != 0.0f ? x : 0.0f; });
}

// ---- SCA ---------------------------------------------------------------------------------

void tanh_forward(const Eigen::Ref<const Mat>& theta, Eigen::Ref<Mat> q) {
  check_same_shape(q, theta.rows(), theta.cols(), "tanh_forward");
  // The spans end where the threads split, not at column ends. Eigen's vector and scalar
  // tanh give the same bits in the gcc and clang builds, so that does not show (a test
  // holds both to it: QuantizeKernels.TanhForwardGivesTheVectorBitsOnEveryValueAndSplit).
  for_each_span(theta, q, [](const float* in, float* o, Eigen::Index n) {
    Eigen::Map<Eigen::ArrayXf>(o, n) = Eigen::Map<const Eigen::ArrayXf>(in, n).tanh();
  });
}

void tanh_backward(const Eigen::Ref<const Mat>& theta, const Eigen::Ref<const Mat>& dq, Eigen::Ref<Mat> dtheta) {
  check_same_shape(dq, theta.rows(), theta.cols(), "tanh_backward");
  check_same_shape(dtheta, theta.rows(), theta.cols(), "tanh_backward");
  for_each_tanh_chunk(theta, [&](Eigen::Index j, Eigen::Index i0, Eigen::Index n, const float* t) {
    const float* d = dq.col(j).data() + i0;
    float* o = dtheta.col(j).data() + i0;
    for (Eigen::Index i = 0; i < n; ++i) o[i] = d[i] * (1.0f - t[i] * t[i]);
  });
}

void tanh_backward_from_output(const Eigen::Ref<const Mat>& t, const Eigen::Ref<const Mat>& dq,
                               Eigen::Ref<Mat> dtheta) {
  check_same_shape(dq, t.rows(), t.cols(), "tanh_backward_from_output");
  check_same_shape(dtheta, t.rows(), t.cols(), "tanh_backward_from_output");
  map2(t, dq, dtheta, [](float x, float d) { return d * (1.0f - x * x); });
}

double round_support_mean_abs(const Eigen::Ref<const Mat>& t) {
  const double sum = select_sum(t, t, [](float x, float) { return std::fabs(x) >= 0.5f ? std::fabs(x) : 0.0f; });
  const double kept = select_sum(t, t, [](float x, float) { return std::fabs(x) >= 0.5f ? 1.0f : 0.0f; });
  return kept > 0 ? sum / kept : 0.0;
}

void round_ternary(const Eigen::Ref<const Mat>& t, float scale, Eigen::Ref<Mat> q) {
  check_same_shape(q, t.rows(), t.cols(), "round_ternary");
  map2(t, t, q, [=](float x, float) { return std::fabs(x) >= 0.5f ? std::copysign(scale, x) : 0.0f; });
}

double wdr_sum(const Eigen::Ref<const Mat>& theta, double alpha) {
  double acc[kLanes] = {};
  auto term = [=](float w) {
    const double w2 = static_cast<double>(w) * w;
    return (alpha - w2) * w2;
  };
  for_each_tanh_chunk(theta, [&](Eigen::Index, Eigen::Index, Eigen::Index n, const float* t) {
    Eigen::Index i = 0;
    for (; i + kLanes <= n; i += kLanes) {
      for (int k = 0; k < kLanes; ++k) acc[k] += term(t[i + k]);
    }
    for (; i < n; ++i) acc[0] += term(t[i]);
  });
  return lane_total(acc);
}

namespace {

// The WDR gradient term of w = tanh(theta), in float: c2 w (1 - w^2)(a - 2 w^2) with
// c2 = 2 coeff. wdr_add_gradient and the fused tanh_backward_add_wdr both add it as
// `g + term(w)`, so a compiler that contracts only within one expression (clang) rounds
// the two alike, as GCC, which contracts across them, does.
struct WdrTerm {
  float a, c2;
  WdrTerm(double alpha, double coeff) : a(static_cast<float>(alpha)), c2(static_cast<float>(2.0 * coeff)) {}
  float operator()(float w) const {
    const float w2 = w * w;
    return c2 * w * (1.0f - w2) * (a - 2.0f * w2);
  }
};

}  // namespace

void wdr_add_gradient(const Eigen::Ref<const Mat>& theta, double alpha, double coeff, Eigen::Ref<Mat> grad) {
  check_same_shape(grad, theta.rows(), theta.cols(), "wdr_add_gradient");
  const WdrTerm term(alpha, coeff);
  for_each_tanh_chunk(theta, [&](Eigen::Index j, Eigen::Index i0, Eigen::Index n, const float* t) {
    float* g = grad.col(j).data() + i0;
    for (Eigen::Index i = 0; i < n; ++i) g[i] = g[i] + term(t[i]);
  });
}


void tanh_backward_add_wdr(const Eigen::Ref<const Mat>& t, const Eigen::Ref<const Mat>& dq, double alpha,
                           double coeff, Eigen::Ref<Mat> dtheta) {
  check_same_shape(dq, t.rows(), t.cols(), "tanh_backward_add_wdr");
  check_same_shape(dtheta, t.rows(), t.cols(), "tanh_backward_add_wdr");
  const WdrTerm term(alpha, coeff);
  // Two loops per L1-sized chunk rather than one expression: the backward's product is
  // rounded to float before the WDR term is added, exactly as in the two separate passes
  // (one expression would let the compiler contract the product and the sum into an FMA).
  for_each_column(t.rows(), t.cols(), [&t, &dq, &dtheta, term_ = term](Eigen::Index j) {
    const WdrTerm wdr = term_;
    const Eigen::Index n = t.rows();
    const float* pt = t.col(j).data();
    const float* pd = dq.col(j).data();
    float* o = dtheta.col(j).data();
    for (Eigen::Index i0 = 0; i0 < n; i0 += kChunk) {
      const Eigen::Index m = std::min(kChunk, n - i0);
      for (Eigen::Index i = i0; i < i0 + m; ++i) o[i] = pd[i] * (1.0f - pt[i] * pt[i]);
      for (Eigen::Index i = i0; i < i0 + m; ++i) o[i] = o[i] + wdr(pt[i]);
    }
  });
}

// ---- Faraone stage 1 ---------------------------------------------------------------------

double squared_sum(const Eigen::Ref<const Mat>& w) {
  return lane_sum(w, w, [](float x, float) { return static_cast<double>(x) * x; });
}

double below_threshold_abs_sum(const Eigen::Ref<const Mat>& w, float delta) {
  return select_sum(w, w, [=](float x, float) { return std::fabs(x) < delta ? std::fabs(x) : 0.0f; });
}

void l2_threshold_add_gradient(const Eigen::Ref<const Mat>& w, float delta, float c2, float cq, Eigen::Ref<Mat> grad) {
  check_same_shape(grad, w.rows(), w.cols(), "l2_threshold_add_gradient");
  const float two_c2 = 2.0f * c2;
  map2(w, grad, grad, [=](float x, float g) {
    const float l1 = std::fabs(x) < delta ? (x > 0.0f ? cq : (x < 0.0f ? -cq : 0.0f)) : 0.0f;
    return g + two_c2 * x + l1;
  });
}

}  // namespace ternbench::kernels
