// max_pool2d, avg_pool2d, adaptive_avg_pool2d: one loop over output positions per input plane,
// planes in parallel; each backward scatters the output gradient back to the window it came from.
#include "ops/pool.h"

#include <algorithm>
#include <cmath>
#include <functional>
#include <limits>
#include <vector>

#include "core/autograd.h"
#include "core/factories.h"
#include "core/strided.h"
#include "ops/index_ops.h"

namespace minidl {

namespace {

// The pooled planes' sizes: input [planes, H, W] -> output [planes, OH, OW].
struct PoolGeometry {
  int64_t planes, H, W;
  int64_t KH, KW, SH, SW, PH, PW, DH, DW;
  int64_t OH, OW;
};

Tensor dense(const Tensor& t) {
  if (t.is_contiguous()) return t;
  Tensor copy = empty(t.shape(), t.dtype());
  copy_data(copy, t);
  return copy;
}

// The input gradient of a linear pooling, dx = P^T dout, computed by `kernel(dout, dx)` (dout
// dense). Under create_graph it is recorded: d(dout) = P d(dx), the pooling itself (`pool`).
Tensor pooled_gradient(const char* name, const Tensor& grad_out, const Shape& input_shape,
                       const std::function<void(const Tensor&, const Tensor&)>& kernel,
                       const std::function<Tensor(const Tensor&)>& pool) {
  const Tensor dout = dense(grad_out);
  Tensor dx = empty(input_shape, dout.dtype());
  kernel(dout, dx);
  if (needs_grad({grad_out}))
    record(name, dx, {grad_out}, [pool](const Tensor& g) {
      return GradList{pool(g)};
    })->twice_differentiable = true;
  return dx;
}

// Checks a pooling input: [N, C, H, W] or [C, H, W], floating, with non-empty planes.
void check_pool_input(const Tensor& input, const char* op) {
  MINIDL_CHECK(input.defined(), op, "input must be defined");
  MINIDL_CHECK(
      input.dim() == 3 || input.dim() == 4, op,
      "expected a 3-D (unbatched) or 4-D (batched) input, got shape " << shape_str(input.shape()));
  MINIDL_CHECK(input.is_floating_point(), op,
               "expects a floating-point input, got " << input.dtype() << " of shape "
                                                      << shape_str(input.shape()));
  for (int64_t d = input.dim() - 3; d < input.dim(); ++d)
    MINIDL_CHECK(
        input.size(d) > 0, op,
        "expected non-empty channel and spatial dims, got shape " << shape_str(input.shape()));
}

// Output shape: the input's with the last two dims replaced.
Shape pooled_shape(const Tensor& input, int64_t OH, int64_t OW) {
  Shape shape = input.shape();
  shape[shape.size() - 2] = OH;
  shape[shape.size() - 1] = OW;
  return shape;
}

// Windows of a sliding pool (max or average) and the output size, checked as PyTorch does.
PoolGeometry window_geometry(const char* op, const Tensor& input, const ExpandingArray& kernel_arg,
                             const ExpandingArray& stride_arg, const ExpandingArray& padding_arg,
                             const ExpandingArray& dilation_arg, bool ceil_mode) {
  check_pool_input(input, op);
  const std::vector<int64_t> kernel = kernel_arg.expand(2, op, "kernel_size");
  const std::vector<int64_t> stride =
      stride_arg.empty() ? kernel : stride_arg.expand(2, op, "stride");
  const std::vector<int64_t> padding = padding_arg.expand(2, op, "padding");
  const std::vector<int64_t> dilation = dilation_arg.expand(2, op, "dilation");
  for (int d = 0; d < 2; ++d) {
    MINIDL_CHECK(kernel[d] > 0, op, "kernel_size must be positive, got " << tuple_str(kernel));
    MINIDL_CHECK(stride[d] > 0, op, "stride must be positive, got " << tuple_str(stride));
    MINIDL_CHECK(dilation[d] > 0, op, "dilation must be positive, got " << tuple_str(dilation));
    MINIDL_CHECK(padding[d] >= 0 && padding[d] <= kernel[d] / 2, op,
                 "pad should be non-negative and at most half of kernel size, got padding "
                     << tuple_str(padding) << " and kernel_size " << tuple_str(kernel));
  }
  PoolGeometry g{};
  g.H = input.size(-2);
  g.W = input.size(-1);
  g.planes = input.numel() / (g.H * g.W);
  g.KH = kernel[0], g.KW = kernel[1], g.SH = stride[0], g.SW = stride[1];
  g.PH = padding[0], g.PW = padding[1], g.DH = dilation[0], g.DW = dilation[1];
  auto out_size = [&](int64_t in, int64_t k, int64_t s, int64_t p, int64_t d) {
    const int64_t span = in + 2 * p - d * (k - 1) - 1;
    if (span < 0) return int64_t{0};
    int64_t out = (span + (ceil_mode ? s - 1 : 0)) / s + 1;
    // With ceil_mode the last window must start inside the input or the left padding.
    if (ceil_mode && (out - 1) * s >= in + p) --out;
    return out;
  };
  g.OH = out_size(g.H, g.KH, g.SH, g.PH, g.DH);
  g.OW = out_size(g.W, g.KW, g.SW, g.PW, g.DW);
  MINIDL_CHECK(g.OH > 0 && g.OW > 0, op,
               "given input of shape " << shape_str(input.shape()) << ", kernel_size "
                                       << tuple_str(kernel) << ", padding " << tuple_str(padding)
                                       << " and dilation " << tuple_str(dilation)
                                       << ", the calculated output size (" << g.OH << " x " << g.OW
                                       << ") is too small");
  return g;
}

// body(plane) for each plane, in parallel when the work is large (chunks of planes holding
// about kParallelGrain units of work each).
template <typename Body>
void for_each_plane(const PoolGeometry& g, int64_t work_per_plane, Body&& body) {
  const int64_t grain = std::max<int64_t>(1, kParallelGrain / std::max<int64_t>(1, work_per_plane));
  parallel_for(0, g.planes, grain, [&](int64_t p0, int64_t p1) {
    for (int64_t p = p0; p < p1; ++p) body(p);
  });
}

// ---------------------------------------------------------------- max

// The 2x2 / stride 2 max pool of planes with an even width W = 2 OW, in passes whose loops
// run over the whole plane rather than OW (often 7 or 14: too short to vectorize) at a time:
//   1. the max of each column pair over the pooled rows (k < 2 OH OW):
//        m[k] = max(x[2k], x[2k + 1]),  which[k] = 0 or 1 (the winner is x[2k + which[k]])
//   2. the max of each pair of vertically adjacent column pairs (k < (2 OH - 1) OW), with the
//      input index of the winner:
//        r[k] = max(m[k], m[k + OW])    (needed only for k in an even row of m)
//   3. out[oh, :] = r[2 oh OW + :], copied row by row
// "Take the later candidate when strictly larger or NaN" is associative, so the pairwise order
// gives the same winner as the sequential scan over the window: the last NaN, else the first
// maximum.
template <typename T>
void max_pool_2x2_even(const T* x, T* out, int64_t* index, const PoolGeometry& g) {
  const int64_t OHW = g.OH * g.OW;
  // Scratch per chunk of planes (a few KiB); chunks of about kParallelGrain / 4 outputs.
  const int64_t grain = std::max<int64_t>(1, kParallelGrain / (4 * std::max<int64_t>(1, OHW)));
  parallel_for(0, g.planes, grain, [&](int64_t p0, int64_t p1) {
    // Sizes as locals: read through the closure, the int64 index stores below might alias
    // them, and the loops would reload them every element instead of vectorizing.
    const int64_t OW = g.OW, W = g.W, HW = g.H * g.W, pairs = 2 * OHW, rows = pairs - OW;
    std::vector<T> m(static_cast<size_t>(pairs)), which(static_cast<size_t>(pairs)),
        r(static_cast<size_t>(pairs));
    std::vector<int64_t> r_at(static_cast<size_t>(pairs));
    T* mp = m.data();
    T* wp = which.data();
    T* rp = r.data();
    int64_t* rap = r_at.data();
    for (int64_t p = p0; p < p1; ++p) {
      const T* xp = x + p * HW;
#pragma omp simd
      for (int64_t k = 0; k < pairs; ++k) {
        const T a = xp[2 * k], b = xp[2 * k + 1];
        const bool take = (b > a) | (b != b);
        mp[k] = take ? b : a;
        wp[k] = take ? T(1) : T(0);
      }
#pragma omp simd
      for (int64_t k = 0; k < rows; ++k) {
        const T t = mp[k], u = mp[k + OW];
        const bool take = (u > t) | (u != u);
        rp[k] = take ? u : t;
        rap[k] =
            2 * k + (take ? W + static_cast<int64_t>(wp[k + OW]) : static_cast<int64_t>(wp[k]));
      }
      T* op = out + p * OHW;
      int64_t* ip = index + p * OHW;
      for (int64_t oh = 0; oh < g.OH; ++oh) {
        std::copy(rp + 2 * oh * OW, rp + (2 * oh + 1) * OW, op + oh * OW);
        std::copy(rap + 2 * oh * OW, rap + (2 * oh + 1) * OW, ip + oh * OW);
      }
    }
  });
}

// out[p, oh, ow] = max over the window of x[p], index[p, oh, ow] = h * W + w of that max
template <typename T>
void max_pool_forward(const T* x, T* out, int64_t* index, const PoolGeometry& g) {
  const int64_t HW = g.H * g.W, OHW = g.OH * g.OW;
  // The 2x2 / stride 2 pool with every window inside the input (not so for a ceil_mode tail).
  const bool simple = g.KH == 2 && g.KW == 2 && g.SH == 2 && g.SW == 2 && g.PH == 0 && g.PW == 0 &&
                      g.DH == 1 && g.DW == 1 && 2 * g.OH <= g.H && 2 * g.OW <= g.W;
  if (simple && g.W == 2 * g.OW) {
    max_pool_2x2_even(x, out, index, g);
    return;
  }
  for_each_plane(g, OHW * g.KH * g.KW, [&](int64_t p) {
    const T* xp = x + p * HW;
    T* op = out + p * OHW;
    int64_t* ip = index + p * OHW;
    if (simple) {  // the common 2x2 / stride 2 pool: every window lies inside the input
      // Branch-free selects (a later candidate wins only when strictly larger or NaN, so the
      // first maximum wins ties): random data would mispredict every other comparison.
      for (int64_t oh = 0; oh < g.OH; ++oh) {
        const T* r0 = xp + 2 * oh * g.W;
        const T* r1 = r0 + g.W;
        T* o_row = op + oh * g.OW;
        int64_t* i_row = ip + oh * g.OW;
        const int64_t row0 = 2 * oh * g.W, W = g.W;
#pragma omp simd
        for (int64_t ow = 0; ow < g.OW; ++ow) {
          const int64_t at = row0 + 2 * ow;
          T best = r0[2 * ow];
          int64_t best_at = at;
          const T b = r0[2 * ow + 1], c = r1[2 * ow], d = r1[2 * ow + 1];
          const bool take_b = (b > best) | (b != b);
          best = take_b ? b : best;
          best_at = take_b ? at + 1 : best_at;
          const bool take_c = (c > best) | (c != c);
          best = take_c ? c : best;
          best_at = take_c ? at + W : best_at;
          const bool take_d = (d > best) | (d != d);
          best = take_d ? d : best;
          best_at = take_d ? at + W + 1 : best_at;
          o_row[ow] = best;
          i_row[ow] = best_at;
        }
      }
      return;
    }
    for (int64_t oh = 0; oh < g.OH; ++oh) {
      int64_t h0 = oh * g.SH - g.PH;
      const int64_t h_end = std::min(h0 + (g.KH - 1) * g.DH + 1, g.H);
      while (h0 < 0) h0 += g.DH;
      for (int64_t ow = 0; ow < g.OW; ++ow) {
        int64_t w0 = ow * g.SW - g.PW;
        const int64_t w_end = std::min(w0 + (g.KW - 1) * g.DW + 1, g.W);
        while (w0 < 0) w0 += g.DW;
        T best = -std::numeric_limits<T>::infinity();
        int64_t best_at = h0 * g.W + w0;
        for (int64_t h = h0; h < h_end; h += g.DH) {
          for (int64_t w = w0; w < w_end; w += g.DW) {
            const T v = xp[h * g.W + w];
            if (v > best || std::isnan(v)) best = v, best_at = h * g.W + w;
          }
        }
        op[oh * g.OW + ow] = best;
        ip[oh * g.OW + ow] = best_at;
      }
    }
  });
}

// dx[p, index[p, o]] += dout[p, o]
template <typename T>
void max_pool_backward(const T* dout, const int64_t* index, T* dx, const PoolGeometry& g) {
  const int64_t HW = g.H * g.W, OHW = g.OH * g.OW;
  for_each_plane(g, OHW + HW, [&](int64_t p) {
    T* dxp = dx + p * HW;
    std::fill(dxp, dxp + HW, T(0));
    const T* dp = dout + p * OHW;
    const int64_t* ip = index + p * OHW;
    for (int64_t o = 0; o < OHW; ++o)
      if (ip[o] >= 0 && ip[o] < HW) dxp[ip[o]] += dp[o];
  });
}

std::pair<Tensor, Tensor> max_pool(const Tensor& input, const ExpandingArray& kernel_size,
                                   const ExpandingArray& stride, const ExpandingArray& padding,
                                   const ExpandingArray& dilation, bool ceil_mode) {
  const PoolGeometry g =
      window_geometry("max_pool2d", input, kernel_size, stride, padding, dilation, ceil_mode);
  const Shape out_shape = pooled_shape(input, g.OH, g.OW);
  Tensor out = empty(out_shape, input.dtype());
  Tensor index = empty(out_shape, kInt64);
  const Tensor x = dense(input);
  MINIDL_DISPATCH_FLOATING(
      input.dtype(), "max_pool2d",
      max_pool_forward<scalar_t>(x.data_ptr<scalar_t>(), out.data_ptr<scalar_t>(),
                                 index.data_ptr<int64_t>(), g));
  // out = max over window ;  dinput = zeros, dinput[argmax] += dout  (create_graph: a recorded
  //   scatter_add)
  // derivation: out[o] = x[argmax(o)]: locally out is a copy of one input element, so dout[o]
  //   goes to that element only (d max / d x_i = [i = argmax], the first maximum on ties, a NaN
  //   wins); overlapping windows add. saved: the argmax index [.., OH, OW] (int64), not input
  if (needs_grad({input})) {
    const Shape input_shape = input.shape();
    record("MaxPool2DWithIndicesBackward0", out, {input},
           [g, input_shape, saved_index = SavedTensor(index)](const Tensor& grad_out) {
             if (GradMode::is_enabled()) {  // create_graph: the same scatter, recorded
               const int64_t out_plane = g.OH * g.OW;
               const Tensor index = saved_index.get().reshape({g.planes, out_plane});
               return GradList{scatter_add(zeros({g.planes, g.H * g.W}, grad_out.dtype()), 1, index,
                                           grad_out.reshape({g.planes, out_plane}))
                                   .view(input_shape)};
             }
             const Tensor dout = dense(grad_out);
             Tensor dx = empty(input_shape, dout.dtype());
             MINIDL_DISPATCH_FLOATING(
                 dout.dtype(), "max_pool2d backward",
                 max_pool_backward<scalar_t>(dout.data_ptr<scalar_t>(),
                                             saved_index.get().data_ptr<int64_t>(),
                                             dx.data_ptr<scalar_t>(), g));
             return GradList{dx};
           })
        ->twice_differentiable = true;
  }
  return {out, index};
}

// ---------------------------------------------------------------- average

// The window of output (oh, ow), clipped to the input, and its divisor.
struct AvgWindow {
  int64_t h0, h1, w0, w1;
  int64_t divisor;
};

inline AvgWindow avg_window(const PoolGeometry& g, int64_t oh, int64_t ow, bool count_include_pad,
                            int64_t divisor_override) {
  int64_t h0 = oh * g.SH - g.PH, w0 = ow * g.SW - g.PW;
  int64_t h1 = std::min(h0 + g.KH, g.H + g.PH), w1 = std::min(w0 + g.KW, g.W + g.PW);
  const int64_t padded_size = (h1 - h0) * (w1 - w0);
  h0 = std::max<int64_t>(h0, 0), w0 = std::max<int64_t>(w0, 0);
  h1 = std::min(h1, g.H), w1 = std::min(w1, g.W);
  int64_t divisor = divisor_override    ? divisor_override
                    : count_include_pad ? padded_size
                                        : (h1 - h0) * (w1 - w0);
  return {h0, h1, w0, w1, std::max<int64_t>(divisor, 1)};
}

// out[p, oh, ow] = sum of x[p] over the window / divisor
template <typename T>
void avg_pool_forward(const T* x, T* out, const PoolGeometry& g, bool include_pad,
                      int64_t divisor_override) {
  const int64_t HW = g.H * g.W, OHW = g.OH * g.OW;
  for_each_plane(g, OHW * g.KH * g.KW, [&](int64_t p) {
    const T* xp = x + p * HW;
    T* op = out + p * OHW;
    for (int64_t oh = 0; oh < g.OH; ++oh) {
      for (int64_t ow = 0; ow < g.OW; ++ow) {
        const AvgWindow win = avg_window(g, oh, ow, include_pad, divisor_override);
        T total = 0;
        for (int64_t h = win.h0; h < win.h1; ++h)
          for (int64_t w = win.w0; w < win.w1; ++w) total += xp[h * g.W + w];
        op[oh * g.OW + ow] = total / static_cast<T>(win.divisor);
      }
    }
  });
}

// dx[p, window] += dout[p, oh, ow] / divisor
template <typename T>
void avg_pool_backward(const T* dout, T* dx, const PoolGeometry& g, bool include_pad,
                       int64_t divisor_override) {
  const int64_t HW = g.H * g.W, OHW = g.OH * g.OW;
  for_each_plane(g, OHW * g.KH * g.KW + HW, [&](int64_t p) {
    T* dxp = dx + p * HW;
    std::fill(dxp, dxp + HW, T(0));
    const T* dp = dout + p * OHW;
    for (int64_t oh = 0; oh < g.OH; ++oh) {
      for (int64_t ow = 0; ow < g.OW; ++ow) {
        const AvgWindow win = avg_window(g, oh, ow, include_pad, divisor_override);
        const T share = dp[oh * g.OW + ow] / static_cast<T>(win.divisor);
        for (int64_t h = win.h0; h < win.h1; ++h)
          for (int64_t w = win.w0; w < win.w1; ++w) dxp[h * g.W + w] += share;
      }
    }
  });
}

// ---------------------------------------------------------------- adaptive average

// Window i of n over a dim of size `in`: [floor(i in / n), ceil((i + 1) in / n)).
inline int64_t adaptive_start(int64_t i, int64_t in, int64_t n) {
  return (i * in) / n;
}
inline int64_t adaptive_end(int64_t i, int64_t in, int64_t n) {
  return ((i + 1) * in + n - 1) / n;
}

// out[p, oh, ow] = mean of x[p] over the adaptive window (oh, ow)
template <typename T>
void adaptive_avg_forward(const T* x, T* out, const PoolGeometry& g) {
  const int64_t HW = g.H * g.W, OHW = g.OH * g.OW;
  for_each_plane(g, std::max(HW, OHW), [&](int64_t p) {
    const T* xp = x + p * HW;
    T* op = out + p * OHW;
    for (int64_t oh = 0; oh < g.OH; ++oh) {
      const int64_t h0 = adaptive_start(oh, g.H, g.OH), h1 = adaptive_end(oh, g.H, g.OH);
      for (int64_t ow = 0; ow < g.OW; ++ow) {
        const int64_t w0 = adaptive_start(ow, g.W, g.OW), w1 = adaptive_end(ow, g.W, g.OW);
        T total = 0;
        for (int64_t h = h0; h < h1; ++h)
          for (int64_t w = w0; w < w1; ++w) total += xp[h * g.W + w];
        op[oh * g.OW + ow] = total / static_cast<T>((h1 - h0) * (w1 - w0));
      }
    }
  });
}

// dx[p, window(oh, ow)] += dout[p, oh, ow] / window size
template <typename T>
void adaptive_avg_backward(const T* dout, T* dx, const PoolGeometry& g) {
  const int64_t HW = g.H * g.W, OHW = g.OH * g.OW;
  for_each_plane(g, std::max(HW, OHW), [&](int64_t p) {
    T* dxp = dx + p * HW;
    std::fill(dxp, dxp + HW, T(0));
    const T* dp = dout + p * OHW;
    for (int64_t oh = 0; oh < g.OH; ++oh) {
      const int64_t h0 = adaptive_start(oh, g.H, g.OH), h1 = adaptive_end(oh, g.H, g.OH);
      for (int64_t ow = 0; ow < g.OW; ++ow) {
        const int64_t w0 = adaptive_start(ow, g.W, g.OW), w1 = adaptive_end(ow, g.W, g.OW);
        const T share = dp[oh * g.OW + ow] / static_cast<T>((h1 - h0) * (w1 - w0));
        for (int64_t h = h0; h < h1; ++h)
          for (int64_t w = w0; w < w1; ++w) dxp[h * g.W + w] += share;
      }
    }
  });
}

}  // namespace

Tensor max_pool2d(const Tensor& input, ExpandingArray kernel_size, ExpandingArray stride,
                  ExpandingArray padding, ExpandingArray dilation, bool ceil_mode) {
  return max_pool(input, kernel_size, stride, padding, dilation, ceil_mode).first;
}

std::pair<Tensor, Tensor> max_pool2d_with_indices(const Tensor& input, ExpandingArray kernel_size,
                                                  ExpandingArray stride, ExpandingArray padding,
                                                  ExpandingArray dilation, bool ceil_mode) {
  return max_pool(input, kernel_size, stride, padding, dilation, ceil_mode);
}

Tensor avg_pool2d(const Tensor& input, ExpandingArray kernel_size, ExpandingArray stride,
                  ExpandingArray padding, bool ceil_mode, bool count_include_pad,
                  int64_t divisor_override) {
  MINIDL_CHECK(divisor_override >= 0, "avg_pool2d",
               "divisor_override must be positive (or 0 for none), got " << divisor_override);
  const PoolGeometry g =
      window_geometry("avg_pool2d", input, kernel_size, stride, padding, 1, ceil_mode);
  Tensor out = empty(pooled_shape(input, g.OH, g.OW), input.dtype());
  const Tensor x = dense(input);
  MINIDL_DISPATCH_FLOATING(
      input.dtype(), "avg_pool2d",
      avg_pool_forward<scalar_t>(x.data_ptr<scalar_t>(), out.data_ptr<scalar_t>(), g,
                                 count_include_pad, divisor_override));
  // out = Σ_window input / divisor ;  dinput = Pᵀ dout: each dout / divisor spread over its window
  //   (divisor = the window's size counting padding, its in-bounds size without
  //   count_include_pad, or divisor_override)
  // derivation: out = P x with P a fixed averaging matrix, so dx = Pᵀ dout: every input of a
  //   window gets dout / divisor, overlapping windows add; nothing is saved but the geometry
  if (needs_grad({input})) {
    const Shape input_shape = input.shape();
    record("AvgPool2DBackward0", out, {input}, [=](const Tensor& grad_out) {
      // out = Pᵀ grad_out (the backward above, linear) ;  dgrad_out = avg_pool2d(dout) = P dout
      return GradList{pooled_gradient(
          "AvgPool2DBackwardBackward0", grad_out, input_shape,
          [&](const Tensor& dout, const Tensor& dx) {
            MINIDL_DISPATCH_FLOATING(
                dout.dtype(), "avg_pool2d backward",
                avg_pool_backward<scalar_t>(dout.data_ptr<scalar_t>(), dx.data_ptr<scalar_t>(), g,
                                            count_include_pad, divisor_override));
          },
          [=](const Tensor& dx_grad) {
            return avg_pool2d(dx_grad, kernel_size, stride, padding, ceil_mode, count_include_pad,
                              divisor_override);
          })};
    })->twice_differentiable = true;
  }
  return out;
}

Tensor adaptive_avg_pool2d(const Tensor& input, ExpandingArray output_size) {
  const char* op = "adaptive_avg_pool2d";
  check_pool_input(input, op);
  const std::vector<int64_t> size = output_size.expand(2, op, "output_size");
  MINIDL_CHECK(size[0] > 0 && size[1] > 0, op,
               "output_size must be positive, got " << tuple_str(size));
  PoolGeometry g{};
  g.H = input.size(-2);
  g.W = input.size(-1);
  g.planes = input.numel() / (g.H * g.W);
  g.OH = size[0];
  g.OW = size[1];
  Tensor out = empty(pooled_shape(input, g.OH, g.OW), input.dtype());
  const Tensor x = dense(input);
  MINIDL_DISPATCH_FLOATING(
      input.dtype(), op,
      adaptive_avg_forward<scalar_t>(x.data_ptr<scalar_t>(), out.data_ptr<scalar_t>(), g));
  // out = mean over adaptive window ;  dinput = Pᵀ dout: each dout / window size spread over its
  //   window (windows [floor(o H / OH), ceil((o + 1) H / OH)), may overlap)
  // derivation: out = P x, linear, so dx = Pᵀ dout; nothing is saved but the geometry
  if (needs_grad({input})) {
    const Shape input_shape = input.shape();
    record("AdaptiveAvgPool2DBackward0", out, {input}, [=](const Tensor& grad_out) {
      // out = Pᵀ grad_out (the backward above) ;  dgrad_out = adaptive_avg_pool2d(dout) = P dout
      return GradList{pooled_gradient(
          "AdaptiveAvgPool2DBackwardBackward0", grad_out, input_shape,
          [&](const Tensor& dout, const Tensor& dx) {
            MINIDL_DISPATCH_FLOATING(dout.dtype(), "adaptive_avg_pool2d backward",
                                     adaptive_avg_backward<scalar_t>(dout.data_ptr<scalar_t>(),
                                                                     dx.data_ptr<scalar_t>(), g));
          },
          [=](const Tensor& dx_grad) { return adaptive_avg_pool2d(dx_grad, output_size); })};
    })->twice_differentiable = true;
  }
  return out;
}

}  // namespace minidl
