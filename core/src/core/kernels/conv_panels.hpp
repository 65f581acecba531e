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
#if defined(__AVX512F__)
  // Output rows of 16 pixels or more (LeNet's first conv, VGG's first stages): a 16-lane chunk
  // of the panel then spans at most two output rows, so it is one masked load, a second one
  // past the row's border for the lanes of the next row, and one store. The chunks are the
  // same for every patch entry; copying segment by segment costs two copies per segment.
  const int lanes_n = nseg > 0 ? segs[nseg - 1].dst + segs[nseg - 1].len : 0;
  if (s == 1 && g.out_w() >= 16 && lanes_n <= kDwChunk) {
    struct Chunk {
      int a, b;         // lane l reads a + l (mask ma), or b + l (mask mb)
      __mmask16 ma, mb;
    };
    Chunk chunks[(kDwChunk + 15) / 16];
    int nch = 0;
    for (int c0 = 0, i = 0; c0 < lanes_n; c0 += 16, ++nch) {
      while (segs[i].dst + segs[i].len <= c0) ++i;
      const int lanes = std::min(16, lanes_n - c0), brk = std::min(lanes, segs[i].dst + segs[i].len - c0);
      Chunk& ch = chunks[nch];
      ch.a = segs[i].src - segs[i].dst + c0;
      ch.ma = lane_mask(brk);
      ch.b = brk < lanes ? segs[i + 1].src - segs[i + 1].dst + c0 : ch.a;
      ch.mb = static_cast<__mmask16>(lane_mask(lanes) & ~lane_mask(brk));
    }
    for (Index r = 0; r < kn; ++r, pos.next()) {
      const float* base = xp + (pos.c - c_base) * pd.plane + ptrdiff_t{pos.kh} * pd.wp + pos.kw;
      float* o = out + r * ld;
      for (int q = 0; q < nch; ++q) {
        const Chunk& ch = chunks[q];
        __m512 v = _mm512_maskz_loadu_ps(ch.ma, base + ch.a);
        if (ch.mb != 0) v = _mm512_mask_loadu_ps(v, ch.mb, base + ch.b);
        const __mmask16 m = ch.ma | ch.mb;
        if (m == 0xFFFF) {
          _mm512_storeu_ps(o + 16 * q, v);
        } else {
          _mm512_mask_storeu_ps(o + 16 * q, m, v);
        }
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

#if defined(__AVX512F__)
// col2im_add for stride 1 and whole (c, kh) groups of kernel-width rows. The kw rows of one
// (c, kh) all land in the same input row at shifts 0..k-1, so they are summed in registers.
// The input is then walked row by row: each row of a channel is loaded once, takes the sums
// of all its (c, kh) groups in this call in kh order, and is stored once. Adding each group
// into memory instead costs a read-modify-write per group whose load partly overlaps the
// previous group's store (their rows are one input row apart), and those overlaps stall on
// store-to-load forwarding. Every element still receives old + (sum0 + sum1) per kh in
// ascending kh, whichever way the work is walked.   KC: the kernel width, 0 = g.kernel
template <int KC, bool Cached>
void col2im_add_rows(const ConvGeometry& g, const Padded& pd, const float* cols, ptrdiff_t ld, PatchPos pos,
                     int groups, const Segment* segs, int nseg, float* dxp) {
  const int k = KC > 0 ? KC : g.kernel;
  // Segment i covers output row oh0 + i (cut_segments makes one per row, in order).
  const int wp = pd.wp, oh0 = segs[0].src / wp, chunks = (wp + 15) / 16;
  // Lane l of chunk x0 takes row kw's value at position q + l - kw of segment i (q = x0 minus
  // the segment's first column) when that lies in [0, len).
  auto first_col = [&](int i) { return segs[i].src - (oh0 + i) * wp; };
  auto term_mask = [&](int i, int x0, int kw) -> __mmask16 {
    const int q = x0 - first_col(i), len = segs[i].len;
    const int lo = std::max(0, kw - q), hi = std::min(16, len + kw - q);
    return hi > lo ? static_cast<__mmask16>(lane_mask(hi) & ~lane_mask(lo)) : 0;
  };
  // Cached: the masks and row offsets of every (segment, chunk), the same for every (c, kh) of
  // the call; working them out per term costs more instructions than the loads and adds. A
  // chunk outside a segment's span then has all-zero masks and adds +0, which leaves any sum
  // that did not start as -0 unchanged (dx starts as +0 and a sum from +0 is never -0).
  constexpr int kMaxMasks = 1024;
  __mmask16 masks[Cached ? kMaxMasks : 1];
  int offsets[Cached ? kMaxMasks : 1];
  if constexpr (Cached) {
    for (int i = 0; i < nseg; ++i) {
      for (int ch = 0; ch < chunks; ++ch) {
        offsets[i * chunks + ch] = segs[i].dst + 16 * ch - first_col(i);
        for (int kw = 0; kw < k; ++kw) masks[(i * chunks + ch) * k + kw] = term_mask(i, 16 * ch, kw);
      }
    }
  }
  for (int grp = 0; grp < groups;) {
    // The run of this call's (c, kh) groups that belong to channel pos.c.
    const int kh0 = pos.kh, nkh = std::min(groups - grp, k - kh0);
    const float* rows_c = cols + ptrdiff_t{grp} * k * ld;  // row (c, kh0, kw = 0)
    float* plane = dxp + pos.c * pd.plane;
    for (int y = oh0 + kh0; y < oh0 + nseg + kh0 + nkh - 1; ++y) {
      float* row = plane + ptrdiff_t{y} * wp;
      // Groups j whose segment i = y - kh0 - oh0 - j (the one landing in row y) exists.
      const int i0 = y - kh0 - oh0, j_lo = std::max(0, i0 - nseg + 1), j_hi = std::min(nkh, i0 + 1);
      for (int ch = 0; ch < chunks; ++ch) {
        const int x0 = 16 * ch;
        const __mmask16 m = lane_mask(wp - x0);
        __m512 acc = _mm512_maskz_loadu_ps(m, row + x0);
        for (int j = j_lo; j < j_hi; ++j) {
          const int i = i0 - j;
          const float* row0;
          const __mmask16* mi = nullptr;
          if constexpr (Cached) {
            row0 = rows_c + ptrdiff_t{j} * k * ld + offsets[i * chunks + ch];
            mi = masks + (i * chunks + ch) * k;
          } else {
            const int q = x0 - first_col(i);
            if (q >= segs[i].len + k - 1 || q + 16 <= 0) continue;
            row0 = rows_c + ptrdiff_t{j} * k * ld + segs[i].dst + q;
          }
          auto term = [&](int kw) {
            return _mm512_maskz_loadu_ps(Cached ? mi[kw] : term_mask(i, x0, kw), row0 + kw * (ld - 1));
          };
          // Two partial sums in named registers halve the dependent add chain (an indexed
          // array of them would live on the stack).
          __m512 sum0 = _mm512_setzero_ps(), sum1 = _mm512_setzero_ps();
          int kw = 0;
#pragma GCC unroll 8
          for (; kw + 1 < k; kw += 2) {
            sum0 = _mm512_add_ps(sum0, term(kw));
            sum1 = _mm512_add_ps(sum1, term(kw + 1));
          }
          if (kw < k) sum0 = _mm512_add_ps(sum0, term(kw));
          acc = _mm512_add_ps(acc, _mm512_add_ps(sum0, sum1));
        }
        _mm512_mask_storeu_ps(row + x0, m, acc);
      }
    }
    grp += nkh;
    pos.kh = 0;
    ++pos.c;
  }
}
#endif

// dxp(image) += col2im(rows k0..k0+kn of a column panel) over the segments   cols: (kn, ld) rows
void col2im_add(const ConvGeometry& g, const Padded& pd, const float* cols, ptrdiff_t ld, Index k0, Index kn,
                const Segment* segs, int nseg, float* dxp) {
  const int s = g.stride, k = g.kernel;
  PatchPos pos(k0, k);
#if defined(__AVX512F__)
  if (s == 1 && pos.kw == 0 && kn % k == 0) {
    if (nseg == 0) return;
    const int groups = static_cast<int>(kn / k);
    const bool cached = nseg * ((pd.wp + 15) / 16) * k <= 1024;
    if (k == 5 && cached) {
      col2im_add_rows<5, true>(g, pd, cols, ld, pos, groups, segs, nseg, dxp);
    } else if (k == 3 && cached) {
      col2im_add_rows<3, true>(g, pd, cols, ld, pos, groups, segs, nseg, dxp);
    } else if (cached) {
      col2im_add_rows<0, true>(g, pd, cols, ld, pos, groups, segs, nseg, dxp);
    } else {
      col2im_add_rows<0, false>(g, pd, cols, ld, pos, groups, segs, nseg, dxp);
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
  l.dw_cols = round16(Index{kNarrowRows} * kDwChunk);
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
