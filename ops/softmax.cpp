// softmax and log_softmax: one fused forward kernel each (max, sum of exponentials, normalize in
// three passes over a row) and one fused backward kernel each, over [outer, D, inner].
#include "ops/softmax.h"

#include <cmath>
#include <limits>

#include "core/autograd.h"
#include "ops/elementwise.h"
#include "ops/loops.h"

namespace minidl {

RowGeometry row_geometry(const Shape& shape, int64_t wrapped_dim) {
  RowGeometry g;
  for (int64_t d = 0; d < static_cast<int64_t>(shape.size()); ++d) {
    if (d < wrapped_dim) g.outer *= shape[d];
    if (d == wrapped_dim) g.size = shape[d];
    if (d > wrapped_dim) g.inner *= shape[d];
  }
  return g;
}

namespace {

// t itself if contiguous, else a contiguous copy that records nothing on the tape (the caller
// records its own entry against t).
Tensor dense(const Tensor& t) {
  if (t.is_contiguous()) return t;
  Tensor out = empty(t.shape(), t.dtype());
  copy_data(out, t);
  return out;
}

void check_floating(const Tensor& x, const char* op) {
  MINIDL_CHECK(
      x.is_floating_point(), op,
      "expects a floating-point tensor, got " << x.dtype() << " of shape " << shape_str(x.shape()));
}

// dim wrapped into [0, ndim) (a 0-d tensor accepts 0 and -1), with the shape in the error.
int64_t softmax_dim(const Tensor& x, int64_t dim, const char* op) {
  const int64_t n = std::max<int64_t>(x.dim(), 1);
  MINIDL_CHECK(dim >= -n && dim < n, op,
               "dim " << dim << " is out of range for a tensor of shape " << shape_str(x.shape())
                      << " (expected in [" << -n << ", " << n - 1 << "])");
  return wrap_dim(dim, x.dim(), op);
}

// Forward over a contiguous [outer, D, inner] x into y (same layout).
//   softmax:     y = exp(x - m) / s            with m = max_d x, s = sum_d exp(x - m)
//   log_softmax: y = x - (m + log s)
// An all -inf row has m = -inf and x - m = NaN: the row becomes NaN (as PyTorch), unless
// ZeroEmpty (masked_softmax): then m is taken as 0, every exp is 0, s = 0 and the row is all 0.
template <typename T, bool Log, bool ZeroEmpty = false>
void softmax_forward_kernel(const T* x, T* y, const RowGeometry& g) {
  const int64_t D = g.size, inner = g.inner;
  constexpr T kNegInf = -std::numeric_limits<T>::infinity();
  auto row = [&](int64_t offset) {
    const T* in = x + offset;
    T* out = y + offset;
    T m = kNegInf;
#pragma omp simd reduction(max : m)
    for (int64_t d = 0; d < D; ++d) m = std::max(m, in[d]);
    if (ZeroEmpty && m == kNegInf) m = 0;
    T s = 0;
    if (Log) {
#pragma omp simd reduction(+ : s)
      for (int64_t d = 0; d < D; ++d) s += exp_vec(in[d] - m);
      const T log_norm = m + std::log(s);
#pragma omp simd
      for (int64_t d = 0; d < D; ++d) out[d] = in[d] - log_norm;
    } else {
      // Exponentiate first, then sum: the separate sum vectorizes (about 1.5x faster).
#pragma omp simd
      for (int64_t d = 0; d < D; ++d) out[d] = exp_vec(in[d] - m);
#pragma omp simd reduction(+ : s)
      for (int64_t d = 0; d < D; ++d) s += out[d];
      const T inv = (ZeroEmpty && s == 0) ? T(0) : T(1) / s;
#pragma omp simd
      for (int64_t d = 0; d < D; ++d) out[d] *= inv;
    }
  };
  // The same three passes with one running max / sum per column of the tile.
  auto tile = [&](int64_t offset, int64_t width) {
    T m[kRowTile], s[kRowTile];
    for (int64_t j = 0; j < width; ++j) m[j] = kNegInf, s[j] = 0;
    for (int64_t d = 0; d < D; ++d) {
      const T* in = x + offset + d * inner;
#pragma omp simd
      for (int64_t j = 0; j < width; ++j) m[j] = std::max(m[j], in[j]);
    }
    if (ZeroEmpty)
      for (int64_t j = 0; j < width; ++j)
        if (m[j] == kNegInf) m[j] = 0;
    for (int64_t d = 0; d < D; ++d) {
      const T* in = x + offset + d * inner;
      T* out = y + offset + d * inner;
      if (Log) {
        for (int64_t j = 0; j < width; ++j) s[j] += exp_vec(in[j] - m[j]);
      } else {
        for (int64_t j = 0; j < width; ++j) {
          out[j] = exp_vec(in[j] - m[j]);
          s[j] += out[j];
        }
      }
    }
    for (int64_t j = 0; j < width; ++j)
      s[j] = Log ? m[j] + std::log(s[j]) : (ZeroEmpty && s[j] == 0) ? T(0) : T(1) / s[j];
    for (int64_t d = 0; d < D; ++d) {
      const T* in = x + offset + d * inner;
      T* out = y + offset + d * inner;
      if (Log) {
#pragma omp simd
        for (int64_t j = 0; j < width; ++j) out[j] = in[j] - s[j];
      } else {
#pragma omp simd
        for (int64_t j = 0; j < width; ++j) out[j] *= s[j];
      }
    }
  };
  for_each_row(g, row, tile);
}

// Backward over contiguous [outer, D, inner] dy, y into dx:
//   softmax:     dx = y * (dy - sum_d(dy * y))
//   log_softmax: dx = dy - exp(y) * sum_d(dy)
template <typename T, bool Log>
void softmax_backward_kernel(const T* dy, const T* y, T* dx, const RowGeometry& g) {
  const int64_t D = g.size, inner = g.inner;
  auto row = [&](int64_t offset) {
    const T* gy = dy + offset;
    const T* out = y + offset;
    T* gx = dx + offset;
    T s = 0;
    if (Log) {
#pragma omp simd reduction(+ : s)
      for (int64_t d = 0; d < D; ++d) s += gy[d];  // s = Σ dy
      // dx = dy - softmax Σ dy, softmax = exp(log_softmax)
      for (int64_t d = 0; d < D; ++d) gx[d] = gy[d] - exp_vec(out[d]) * s;
    } else {
#pragma omp simd reduction(+ : s)
      for (int64_t d = 0; d < D; ++d) s += gy[d] * out[d];  // s = Σ dy y
#pragma omp simd
      for (int64_t d = 0; d < D; ++d) gx[d] = out[d] * (gy[d] - s);  // dx = y (dy - s)
    }
  };
  auto tile = [&](int64_t offset, int64_t width) {
    T s[kRowTile];
    for (int64_t j = 0; j < width; ++j) s[j] = 0;
    for (int64_t d = 0; d < D; ++d) {
      const T* gy = dy + offset + d * inner;
      const T* out = y + offset + d * inner;
#pragma omp simd
      for (int64_t j = 0; j < width; ++j) s[j] += Log ? gy[j] : gy[j] * out[j];
    }
    for (int64_t d = 0; d < D; ++d) {
      const T* gy = dy + offset + d * inner;
      const T* out = y + offset + d * inner;
      T* gx = dx + offset + d * inner;
      if (Log) {
        for (int64_t j = 0; j < width; ++j) gx[j] = gy[j] - exp_vec(out[j]) * s[j];
      } else {
#pragma omp simd
        for (int64_t j = 0; j < width; ++j) gx[j] = out[j] * (gy[j] - s[j]);
      }
    }
  };
  for_each_row(g, row, tile);
}

template <bool Log, bool ZeroEmpty = false>
Tensor softmax_forward(const Tensor& x, int64_t dim, const char* op) {
  check_floating(x, op);
  const int64_t d = softmax_dim(x, dim, op);
  Tensor in = dense(x);
  Tensor out = empty(x.shape(), x.dtype());
  if (out.numel() == 0) return out;
  RowGeometry g = row_geometry(x.shape(), d);
  MINIDL_DISPATCH_FLOATING(x.dtype(), op,
                           softmax_forward_kernel<scalar_t, Log, ZeroEmpty>(
                               in.data_ptr<scalar_t>(), out.data_ptr<scalar_t>(), g));
  return out;
}

template <bool Log>
Tensor softmax_backward(const Tensor& grad_output, const Tensor& output, int64_t dim,
                        const char* op) {
  check_floating(output, op);
  MINIDL_CHECK(grad_output.shape() == output.shape() && grad_output.dtype() == output.dtype(), op,
               "grad_output " << shape_str(grad_output.shape()) << " (" << grad_output.dtype()
                              << ") does not match output " << shape_str(output.shape()) << " ("
                              << output.dtype() << ")");
  const int64_t d = softmax_dim(output, dim, op);
  Tensor dy = dense(grad_output), y = dense(output);
  Tensor dx = empty(output.shape(), output.dtype());
  if (dx.numel() == 0) return dx;
  RowGeometry g = row_geometry(output.shape(), d);
  MINIDL_DISPATCH_FLOATING(
      output.dtype(), op,
      softmax_backward_kernel<scalar_t, Log>(dy.data_ptr<scalar_t>(), y.data_ptr<scalar_t>(),
                                             dx.data_ptr<scalar_t>(), g));
  return dx;
}

}  // namespace

Tensor softmax_backward_data(const Tensor& grad_output, const Tensor& output, int64_t dim) {
  return softmax_backward<false>(grad_output, output, dim, "softmax_backward");
}

Tensor log_softmax_backward_data(const Tensor& grad_output, const Tensor& output, int64_t dim) {
  return softmax_backward<true>(grad_output, output, dim, "log_softmax_backward");
}

Tensor softmax(const Tensor& x, int64_t dim) {
  Tensor out = softmax_forward<false>(x, dim, "softmax");
  // out = exp(x - max) / Σ_dim exp(x - max) ;  dx = out * (dout - Σ_dim dout * out)
  // derivation: along dim, out_i = e^{x_i} / Σ_k e^{x_k}
  //   d out_i / d x_j = out_i ([i = j] - out_j)
  //   dx_j = Σ_i dout_i out_i ([i = j] - out_j) = out_j (dout_j - Σ_i dout_i out_i)
  //   saved: out only (the max and the sum are not needed again); max subtracted for stability
  if (needs_grad({x})) {
    SavedTensor saved_out(out);
    record("SoftmaxBackward0", out, {x}, [saved_out, dim](const Tensor& g) {
      if (GradMode::is_enabled()) {  // create_graph: the same formula in recorded ops
        const Tensor y = saved_out.get();
        return GradList{y * (g - (g * y).sum({dim}, true))};
      }
      return GradList{softmax_backward_data(g, saved_out.get(), dim)};
    })->twice_differentiable = true;
  }
  return out;
}

Tensor masked_softmax(const Tensor& x, const Tensor& mask, int64_t dim) {
  const char* op = "masked_softmax";
  check_floating(x, op);
  Tensor filled = x;
  if (mask.defined()) {
    MINIDL_CHECK(mask.dtype() == kBool, op,
                 "mask must be bool (true = excluded), got " << mask.dtype() << " of shape "
                                                             << shape_str(mask.shape()));
    MINIDL_CHECK(broadcast_shapes(mask.shape(), x.shape(), op) == x.shape(), op,
                 "mask " << shape_str(mask.shape()) << " does not broadcast to the scores "
                         << shape_str(x.shape()));
    NoGradGuard no_grad;
    filled = x.masked_fill(mask, -std::numeric_limits<double>::infinity());
  }
  Tensor out = softmax_forward<false, true>(filled, dim, op);
  // out = softmax(x with excluded entries at -inf), empty rows 0 ;
  //   dx = out * (dout - Σ_dim dout * out)
  //   (out = 0 at excluded entries and on empty rows, so their gradient is exactly 0)
  // derivation: the softmax derivation over the included entries only; an excluded entry is a
  //   constant -inf (the mask is filled under no_grad), so it has out = 0 and receives dx = 0
  if (needs_grad({x})) {
    SavedTensor saved_out(out);
    record("MaskedSoftmaxBackward0", out, {x}, [saved_out, dim](const Tensor& g) {
      if (GradMode::is_enabled()) {  // create_graph: the same formula in recorded ops
        const Tensor y = saved_out.get();
        return GradList{y * (g - (g * y).sum({dim}, true))};
      }
      return GradList{softmax_backward_data(g, saved_out.get(), dim)};
    })->twice_differentiable = true;
  }
  return out;
}

Tensor log_softmax(const Tensor& x, int64_t dim) {
  Tensor out = softmax_forward<true>(x, dim, "log_softmax");
  // out = x - max - log Σ_dim exp(x - max) ;  dx = dout - exp(out) * Σ_dim dout
  // derivation: out_i = x_i - lse(x), d lse / d x_j = softmax_j = exp(out_j)
  //   dx_j = dout_j - exp(out_j) Σ_i dout_i ;  saved: out (softmax recovered as exp(out))
  if (needs_grad({x})) {
    SavedTensor saved_out(out);
    record("LogSoftmaxBackward0", out, {x}, [saved_out, dim](const Tensor& g) {
      if (GradMode::is_enabled())  // create_graph: the same formula in recorded ops
        return GradList{g - saved_out.get().exp() * g.sum({dim}, true)};
      return GradList{log_softmax_backward_data(g, saved_out.get(), dim)};
    })->twice_differentiable = true;
  }
  return out;
}

Tensor Tensor::softmax(int64_t dim) const {
  return minidl::softmax(*this, dim);
}
Tensor Tensor::log_softmax(int64_t dim) const {
  return minidl::log_softmax(*this, dim);
}

}  // namespace minidl
