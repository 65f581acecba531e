// The AVX-512 micro-kernels of conv.cpp (included by it alone, inside its anonymous
// namespace, so they inline as before): kMr x kNr tiles of FMAs on zmm registers, and
// the span and transpose helpers of im2col, col2im and the dW panels.
#pragma once

inline __mmask16 lane_mask(int n) {
  if (n >= 16) return static_cast<__mmask16>(0xFFFF);
  if (n <= 0) return 0;
  return static_cast<__mmask16>((1u << n) - 1u);
}

// The tile with exactly MR rows and NV vectors of lanes (edge tiles get their own
// instantiation instead of computing rows that are thrown away).
template <int MR, int NV>
void micro_tile(int steps, const float* a, ptrdiff_t a_row, ptrdiff_t a_step, const float* b, ptrdiff_t b_step,
                const Tile& t) {
  const float* ap[MR];
#pragma GCC unroll 12
  for (int i = 0; i < MR; ++i) ap[i] = a + i * a_row;
  __m512 acc[MR][NV];
#pragma GCC unroll 12
  for (int i = 0; i < MR; ++i) {
    const __m512 init = t.bias != nullptr ? _mm512_set1_ps(t.bias[i]) : _mm512_setzero_ps();
#pragma GCC unroll 4
    for (int j = 0; j < NV; ++j) acc[i][j] = init;
  }
  for (int s = 0; s < steps; ++s) {
    __m512 bv[NV];
#pragma GCC unroll 4
    for (int j = 0; j < NV; ++j) bv[j] = _mm512_loadu_ps(b + 16 * j);
#pragma GCC unroll 12
    for (int i = 0; i < MR; ++i) {
      const __m512 av = _mm512_set1_ps(*ap[i]);
#pragma GCC unroll 4
      for (int j = 0; j < NV; ++j) acc[i][j] = _mm512_fmadd_ps(av, bv[j], acc[i][j]);
      ap[i] += a_step;
    }
    b += b_step;
  }
#pragma GCC unroll 12
  for (int i = 0; i < MR; ++i) {
    float* c = t.c + i * t.c_row;
    if (t.n == 16 * NV) {  // masked loads and stores cost about twice as much: only for edges
#pragma GCC unroll 4
      for (int j = 0; j < NV; ++j) {
        __m512 v = acc[i][j];
        if (t.accumulate) v = _mm512_add_ps(v, _mm512_loadu_ps(c + 16 * j));
        _mm512_storeu_ps(c + 16 * j, v);
      }
      continue;
    }
#pragma GCC unroll 4
    for (int j = 0; j < NV; ++j) {
      const __mmask16 m = lane_mask(t.n - 16 * j);
      __m512 v = acc[i][j];
      if (t.accumulate) v = _mm512_add_ps(v, _mm512_maskz_loadu_ps(m, c + 16 * j));
      _mm512_mask_storeu_ps(c + 16 * j, m, v);
    }
  }
}

template <int NV, int... R>
void dispatch_rows(int steps, const float* a, ptrdiff_t a_row, ptrdiff_t a_step, const float* b, ptrdiff_t b_step,
                   const Tile& t, std::integer_sequence<int, R...>) {
  // Tile::m selects micro_tile<m, NV>; m is in 1..sizeof...(R).
  ((t.m == R + 1 ? (micro_tile<R + 1, NV>(steps, a, a_row, a_step, b, b_step, t), true) : false) || ...);
}

// 6 rows x 64 lanes.
void micro_kernel(int steps, const float* a, ptrdiff_t a_row, ptrdiff_t a_step, const float* b, ptrdiff_t b_step,
                  const Tile& t) {
  dispatch_rows<4>(steps, a, a_row, a_step, b, b_step, t, std::make_integer_sequence<int, kMr>{});
}

// Up to 13 rows x 32 lanes: 24 or 26 accumulators for products with at most 32 lanes (the
// weight gradient of layers with <= 64 output channels, 32 at a time).
void micro_kernel_narrow(int steps, const float* a, ptrdiff_t a_row, ptrdiff_t a_step, const float* b,
                         ptrdiff_t b_step, const Tile& t) {
  dispatch_rows<2>(steps, a, a_row, a_step, b, b_step, t, std::make_integer_sequence<int, kNarrowRows>{});
}

inline void zero_span(float* dst, int n) {
  int t = 0;
  for (; t + 16 <= n; t += 16) _mm512_storeu_ps(dst + t, _mm512_setzero_ps());
  if (t < n) _mm512_mask_storeu_ps(dst + t, lane_mask(n - t), _mm512_setzero_ps());
}
inline void copy_span(float* dst, const float* src, int n) {
  int t = 0;
  for (; t + 16 <= n; t += 16) _mm512_storeu_ps(dst + t, _mm512_loadu_ps(src + t));
  if (t < n) {
    const __mmask16 m = lane_mask(n - t);
    _mm512_mask_storeu_ps(dst + t, m, _mm512_maskz_loadu_ps(m, src + t));
  }
}
inline void add_span(float* dst, const float* src, int n) {
  int t = 0;
  for (; t + 16 <= n; t += 16) _mm512_storeu_ps(dst + t, _mm512_add_ps(_mm512_loadu_ps(dst + t), _mm512_loadu_ps(src + t)));
  if (t < n) {
    const __mmask16 m = lane_mask(n - t);
    _mm512_mask_storeu_ps(dst + t, m, _mm512_add_ps(_mm512_maskz_loadu_ps(m, dst + t), _mm512_maskz_loadu_ps(m, src + t)));
  }
}

// dst(j, i) = src(i, j) for i < rows, j < cols (both <= 16)   rows of src_ld / dst_ld floats
void transpose16(const float* src, ptrdiff_t src_ld, int rows, int cols, float* dst, ptrdiff_t dst_ld) {
  __m512 r[16], t[16];
  const __mmask16 cm = lane_mask(cols);
#pragma GCC unroll 16
  for (int i = 0; i < 16; ++i) {
    if (i >= rows) {
      r[i] = _mm512_setzero_ps();
    } else {
      r[i] = cols == 16 ? _mm512_loadu_ps(src + i * src_ld) : _mm512_maskz_loadu_ps(cm, src + i * src_ld);
    }
  }
#pragma GCC unroll 8
  for (int i = 0; i < 16; i += 2) {
    t[i] = _mm512_unpacklo_ps(r[i], r[i + 1]);
    t[i + 1] = _mm512_unpackhi_ps(r[i], r[i + 1]);
  }
#pragma GCC unroll 4
  for (int i = 0; i < 16; i += 4) {
    r[i] = _mm512_shuffle_ps(t[i], t[i + 2], 0x44);
    r[i + 1] = _mm512_shuffle_ps(t[i], t[i + 2], 0xEE);
    r[i + 2] = _mm512_shuffle_ps(t[i + 1], t[i + 3], 0x44);
    r[i + 3] = _mm512_shuffle_ps(t[i + 1], t[i + 3], 0xEE);
  }
#pragma GCC unroll 2
  for (int i = 0; i < 16; i += 8) {
#pragma GCC unroll 4
    for (int q = 0; q < 4; ++q) {
      t[i + q] = _mm512_shuffle_f32x4(r[i + q], r[i + 4 + q], 0x88);
      t[i + 4 + q] = _mm512_shuffle_f32x4(r[i + q], r[i + 4 + q], 0xDD);
    }
  }
#pragma GCC unroll 8
  for (int q = 0; q < 8; ++q) {
    r[q] = _mm512_shuffle_f32x4(t[q], t[8 + q], 0x88);
    r[8 + q] = _mm512_shuffle_f32x4(t[q], t[8 + q], 0xDD);
  }
  if (rows == 16) {
    for (int j = 0; j < cols; ++j) _mm512_storeu_ps(dst + j * dst_ld, r[j]);
    return;
  }
  const __mmask16 rm = lane_mask(rows);
  for (int j = 0; j < cols; ++j) _mm512_mask_storeu_ps(dst + j * dst_ld, rm, r[j]);
}
