// The padded image, the row segments of a panel, im2col and col2im, and the blocking and
// thread choices of conv.cpp (included by it alone, inside its anonymous namespace).
#pragma once

// Position (c, kh, kw) of patch entry k, stepped without divisions.
struct PatchPos {
  int c, kh, kw, k;
  PatchPos(Index entry, int kernel) : k(kernel) {
    const int kk = kernel * kernel;
    c = static_cast<int>(entry / kk);
    const int r = static_cast<int>(entry - Index{c} * kk);
    kh = r / kernel;
    kw = r - kh * kernel;
  }
  void next() {
    if (++kw == k) {
      kw = 0;
      if (++kh == k) {
        kh = 0;
        ++c;
      }
    }
  }
};

// Images are first copied into a zero-bordered buffer (when padding > 0), so that im2col and
// col2im become plain copies and adds of output-row segments with no bounds tests: a panel
// of pixels is cut once into segments that lie in one output row, and every patch entry
// reuses that list with its own base offset.
struct Padded {
  int hp, wp;    // padded plane size
  Index plane;   // hp * wp
  explicit Padded(const ConvGeometry& g)
      : hp(g.in_h + 2 * g.padding), wp(g.in_w + 2 * g.padding), plane(Index{hp} * wp) {}
};

struct Segment {
  int dst;  // first lane in the panel
  int src;  // offset of its first patch origin in the padded plane
  int len;
};

// Splits pixels p0..p0+n of the output plane into row segments.   segs: at least n entries
int cut_segments(const ConvGeometry& g, const Padded& pd, int p0, int n, Segment* segs) {
  const int ow_n = g.out_w(), s = g.stride;
  int oh = p0 / ow_n, ow = p0 - oh * ow_n, j = 0, count = 0;
  while (j < n) {
    const int len = std::min(n - j, ow_n - ow);
    segs[count++] = {j, oh * s * pd.wp + ow * s, len};
    j += len;
    ow = 0;
    ++oh;
  }
  return count;
}

// xp = channels [c0, c1) of one image with a zero border of g.padding   xs: (in_c*h*w)
void pad_image(const ConvGeometry& g, const Padded& pd, const float* xs, int c0, int c1, float* xp) {
  const int p = g.padding, H = g.in_h, W = g.in_w;
  for (int c = c0; c < c1; ++c) {
    float* dst = xp + (c - c0) * pd.plane;
    const float* src = xs + ptrdiff_t{c} * H * W;
    zero_span(dst, p * pd.wp + p);
    for (int y = 0; y < H; ++y) {
      float* row = dst + ptrdiff_t{y + p} * pd.wp + p;
      copy_span(row, src + ptrdiff_t{y} * W, W);
      zero_span(row + W, y + 1 < H ? 2 * p : p + p * pd.wp);
    }
  }
}

// out(r, seg lanes) = cols(k0 + r, segment pixels)   xp: padded image from channel c_base
// (r < kn); lanes outside the segments are left as they are.
void pack_cols(const ConvGeometry& g, const Padded& pd, const float* xp, int c_base, const Segment* segs, int nseg,
               Index k0, Index kn, float* out, ptrdiff_t ld) {
  const int s = g.stride;
  PatchPos pos(k0, g.kernel);
#if defined(__AVX512DQ__)
  // Output rows of 8 pixels (8x8 maps: LeNet's second conv, VGG's last stage): two rows make
  // one vector, built from two unmasked 8-float loads.
  bool eights = s == 1 && nseg % 2 == 0;
  for (int i = 0; i < nseg && eights; ++i) eights = segs[i].len == 8 && segs[i].dst == 8 * i;
  if (eights) {
    for (Index r = 0; r < kn; ++r, pos.next()) {
      const float* base = xp + (pos.c - c_base) * pd.plane + ptrdiff_t{pos.kh} * pd.wp + pos.kw;
      float* o = out + r * ld;
      for (int i = 0; i < nseg; i += 2) {
        const __m512 lo = _mm512_castps256_ps512(_mm256_loadu_ps(base + segs[i].src));
        _mm512_storeu_ps(o + 8 * i, _mm512_insertf32x8(lo, _mm256_loadu_ps(base + segs[i + 1].src), 1));
      }
    }
    return;
  }
#endif
  for (Index r = 0; r < kn; ++r, pos.next()) {
    const float* base = xp + (pos.c - c_base) * pd.plane + ptrdiff_t{pos.kh} * pd.wp + pos.kw;
    float* o = out + r * ld;
    if (s == 1) {
      for (int i = 0; i < nseg; ++i) copy_span(o + segs[i].dst, base + segs[i].src, segs[i].len);
    } else {
      for (int i = 0; i < nseg; ++i) {
        const float* src = base + segs[i].src;
        for (int t = 0; t < segs[i].len; ++t) o[segs[i].dst + t] = src[t * s];
      }
    }
  }
}

// dxp(image) += col2im(rows k0..k0+kn of a column panel) over the segments   cols: (kn, ld) rows
// With stride 1, k0 and kn multiples of the kernel width, the kw rows of one (c, kh) all land
// in the same input row at shifts 0..k-1, so they are summed in registers and the input row is
// read and written once: read-modify-writes of overlapping, shifted spans would otherwise stall
// on store-to-load forwarding.
void col2im_add(const ConvGeometry& g, const Padded& pd, const float* cols, ptrdiff_t ld, Index k0, Index kn,
                const Segment* segs, int nseg, float* dxp, [[maybe_unused]] const float* dxp_end) {
  const int s = g.stride, k = g.kernel;
  PatchPos pos(k0, k);
#if defined(__AVX512F__)
  if (s == 1 && pos.kw == 0 && kn % k == 0) {
    for (Index r = 0; r < kn; r += k, pos.kh += 1) {
      if (pos.kh == k) {
        pos.kh = 0;
        ++pos.c;
      }
      float* base = dxp + pos.c * pd.plane + ptrdiff_t{pos.kh} * pd.wp;
      const float* src = cols + r * ld;
      // Even segments (output rows) first, then odd ones: the vectors written for one row
      // overlap the start of the next row, and reading that right after the store would
      // stall on store-to-load forwarding.
      for (int e = 0; e < nseg; ++e) {
        const int i = 2 * e < nseg ? 2 * e : 2 * (e - (nseg + 1) / 2) + 1;
        const int len = segs[i].len, span = len + k - 1;
        float* dst = base + segs[i].src;
        for (int q = 0; q < span; q += 16) {
          // A partial chunk still reads and writes back all 16 lanes (unchanged past the span)
          // when they lie inside this image's buffer: masked stores cost twice as much.
          const bool whole = dst + q + 16 <= dxp_end;
          const __mmask16 m = lane_mask(span - q);
          // Lanes j of this chunk with 0 <= q + j - kw < len take row kw's value q + j - kw.
          // Two partial sums in named registers halve the dependent add chain (an indexed
          // array of them would live on the stack).
          const float* row0 = src + segs[i].dst + q;
          auto term = [&](int kw) {
            const int lo = std::max(0, kw - q), hi = std::min(16, len + kw - q);
            const __mmask16 mk = hi > lo ? static_cast<__mmask16>(lane_mask(hi) & ~lane_mask(lo)) : 0;
            return _mm512_maskz_loadu_ps(mk, row0 + kw * ld - kw);
          };
          __m512 sum0 = _mm512_setzero_ps(), sum1 = _mm512_setzero_ps();
          int kw = 0;
          for (; kw + 1 < k; kw += 2) {
            sum0 = _mm512_add_ps(sum0, term(kw));
            sum1 = _mm512_add_ps(sum1, term(kw + 1));
          }
          if (kw < k) sum0 = _mm512_add_ps(sum0, term(kw));
          const __m512 old = whole ? _mm512_loadu_ps(dst + q) : _mm512_maskz_loadu_ps(m, dst + q);
          const __m512 acc = _mm512_add_ps(old, _mm512_add_ps(sum0, sum1));
          if (whole) {
            _mm512_storeu_ps(dst + q, acc);
          } else {
            _mm512_mask_storeu_ps(dst + q, m, acc);
          }
        }
      }
    }
    return;
  }
#endif
  for (Index r = 0; r < kn; ++r, pos.next()) {
    float* base = dxp + pos.c * pd.plane + ptrdiff_t{pos.kh} * pd.wp + pos.kw;
    const float* src = cols + r * ld;
    if (s == 1) {
      for (int i = 0; i < nseg; ++i) add_span(base + segs[i].src, src + segs[i].dst, segs[i].len);
    } else {
      for (int i = 0; i < nseg; ++i) {
        float* dst = base + segs[i].src;
        for (int t = 0; t < segs[i].len; ++t) dst[t * s] += src[segs[i].dst + t];
      }
    }
  }
}

// dxs = the interior of the padded gradient dxp                     dxs: (in_c*h*w)
void unpad_image(const ConvGeometry& g, const Padded& pd, const float* dxp, float* dxs) {
  const int p = g.padding, H = g.in_h, W = g.in_w;
  for (int c = 0; c < g.in_c; ++c) {
    for (int y = 0; y < H; ++y) {
      copy_span(dxs + (ptrdiff_t{c} * H + y) * W, dxp + c * pd.plane + ptrdiff_t{y + p} * pd.wp + p, W);
    }
  }
}

// Forward panels are processed kGroup at a time, so each block of packed W (all output
// channels x kKc steps) is brought into L2 once per group rather than once per panel.
constexpr int kGroup = 4;

// Images per weight-gradient block: several small images fill one block; larger images are
// cut into blocks of kDwChunk pixels.
int images_per_dw_block(const ConvGeometry& g) {
  const int P = g.out_h() * g.out_w();
  return P * 2 > kDwChunk ? 1 : kDwChunk / P;
}

// Rows of W^T dy computed before col2im adds them: whole micro-tiles and whole (c, kh) runs of
// kernel-width rows, about kDxRows in all.
Index dx_row_group(const ConvGeometry& g) {
  const Index unit = std::lcm(Index{kMr}, Index{g.kernel});
  return unit * std::max<Index>(1, kDxRows / unit);
}

// Workspace slices (floats), each a multiple of 16 so every slice starts 64-byte aligned.
struct Layout {
  Index padded;                  // one zero-bordered image (0 without padding)
  Index fwd_shared, fwd_thread;  // packed W; im2col panels and padded images of a group
  Index dx_thread;               // result rows, a packed dy panel, a padded dx image
  Index dw_cols, dw_dyt, dw_thread;  // im2col rows of a tile; dy transposed; padded images
  Index total(int threads) const {
    const Index t = std::max(threads, 1);
    return std::max({fwd_shared + t * fwd_thread, t * dx_thread, t * dw_thread});
  }
};

Layout layout(const ConvGeometry& g) {
  const Index K = g.patch(), M = g.out_c;
  Layout l{};
  l.padded = g.padding > 0 ? round16(Padded(g).plane * g.in_c) : 0;
  l.fwd_shared = round16(ceil_div(M, kMr) * kMr * K);
  l.fwd_thread = kGroup * (round16(Index{kKc} * kNr) + l.padded);
  l.dx_thread = round16(dx_row_group(g) * kNr) + round16(M * kNr) + l.padded;
  l.dw_cols = round16(Index{2 * kMr} * kDwChunk);
  l.dw_dyt = round16(ceil_div(M, kNr) * kNr * kDwChunk);
  l.dw_thread = l.dw_cols + l.dw_dyt + images_per_dw_block(g) * l.padded;
  return l;
}

// Threads worth starting for `flops` of work split into `items` parts: a parallel region
// costs microseconds (milliseconds when the cores are shared), so small calls run serially.
// Results do not depend on the choice.
int useful_threads(int threads, double flops, Index items) {
  constexpr double kMinFlopsPerThread = 4e6;
  const double by_work = std::max(1.0, flops / kMinFlopsPerThread);
  return static_cast<int>(std::max<Index>(1, std::min<Index>({Index{std::max(threads, 1)}, items,
                                                              static_cast<Index>(by_work)})));
}

using detail::share;
