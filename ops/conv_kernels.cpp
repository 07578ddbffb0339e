// im2col / col2im and the per-sample GEMM loops of the convolutions (see ops/conv_kernels.h).
#include "ops/conv_kernels.h"

#include <algorithm>
#include <memory>
#include <vector>

#include "core/parallel.h"
#include "ops/linalg.h"

namespace minidl::detail {

namespace {

// ---------------------------------------------------------------- im2col / col2im

// The output columns [lo, hi) whose input column ow * S + offset lies inside [0, W).
inline void valid_range(int64_t offset, int64_t S, int64_t W, int64_t OW, int64_t& lo,
                        int64_t& hi) {
  lo = offset >= 0 ? 0 : std::min(OW, (-offset + S - 1) / S);
  hi = W - 1 - offset < 0 ? 0 : std::min(OW, (W - 1 - offset) / S + 1);
  hi = std::max(hi, lo);
}

// Kernel tap (i, j) in the stride-1, OW == W paths below: its column row is the input plane
// shifted by (i DH - PT) rows and (j DW - PL) columns. Output rows [oh_lo, oh_hi) and columns
// [lo, hi) read inputs inside [0, H) x [0, W); when the tap is not empty, row entries
// [begin, end) map to input entries q + shift, those at columns >= hi or < lo wrapping across a
// row end (they lie outside the input).
struct ShiftedTap {
  int64_t oh_lo, oh_hi, lo, hi;
  int64_t begin, end, shift;
  bool empty() const { return oh_lo >= oh_hi || lo >= hi; }
};

inline ShiftedTap shifted_tap(const ConvGeometry& g, int64_t i, int64_t j) {
  ShiftedTap t{};
  const int64_t shift_h = i * g.DH - g.PT, offset = j * g.DW - g.PL;
  // Output rows [oh_lo, oh_hi) read input rows oh + shift_h inside [0, H).
  t.oh_lo = std::min(g.OH, std::max<int64_t>(0, -shift_h));
  t.oh_hi = std::max(t.oh_lo, std::min(g.OH, g.H - shift_h));
  valid_range(offset, 1, g.W, g.OW, t.lo, t.hi);
  if (t.empty()) return t;
  t.begin = t.oh_lo * g.W + t.lo;
  t.end = (t.oh_hi - 1) * g.W + t.hi;
  t.shift = shift_h * g.W + offset;
  return t;
}

// Zeroes the entries of a non-empty tap's row inside [begin, end) that wrap outside the input.
template <typename T>
void zero_wrapped(T* row, int64_t W, const ShiftedTap& t) {
  if (t.lo > 0 || t.hi < W) {
    for (int64_t oh = t.oh_lo; oh < t.oh_hi - 1; ++oh) {
      T* r = row + oh * W;
      for (int64_t ow = t.hi; ow < W; ++ow) r[ow] = T(0);
      for (int64_t ow = 0; ow < t.lo; ++ow) r[W + ow] = T(0);
    }
  }
}

// im2col for stride 1 and OW == W ("same"-style padding): each column row is the input plane
// shifted (a ShiftedTap), so the valid rows are one long contiguous copy; only the ow < lo and
// ow >= hi entries of each row (outside the input) are then zeroed.
template <typename T>
void im2col_shift(const T* x, const ConvGeometry& g, T* col) {
  const int64_t Cg = g.in_group(), plane = g.out_plane(), W = g.W;
  for (int64_t c = 0; c < Cg; ++c) {
    const T* xc = x + c * g.H * W;
    for (int64_t i = 0; i < g.KH; ++i) {
      for (int64_t j = 0; j < g.KW; ++j) {
        T* row = col + ((c * g.KH + i) * g.KW + j) * plane;
        const ShiftedTap t = shifted_tap(g, i, j);
        if (t.empty()) {
          std::fill(row, row + plane, T(0));
          continue;
        }
        std::fill(row, row + t.begin, T(0));
        // dst [begin, end) <- src at the same index + shift
#pragma omp simd
        for (int64_t q = t.begin; q < t.end; ++q) row[q] = xc[q + t.shift];
        std::fill(row + t.end, row + plane, T(0));
        zero_wrapped(row, W, t);
      }
    }
  }
}

// x [Cg, H, W] (one sample's channels of one group) -> col [Cg * KH * KW, OH * OW]:
//   col[(c KH + i) KW + j][oh OW + ow] = x[c][oh SH - PT + i DH][ow SW - PL + j DW]  (0 outside)
template <typename T>
void im2col(const T* x, const ConvGeometry& g, T* col) {
  const int64_t Cg = g.in_group(), plane = g.out_plane();
  if (g.SH == 1 && g.SW == 1 && g.OW == g.W) {
    im2col_shift(x, g, col);
    return;
  }
  for (int64_t c = 0; c < Cg; ++c) {
    const T* xc = x + c * g.H * g.W;
    for (int64_t i = 0; i < g.KH; ++i) {
      for (int64_t j = 0; j < g.KW; ++j) {
        T* row = col + ((c * g.KH + i) * g.KW + j) * plane;
        const int64_t offset = j * g.DW - g.PL;
        int64_t lo, hi;
        valid_range(offset, g.SW, g.W, g.OW, lo, hi);
        for (int64_t oh = 0; oh < g.OH; ++oh) {
          T* dst = row + oh * g.OW;
          const int64_t ih = oh * g.SH - g.PT + i * g.DH;
          if (ih < 0 || ih >= g.H) {
            std::fill(dst, dst + g.OW, T(0));
            continue;
          }
          const T* src = xc + ih * g.W + offset;
          std::fill(dst, dst + lo, T(0));
          if (g.SW == 1) {
#pragma omp simd
            for (int64_t ow = lo; ow < hi; ++ow) dst[ow] = src[ow];
          } else {
            for (int64_t ow = lo; ow < hi; ++ow) dst[ow] = src[ow * g.SW];
          }
          std::fill(dst + hi, dst + g.OW, T(0));
        }
      }
    }
  }
}

// col2im for stride 1 and OW == W, the adjoint of im2col_shift: the entries of col that lie
// outside the input are zeroed (col is scratch), then each column row is added to the shifted
// input plane in one long contiguous loop.
template <typename T>
void col2im_shift(T* col, const ConvGeometry& g, T* dx) {
  const int64_t Cg = g.in_group(), plane = g.out_plane(), W = g.W;
  for (int64_t c = 0; c < Cg; ++c) {
    T* dxc = dx + c * g.H * W;
    for (int64_t i = 0; i < g.KH; ++i) {
      for (int64_t j = 0; j < g.KW; ++j) {
        T* row = col + ((c * g.KH + i) * g.KW + j) * plane;
        const ShiftedTap t = shifted_tap(g, i, j);
        if (t.empty()) continue;
        zero_wrapped(row, W, t);
#pragma omp simd
        for (int64_t q = t.begin; q < t.end; ++q) dxc[q + t.shift] += row[q];
      }
    }
  }
}

// The adjoint of im2col: dx [Cg, H, W] += the column gradients scattered back to their inputs
// (col is scratch: the shifted path zeroes its entries outside the input).
template <typename T>
void col2im(T* col, const ConvGeometry& g, T* dx) {
  const int64_t Cg = g.in_group(), plane = g.out_plane();
  if (g.SH == 1 && g.SW == 1 && g.OW == g.W) {
    col2im_shift(col, g, dx);
    return;
  }
  for (int64_t c = 0; c < Cg; ++c) {
    T* dxc = dx + c * g.H * g.W;
    for (int64_t i = 0; i < g.KH; ++i) {
      for (int64_t j = 0; j < g.KW; ++j) {
        const T* row = col + ((c * g.KH + i) * g.KW + j) * plane;
        const int64_t offset = j * g.DW - g.PL;
        int64_t lo, hi;
        valid_range(offset, g.SW, g.W, g.OW, lo, hi);
        for (int64_t oh = 0; oh < g.OH; ++oh) {
          const int64_t ih = oh * g.SH - g.PT + i * g.DH;
          if (ih < 0 || ih >= g.H) continue;
          const T* src = row + oh * g.OW;
          T* dst = dxc + ih * g.W + offset;
          if (g.SW == 1) {
#pragma omp simd
            for (int64_t ow = lo; ow < hi; ++ow) dst[ow] += src[ow];
          } else {
            for (int64_t ow = lo; ow < hi; ++ow) dst[ow * g.SW] += src[ow];
          }
        }
      }
    }
  }
}

// ---------------------------------------------------------------- batch scheduling

// Samples are cut into chunks of consecutive samples on the thread pool when there are at
// least as many samples as threads and enough work (each GEMM then runs single-threaded inside
// its chunk); otherwise the samples run one after another and each GEMM is cut into blocks
// itself (ops/linalg.h). Returns the number of chunks (1: serial).
int64_t sample_chunks(int64_t N, int64_t work_per_sample) {
  if (get_num_threads() <= 1 || in_parallel_region() || N < get_num_threads()) return 1;
  if (N * work_per_sample < 4 * kParallelGrain) return 1;
  return detail::chunk_count(N, 1);
}

// body(n, chunk, slot) for every sample n, chunk c holding samples [N c / chunks, N (c+1) /
// chunks).
template <typename Body>
void for_each_sample(int64_t N, int64_t chunks, Body&& body) {
  parallel_chunks(chunks, [&](int64_t chunk, int slot) {
    for (int64_t n = N * chunk / chunks; n < N * (chunk + 1) / chunks; ++n) body(n, chunk, slot);
  });
}

}  // namespace

// ---------------------------------------------------------------- kernels

// out [N, O, OH, OW] = bias + sum over the group's channels of weight * receptive field:
//   per sample and group  out_ng [Og, OH OW] = w_g [Og, Cg KH KW] @ im2col(x_ng)
template <typename T>
void conv_forward(const T* x, const T* w, const T* b, T* out, const ConvGeometry& g) {
  const int64_t Cg = g.in_group(), Og = g.out_group(), K = g.col_rows(), P = g.out_plane();
  const int64_t chunks = sample_chunks(g.N, g.O * K * P);
  const int slots = chunks > 1 ? get_num_threads() : 1;
  const bool direct = g.direct();
  std::unique_ptr<T[]> buffers(direct ? nullptr : new T[slots * K * P]);  // columns per thread
  for_each_sample(g.N, chunks, [&](int64_t n, int64_t, int slot) {
    T* col = direct ? nullptr : buffers.get() + slot * K * P;
    T* out_n = out + n * g.O * P;
    if (b) {
      for (int64_t o = 0; o < g.O; ++o) std::fill(out_n + o * P, out_n + (o + 1) * P, b[o]);
    }
    for (int64_t grp = 0; grp < g.groups; ++grp) {
      const T* x_ng = x + (n * g.C + grp * Cg) * g.H * g.W;
      const T* cols = x_ng;
      if (!direct) {
        im2col(x_ng, g, col);
        cols = col;
      }
      gemm(false, false, Og, P, K, T(1), w + grp * Og * K, K, cols, P, b ? T(1) : T(0),
           out_n + grp * Og * P, P);
    }
  });
}

// From dout [N, O, OH, OW]:
//   dx_ng = col2im(w_g^T @ dout_ng)              (into dx [N, C, H, W], when dx is given)
//   dw_g  = sum_n dout_ng @ im2col(x_ng)^T        (into dw [O, Cg, KH, KW], when dw is given)
//   db    = sum over n and positions of dout_n    (into db [O], when db is given)
// Each chunk of samples sums its dw in its own buffer; the buffers are added in chunk order at
// the end (the same sums however chunks were scheduled). The columns are unrolled again rather
// than kept from the forward: keeping them (9x the input for a 3x3 kernel) measured no faster.
template <typename T>
void conv_backward(const T* x, const T* w, const T* dout, T* dx, T* dw, T* db,
                   const ConvGeometry& g) {
  const int64_t Cg = g.in_group(), Og = g.out_group(), K = g.col_rows(), P = g.out_plane();
  const int64_t chunks = sample_chunks(g.N, g.O * K * P);
  const int slots = chunks > 1 ? get_num_threads() : 1;
  const bool direct = g.direct();
  const int64_t wsize = g.O * K;
  std::unique_ptr<T[]> buffers(direct ? nullptr : new T[slots * K * P]);  // columns per thread
  // Chunk 0 accumulates straight into dw; the others into their own buffers.
  std::unique_ptr<T[]> dw_partial(dw && chunks > 1 ? new T[(chunks - 1) * wsize] : nullptr);
  if (dw) std::fill(dw, dw + wsize, T(0));
  if (dw_partial) std::fill(dw_partial.get(), dw_partial.get() + (chunks - 1) * wsize, T(0));
  if (dx && !direct) std::fill(dx, dx + g.N * g.C * g.H * g.W, T(0));
  // db per chunk, summed in double like bias_backward, while each sample's dout is in cache.
  std::vector<double> db_partial(db ? chunks * g.O : 0, 0.0);
  for_each_sample(g.N, chunks, [&](int64_t n, int64_t chunk, int slot) {
    T* col = direct ? nullptr : buffers.get() + slot * K * P;
    T* dw_t = chunk == 0 || !dw ? dw : dw_partial.get() + (chunk - 1) * wsize;
    if (db) {
      double* db_t = db_partial.data() + chunk * g.O;
      for (int64_t o = 0; o < g.O; ++o) {
        const T* d = dout + (n * g.O + o) * P;
        T acc = 0;
#pragma omp simd reduction(+ : acc)
        for (int64_t p = 0; p < P; ++p) acc += d[p];
        db_t[o] += acc;
      }
    }
    for (int64_t grp = 0; grp < g.groups; ++grp) {
      const int64_t in_offset = (n * g.C + grp * Cg) * g.H * g.W;
      const T* dout_ng = dout + (n * g.O + grp * Og) * P;
      const T* w_g = w + grp * Og * K;
      if (dw) {
        const T* cols = x + in_offset;
        if (!direct) {
          im2col(x + in_offset, g, col);
          cols = col;
        }
        gemm(false, true, Og, K, P, T(1), dout_ng, P, cols, P, T(1), dw_t + grp * Og * K, K);
      }
      if (dx) {
        if (direct) {
          gemm(true, false, K, P, Og, T(1), w_g, K, dout_ng, P, T(0), dx + in_offset, P);
        } else {
          gemm(true, false, K, P, Og, T(1), w_g, K, dout_ng, P, T(0), col, P);
          col2im(col, g, dx + in_offset);
        }
      }
    }
  });
  if (dw_partial) {
    for (int64_t t = 0; t < chunks - 1; ++t) {
      const T* part = dw_partial.get() + t * wsize;
#pragma omp simd
      for (int64_t i = 0; i < wsize; ++i) dw[i] += part[i];
    }
  }
  if (db) {
    for (int64_t o = 0; o < g.O; ++o) {
      double total = 0;
      for (int64_t t = 0; t < chunks; ++t) total += db_partial[t * g.O + o];
      db[o] = static_cast<T>(total);
    }
  }
}

template <typename T>
void channel_sums(const T* t, T* sums, int64_t N, int64_t channels, int64_t plane) {
  // Channels per chunk: about kParallelGrain elements of t each.
  const int64_t grain = std::max<int64_t>(1, kParallelGrain / std::max<int64_t>(1, N * plane));
  parallel_for(0, channels, grain, [&](int64_t c0, int64_t c1) {
    for (int64_t c = c0; c < c1; ++c) {
      double total = 0;
      for (int64_t n = 0; n < N; ++n) {
        const T* d = t + (n * channels + c) * plane;
        T acc = 0;
#pragma omp simd reduction(+ : acc)
        for (int64_t p = 0; p < plane; ++p) acc += d[p];
        total += acc;
      }
      sums[c] = static_cast<T>(total);
    }
  });
}

template void conv_forward<float>(const float*, const float*, const float*, float*,
                                  const ConvGeometry&);
template void conv_forward<double>(const double*, const double*, const double*, double*,
                                   const ConvGeometry&);
template void conv_backward<float>(const float*, const float*, const float*, float*, float*, float*,
                                   const ConvGeometry&);
template void conv_backward<double>(const double*, const double*, const double*, double*, double*,
                                    double*, const ConvGeometry&);
template void channel_sums<float>(const float*, float*, int64_t, int64_t, int64_t);
template void channel_sums<double>(const double*, double*, int64_t, int64_t, int64_t);

}  // namespace minidl::detail
