// conv1d / conv2d by im2col + GEMM, forward and backward side by side. conv1d is conv2d with
// one input row (H = 1, kH = 1): the memory layouts agree, so both share every kernel.
#include "ops/conv.h"

#include <algorithm>
#include <climits>
#include <memory>
#include <sstream>
#include <vector>

#include "core/autograd.h"
#include "core/strided.h"
#include "ops/linalg.h"

namespace minidl {

std::vector<int64_t> ExpandingArray::expand(size_t dims, const char* op, const char* what) const {
  MINIDL_CHECK(values.size() == 1 || values.size() == dims, op,
               what << " must be an int or " << dims << " ints, got " << tuple_str(values));
  return values.size() == 1 ? std::vector<int64_t>(dims, values[0]) : values;
}

std::string tuple_str(const std::vector<int64_t>& values) {
  std::ostringstream os;
  os << "(";
  for (size_t i = 0; i < values.size(); ++i) os << (i ? ", " : "") << values[i];
  os << (values.size() == 1 ? ",)" : ")");
  return os.str();
}

namespace {

// ---------------------------------------------------------------- geometry

// A 2-d convolution's sizes; conv1d has H = KH = 1. Padding may be asymmetric ("same" with an
// odd total): PT/PL at the top/left, the rest implied by OH/OW.
struct ConvGeometry {
  int64_t N, C, H, W;  // input
  int64_t O, KH, KW;   // weight [O, C / groups, KH, KW]
  int64_t groups;      //
  int64_t SH, SW;      // stride
  int64_t PT, PL;      // padding before
  int64_t DH, DW;      // dilation
  int64_t OH, OW;      // output
  int64_t in_group() const { return C / groups; }
  int64_t out_group() const { return O / groups; }
  int64_t col_rows() const { return in_group() * KH * KW; }
  int64_t out_plane() const { return OH * OW; }
  // A 1x1 kernel with stride 1 and no padding: the input planes already are the columns.
  bool direct() const {
    return KH == 1 && KW == 1 && SH == 1 && SW == 1 && PT == 0 && PL == 0 && OH == H && OW == W;
  }
};

using detail::dense;  // ops/linalg.h

// ---------------------------------------------------------------- BLAS

using detail::gemm;  // ops/linalg.h

// ---------------------------------------------------------------- im2col / col2im

// The output columns [lo, hi) whose input column ow * S + offset lies inside [0, W).
inline void valid_range(int64_t offset, int64_t S, int64_t W, int64_t OW, int64_t& lo,
                        int64_t& hi) {
  lo = offset >= 0 ? 0 : std::min(OW, (-offset + S - 1) / S);
  hi = W - 1 - offset < 0 ? 0 : std::min(OW, (W - 1 - offset) / S + 1);
  hi = std::max(hi, lo);
}

// im2col for stride 1 and OW == W ("same"-style padding): each column row is the input plane
// shifted by (i DH - PT) rows and (j DW - PL) columns, so the valid rows are one long contiguous
// copy; only the ow < lo and ow >= hi entries of each row (outside the input) are then zeroed.
template <typename T>
void im2col_shift(const T* x, const ConvGeometry& g, T* col) {
  const int64_t Cg = g.in_group(), plane = g.out_plane(), W = g.W;
  for (int64_t c = 0; c < Cg; ++c) {
    const T* xc = x + c * g.H * W;
    for (int64_t i = 0; i < g.KH; ++i) {
      const int64_t shift_h = i * g.DH - g.PT;
      // Output rows [oh_lo, oh_hi) read input rows oh + shift_h inside [0, H).
      const int64_t oh_lo = std::min(g.OH, std::max<int64_t>(0, -shift_h));
      const int64_t oh_hi = std::max(oh_lo, std::min(g.OH, g.H - shift_h));
      for (int64_t j = 0; j < g.KW; ++j) {
        T* row = col + ((c * g.KH + i) * g.KW + j) * plane;
        const int64_t offset = j * g.DW - g.PL;
        int64_t lo, hi;
        valid_range(offset, 1, W, g.OW, lo, hi);
        if (oh_lo >= oh_hi || lo >= hi) {
          std::fill(row, row + plane, T(0));
          continue;
        }
        std::fill(row, row + oh_lo * W + lo, T(0));
        // dst [oh_lo W + lo, (oh_hi - 1) W + hi) <- src at the same index + shift_h W + offset
        const int64_t begin = oh_lo * W + lo, end = (oh_hi - 1) * W + hi;
        const int64_t shift = shift_h * W + offset;
#pragma omp simd
        for (int64_t q = begin; q < end; ++q) row[q] = xc[q + shift];
        std::fill(row + end, row + plane, T(0));
        if (lo > 0 || hi < W) {
          for (int64_t oh = oh_lo; oh < oh_hi - 1; ++oh) {
            T* dst = row + oh * W;
            for (int64_t ow = hi; ow < W; ++ow) dst[ow] = T(0);
            for (int64_t ow = 0; ow < lo; ++ow) dst[W + ow] = T(0);
          }
        }
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
      const int64_t shift_h = i * g.DH - g.PT;
      const int64_t oh_lo = std::min(g.OH, std::max<int64_t>(0, -shift_h));
      const int64_t oh_hi = std::max(oh_lo, std::min(g.OH, g.H - shift_h));
      for (int64_t j = 0; j < g.KW; ++j) {
        T* row = col + ((c * g.KH + i) * g.KW + j) * plane;
        const int64_t offset = j * g.DW - g.PL;
        int64_t lo, hi;
        valid_range(offset, 1, W, g.OW, lo, hi);
        if (oh_lo >= oh_hi || lo >= hi) continue;
        if (lo > 0 || hi < W) {
          for (int64_t oh = oh_lo; oh < oh_hi - 1; ++oh) {
            T* r = row + oh * W;
            for (int64_t ow = hi; ow < W; ++ow) r[ow] = T(0);
            for (int64_t ow = 0; ow < lo; ++ow) r[W + ow] = T(0);
          }
        }
        const int64_t begin = oh_lo * W + lo, end = (oh_hi - 1) * W + hi;
        const int64_t shift = shift_h * W + offset;
#pragma omp simd
        for (int64_t q = begin; q < end; ++q) dxc[q + shift] += row[q];
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

// db[o] = sum over samples and positions of dout[n, o, :]
template <typename T>
void bias_backward(const T* dout, T* db, const ConvGeometry& g) {
  const int64_t P = g.out_plane();
  // Channels per chunk: about kParallelGrain elements of dout each.
  const int64_t grain = std::max<int64_t>(1, kParallelGrain / std::max<int64_t>(1, g.N * P));
  parallel_for(0, g.O, grain, [&](int64_t o0, int64_t o1) {
    for (int64_t o = o0; o < o1; ++o) {
      double total = 0;
      for (int64_t n = 0; n < g.N; ++n) {
        const T* d = dout + (n * g.O + o) * P;
        T acc = 0;
#pragma omp simd reduction(+ : acc)
        for (int64_t p = 0; p < P; ++p) acc += d[p];
        total += acc;
      }
      db[o] = static_cast<T>(total);
    }
  });
}

// ---------------------------------------------------------------- the op

// Checks the arguments of conv1d (spatial = 1) / conv2d (spatial = 2) and works out the sizes.
ConvGeometry conv_geometry(const char* op, size_t spatial, const Tensor& input,
                           const Tensor& weight, const Tensor& bias,
                           const ExpandingArray& stride_arg, const ConvPadding& padding_arg,
                           const ExpandingArray& dilation_arg, int64_t groups) {
  const int64_t sp = static_cast<int64_t>(spatial);
  MINIDL_CHECK(input.defined() && weight.defined(), op, "input and weight must be defined");
  MINIDL_CHECK(input.dim() == sp + 1 || input.dim() == sp + 2, op,
               "expected a " << sp + 1 << "-D (unbatched) or " << sp + 2
                             << "-D (batched) input, got shape " << shape_str(input.shape()));
  MINIDL_CHECK(weight.dim() == sp + 2, op,
               "expected a " << sp + 2
                             << "-D weight [out_channels, in_channels / groups, kernel...], got "
                                "shape "
                             << shape_str(weight.shape()));
  MINIDL_CHECK(input.is_floating_point() && input.dtype() == weight.dtype(), op,
               "input and weight must have the same floating dtype, got "
                   << input.dtype() << " input " << shape_str(input.shape()) << " and "
                   << weight.dtype() << " weight " << shape_str(weight.shape()));
  MINIDL_CHECK(groups > 0, op, "groups must be positive, got " << groups);
  const bool batched = input.dim() == sp + 2;
  ConvGeometry g{};
  g.N = batched ? input.size(0) : 1;
  g.C = input.size(batched ? 1 : 0);
  g.H = spatial == 2 ? input.size(-2) : 1;
  g.W = input.size(-1);
  g.O = weight.size(0);
  g.KH = spatial == 2 ? weight.size(2) : 1;
  g.KW = weight.size(-1);
  g.groups = groups;
  MINIDL_CHECK(weight.numel() > 0, op,
               "weight must not be empty, got shape " << shape_str(weight.shape()));
  MINIDL_CHECK(
      g.O % groups == 0, op,
      "out_channels (weight.size(0) = " << g.O << ") must be divisible by groups = " << groups
                                        << " (weight shape " << shape_str(weight.shape()) << ")");
  MINIDL_CHECK(g.C % groups == 0, op,
               "in_channels = " << g.C << " of input " << shape_str(input.shape())
                                << " must be divisible by groups = " << groups);
  MINIDL_CHECK(weight.size(1) * groups == g.C, op,
               "given groups=" << groups << ", weight of size " << shape_str(weight.shape())
                               << ", expected input " << shape_str(input.shape()) << " to have "
                               << weight.size(1) * groups << " channels, but got " << g.C
                               << " channels instead");
  if (bias.defined()) {
    MINIDL_CHECK(bias.dim() == 1 && bias.size(0) == g.O, op,
                 "expected bias of shape [" << g.O << "], got " << shape_str(bias.shape()));
    MINIDL_CHECK(bias.dtype() == weight.dtype(), op,
                 "bias dtype " << bias.dtype() << " differs from weight dtype " << weight.dtype());
  }
  const std::vector<int64_t> stride = stride_arg.expand(spatial, op, "stride");
  const std::vector<int64_t> dilation = dilation_arg.expand(spatial, op, "dilation");
  for (size_t d = 0; d < spatial; ++d) {
    MINIDL_CHECK(stride[d] > 0, op, "stride must be positive, got " << tuple_str(stride));
    MINIDL_CHECK(dilation[d] > 0, op, "dilation must be positive, got " << tuple_str(dilation));
  }
  const std::vector<int64_t> kernel = {g.KH, g.KW},
                             dil = {spatial == 2 ? dilation[0] : 1, dilation.back()};
  // Padding before and after each of the two dims.
  int64_t before[2] = {0, 0}, after[2] = {0, 0};
  if (padding_arg.mode.empty()) {
    const std::vector<int64_t> pad =
        ExpandingArray(padding_arg.values).expand(spatial, op, "padding");
    for (size_t d = 0; d < spatial; ++d) {
      MINIDL_CHECK(pad[d] >= 0, op, "padding must be non-negative, got " << tuple_str(pad));
      before[2 - spatial + d] = after[2 - spatial + d] = pad[d];
    }
  } else if (padding_arg.mode == "same") {
    for (size_t d = 0; d < spatial; ++d)
      MINIDL_CHECK(stride[d] == 1, op,
                   "padding='same' is not supported for strided convolutions (stride "
                       << tuple_str(stride) << ")");
    for (int d = 0; d < 2; ++d) {
      const int64_t total = dil[d] * (kernel[d] - 1);
      before[d] = total / 2;
      after[d] = total - before[d];
    }
  } else {
    MINIDL_CHECK(padding_arg.mode == "valid", op,
                 "padding must be an int, a tuple of ints, 'same' or 'valid', got '"
                     << padding_arg.mode << "'");
  }
  g.SH = spatial == 2 ? stride[0] : 1;
  g.SW = stride.back();
  g.DH = dil[0];
  g.DW = dil[1];
  g.PT = before[0];
  g.PL = before[1];
  const int64_t padded_h = g.H + before[0] + after[0], padded_w = g.W + before[1] + after[1];
  const int64_t extent_h = g.DH * (g.KH - 1) + 1, extent_w = g.DW * (g.KW - 1) + 1;
  MINIDL_CHECK(padded_h >= extent_h && padded_w >= extent_w, op,
               "calculated padded input size per channel: ("
                   << (spatial == 2 ? std::to_string(padded_h) + " x " : "") << padded_w
                   << "). Kernel size: (" << (spatial == 2 ? std::to_string(extent_h) + " x " : "")
                   << extent_w << "). Kernel size can't be greater than actual input size (input "
                   << shape_str(input.shape()) << ", weight " << shape_str(weight.shape()) << ")");
  g.OH = (padded_h - extent_h) / g.SH + 1;
  g.OW = (padded_w - extent_w) / g.SW + 1;
  for (int64_t v : {g.O * g.col_rows(), g.col_rows() * g.out_plane(), g.O * g.out_plane()})
    MINIDL_CHECK(v <= INT_MAX, op, "matrix size " << v << " exceeds the BLAS int limit");
  return g;
}

Tensor convolution(const char* op, const char* backward_name, size_t spatial, const Tensor& input,
                   const Tensor& weight, const Tensor& bias, const ExpandingArray& stride,
                   const ConvPadding& padding, const ExpandingArray& dilation, int64_t groups) {
  const ConvGeometry g =
      conv_geometry(op, spatial, input, weight, bias, stride, padding, dilation, groups);
  Shape out_shape;
  if (input.dim() == static_cast<int64_t>(spatial) + 2) out_shape.push_back(g.N);
  out_shape.push_back(g.O);
  if (spatial == 2) out_shape.push_back(g.OH);
  out_shape.push_back(g.OW);
  Tensor out = empty(out_shape, input.dtype());
  const Tensor x = dense(input), w = dense(weight), b = bias.defined() ? dense(bias) : Tensor();
  const bool grad = needs_grad({input, weight, bias});
  const bool need_dw = grad && weight.requires_grad();
  MINIDL_DISPATCH_FLOATING(input.dtype(), op,
                           conv_forward<scalar_t>(x.data_ptr<scalar_t>(), w.data_ptr<scalar_t>(),
                                                  b.defined() ? b.data_ptr<scalar_t>() : nullptr,
                                                  out.data_ptr<scalar_t>(), g));
  // out = b + w (*) x ;  dx = col2im(w^T @ dout) ,  dw = sum_n dout_n @ im2col(x_n)^T ,
  //                      db = sum_{n, positions} dout
  if (grad) {
    const bool need_dx = input.requires_grad();
    const bool need_db = bias.defined() && bias.requires_grad();
    const Shape input_shape = input.shape(), weight_shape = weight.shape();
    record(backward_name, out, {input, weight, bias},
           [g, need_dx, need_dw, need_db, input_shape, weight_shape,
            saved_x = need_dw ? SavedTensor(x) : SavedTensor(),
            saved_w = need_dx ? SavedTensor(w) : SavedTensor()](const Tensor& grad_out) {
             const Tensor dout = dense(grad_out);
             Tensor dx = need_dx ? empty(input_shape, dout.dtype()) : Tensor();
             Tensor dw = need_dw ? empty(weight_shape, dout.dtype()) : Tensor();
             Tensor db = need_db ? empty({g.O}, dout.dtype()) : Tensor();
             MINIDL_DISPATCH_FLOATING(dout.dtype(), "convolution backward", {
               if (need_dx || need_dw) {
                 conv_backward<scalar_t>(need_dw ? saved_x.get().data_ptr<scalar_t>() : nullptr,
                                         need_dx ? saved_w.get().data_ptr<scalar_t>() : nullptr,
                                         dout.data_ptr<scalar_t>(),
                                         need_dx ? dx.data_ptr<scalar_t>() : nullptr,
                                         need_dw ? dw.data_ptr<scalar_t>() : nullptr,
                                         need_db ? db.data_ptr<scalar_t>() : nullptr, g);
               } else if (need_db) {
                 bias_backward<scalar_t>(dout.data_ptr<scalar_t>(), db.data_ptr<scalar_t>(), g);
               }
             });
             return GradList{dx, dw, db};
           });
  }
  return out;
}

}  // namespace

Tensor conv1d(const Tensor& input, const Tensor& weight, const Tensor& bias, ExpandingArray stride,
              ConvPadding padding, ExpandingArray dilation, int64_t groups) {
  return convolution("conv1d", "Conv1dBackward", 1, input, weight, bias, stride, padding, dilation,
                     groups);
}

Tensor conv2d(const Tensor& input, const Tensor& weight, const Tensor& bias, ExpandingArray stride,
              ConvPadding padding, ExpandingArray dilation, int64_t groups) {
  return convolution("conv2d", "Conv2dBackward", 2, input, weight, bias, stride, padding, dilation,
                     groups);
}

}  // namespace minidl
