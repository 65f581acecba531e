// The portable micro-kernels of conv.cpp (included by it alone, inside its anonymous
// namespace): the same blocking with plain loops the compiler vectorises.
#pragma once

// Up to kNarrowRows rows of `lanes` (64 or 32) lanes.
void fallback_tile(int steps, const float* a, ptrdiff_t a_row, ptrdiff_t a_step, const float* b, ptrdiff_t b_step,
                   const Tile& t, int lanes) {
  float acc[kNarrowRows][kNr];
  for (int i = 0; i < t.m; ++i) {
    const float init = t.bias != nullptr ? t.bias[i] : 0.0f;
    for (int j = 0; j < lanes; ++j) acc[i][j] = init;
  }
  for (int s = 0; s < steps; ++s) {
    const float* bs = b + s * b_step;
    for (int i = 0; i < t.m; ++i) {
      const float av = a[i * a_row + s * a_step];
      for (int j = 0; j < lanes; ++j) acc[i][j] += av * bs[j];
    }
  }
  for (int i = 0; i < t.m; ++i) {
    float* c = t.c + i * t.c_row;
    for (int j = 0; j < t.n; ++j) c[j] = t.accumulate ? c[j] + acc[i][j] : acc[i][j];
  }
}

void micro_kernel(int steps, const float* a, ptrdiff_t a_row, ptrdiff_t a_step, const float* b, ptrdiff_t b_step,
                  const Tile& t) {
  fallback_tile(steps, a, a_row, a_step, b, b_step, t, kNr);
}

void micro_kernel_narrow(int steps, const float* a, ptrdiff_t a_row, ptrdiff_t a_step, const float* b,
                         ptrdiff_t b_step, const Tile& t) {
  fallback_tile(steps, a, a_row, a_step, b, b_step, t, kNr / 2);
}

inline void zero_span(float* dst, int n) {
  for (int t = 0; t < n; ++t) dst[t] = 0.0f;
}
inline void copy_span(float* dst, const float* src, int n) {
  for (int t = 0; t < n; ++t) dst[t] = src[t];
}
inline void add_span(float* dst, const float* src, int n) {
  for (int t = 0; t < n; ++t) dst[t] += src[t];
}

void transpose16(const float* src, ptrdiff_t src_ld, int rows, int cols, float* dst, ptrdiff_t dst_ld) {
  for (int i = 0; i < rows; ++i) {
    for (int j = 0; j < cols; ++j) dst[j * dst_ld + i] = src[i * src_ld + j];
  }
}
