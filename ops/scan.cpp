// cumsum and cumprod (see ops/scan.h for the math).
//
// A scan's lines are independent. The input is read as a contiguous [outer, n, inner] block
// (n = the scanned dim) and its lines are cut into tasks of up to kBlock adjacent lines -- columns
// i0 .. i0 + len of one outer slice -- so every step of the scan reads and writes `len`
// consecutive elements. Tasks run in parallel (core/parallel.h), each taking its lines from the
// first element to the last: no barrier per step.
#include "ops/scan.h"

#include <algorithm>
#include <cstdint>
#include <type_traits>

#include "core/autograd.h"
#include "core/parallel.h"
#include "core/shape.h"

namespace minidl {

namespace {

constexpr int64_t kBlock = 64;

// A tensor of `shape` scanned along one dim, as [outer, n, inner].
struct ScanGeometry {
  int64_t outer = 1, n = 1, inner = 1;
};

ScanGeometry scan_geometry(const Shape& shape, int64_t dim) {
  ScanGeometry g;
  for (int64_t d = 0; d < static_cast<int64_t>(shape.size()); ++d) {
    if (d < dim) {
      g.outer *= shape[d];
    } else if (d == dim) {
      g.n = shape[d];
    } else {
      g.inner *= shape[d];
    }
  }
  return g;
}

int64_t scan_dim(const Tensor& x, int64_t dim, const char* op) {
  const int64_t n = std::max<int64_t>(x.dim(), 1);  // dim 0 / -1 of a 0-d tensor is allowed
  MINIDL_CHECK(dim >= -n && dim < n, op,
               "dim " << dim << " out of range for a tensor of shape " << shape_str(x.shape())
                      << " (expected in [" << -n << ", " << n - 1 << "])");
  return dim < 0 ? dim + n : dim;
}

// t converted to dtype and made contiguous, without a tape entry (the op records its own).
Tensor dense(const Tensor& t, DType dtype) {
  if (t.is_contiguous() && t.dtype() == dtype) return t;
  Tensor out = empty(t.shape(), dtype);
  copy_data(out, t);
  return out;
}

// body(o, i0, len) for every task: lines i0 .. i0 + len - 1 of outer slice o. Enough tasks per
// chunk that a chunk touches at least kParallelGrain elements.
template <typename Body>
void for_each_line_block(const ScanGeometry& g, Body body) {
  const int64_t blocks = (g.inner + kBlock - 1) / kBlock;
  const int64_t task_elements = std::max<int64_t>(1, g.n * std::min(g.inner, kBlock));
  const int64_t grain = std::max<int64_t>(1, kParallelGrain / task_elements);
  parallel_for(0, g.outer * blocks, grain, [&](int64_t task0, int64_t task1) {
    for (int64_t task = task0; task < task1; ++task) {
      const int64_t i0 = (task % blocks) * kBlock;
      body(task / blocks, i0, std::min(kBlock, g.inner - i0));
    }
  });
}

// out = the scan of x (both contiguous, of geometry g): acc = combine(acc, x_k) from `identity`,
// along each line forward or reversed, accumulated in Acc.
template <typename T, typename Acc, typename Combine>
void scan_kernel(const T* x, T* out, const ScanGeometry& g, bool reverse, Acc identity,
                 Combine combine) {
  for_each_line_block(g, [&](int64_t o, int64_t i0, int64_t len) {
    Acc acc[kBlock];
    std::fill(acc, acc + len, identity);
    const int64_t base = o * g.n * g.inner + i0;
    for (int64_t step = 0; step < g.n; ++step) {
      const int64_t at = base + (reverse ? g.n - 1 - step : step) * g.inner;
      for (int64_t j = 0; j < len; ++j) {
        acc[j] = combine(acc[j], static_cast<Acc>(x[at + j]));
        out[at + j] = static_cast<T>(acc[j]);
      }
    }
  });
}

// The forward of either scan, without a tape entry. Floats accumulate in double; int64 (and
// bool, promoted to int64) in uint64, so an overflow wraps as in PyTorch instead of being
// undefined.
Tensor run_scan(const Tensor& x, int64_t dim, bool product, bool reverse, const char* op) {
  const DType dtype = x.is_floating_point() ? x.dtype() : kInt64;
  const Tensor src = dense(x, dtype);
  Tensor out = empty(x.shape(), dtype);
  const ScanGeometry g = scan_geometry(x.shape(), dim);
  MINIDL_DISPATCH_NUMERIC(dtype, op, {
    using Acc = std::conditional_t<std::is_floating_point<scalar_t>::value, double, uint64_t>;
    const scalar_t* px = src.data_ptr<scalar_t>();
    scalar_t* po = out.data_ptr<scalar_t>();
    if (product) {
      scan_kernel<scalar_t, Acc>(px, po, g, reverse, Acc(1), [](Acc a, Acc v) { return a * v; });
    } else {
      scan_kernel<scalar_t, Acc>(px, po, g, reverse, Acc(0), [](Acc a, Acc v) { return a + v; });
    }
  });
  return out;
}

// The sum scan along a wrapped dim, forward or reversed (y_k = x_k + ... + x_{n-1}); each
// direction is the other's backward, so the gradient is itself differentiable.
Tensor sum_scan(const Tensor& x, int64_t dim, bool reverse) {
  Tensor out = run_scan(x, dim, false, reverse, "cumsum");
  // out[k] = Σ_{j <= k} x[j] (reversed: Σ_{j >= k}) ;  dx = the scan of dout the other way:
  //   dx[i] = Σ_{k >= i} dout[k] (reversed: Σ_{k <= i} dout[k])
  // derivation: d out[k] / d x[i] = [i <= k], so dx[i] = Σ_k dout[k] [i <= k]: a reversed cumsum
  //   (each direction is the other's backward; nothing is saved)
  if (needs_grad({x})) {
    record(reverse ? "ReversedCumsumBackward0" : "CumsumBackward0", out, {x},
           [dim, reverse](const Tensor& grad) { return GradList{sum_scan(grad, dim, !reverse)}; })
        ->twice_differentiable = true;
  }
  return out;
}

// dx of cumprod along each line, from its end: S = dy_k + x_{k+1} S (S = dy_{n-1} at the end),
// dx_k = y_{k-1} S (y_{-1} = 1). All contiguous of geometry g; accumulated in double.
template <typename T>
void cumprod_backward_kernel(const T* x, const T* y, const T* dy, T* dx, const ScanGeometry& g) {
  for_each_line_block(g, [&](int64_t o, int64_t i0, int64_t len) {
    double suffix[kBlock];
    const int64_t base = o * g.n * g.inner + i0;
    for (int64_t k = g.n - 1; k >= 0; --k) {
      const int64_t at = base + k * g.inner;
      for (int64_t j = 0; j < len; ++j) {
        const double up = static_cast<double>(dy[at + j]);
        // S[k] = dout[k] + x[k+1] S[k+1]
        suffix[j] = k == g.n - 1 ? up : up + static_cast<double>(x[at + g.inner + j]) * suffix[j];
        const double before = k == 0 ? 1.0 : static_cast<double>(y[at - g.inner + j]);
        dx[at + j] = static_cast<T>(before * suffix[j]);  // dx[k] = out[k-1] S[k]
      }
    }
  });
}

}  // namespace

Tensor cumsum(const Tensor& x, int64_t dim) {
  MINIDL_CHECK(x.defined(), "cumsum", "input is undefined");
  return sum_scan(x, scan_dim(x, dim, "cumsum"), false);
}

Tensor cumprod(const Tensor& x, int64_t dim_in) {
  MINIDL_CHECK(x.defined(), "cumprod", "input is undefined");
  const int64_t dim = scan_dim(x, dim_in, "cumprod");
  Tensor out = run_scan(x, dim, true, false, "cumprod");
  // out[k] = Π_{j <= k} x[j] ;  dx = out[i-1] S[i] at i   (out[-1] = 1)
  //   with S[i] = dout[i] + x[i+1] S[i+1] from the end of the line
  // derivation: d out[k] / d x[i] = out[i-1] Π_{i < j <= k} x[j] for k >= i, so
  //   dx[i] = out[i-1] Σ_{k >= i} dout[k] Π_{i < j <= k} x[j] = out[i-1] S[i], S from the end
  //   (= Σ_{k >= i} dout[k] out[k] / x[i] where x[i] != 0, but without dividing: exact at zeros)
  //   saved: x and out; one reverse pass per line, accumulated in double
  if (needs_grad({x})) {
    record("CumprodBackward0", out, {x},
           [saved_x = SavedTensor(x), saved_out = SavedTensor(out), dim](const Tensor& grad) {
             const Tensor& x_value = saved_x.get();
             const DType dtype = x_value.dtype();
             const Tensor xd = dense(x_value, dtype), yd = dense(saved_out.get(), dtype);
             const Tensor gd = dense(grad, dtype);
             Tensor dx = empty(x_value.shape(), dtype);
             const ScanGeometry g = scan_geometry(x_value.shape(), dim);
             MINIDL_DISPATCH_FLOATING(dtype, "CumprodBackward0", {
               cumprod_backward_kernel<scalar_t>(xd.data_ptr<scalar_t>(), yd.data_ptr<scalar_t>(),
                                                 gd.data_ptr<scalar_t>(), dx.data_ptr<scalar_t>(),
                                                 g);
             });
             return GradList{dx};
           });
  }
  return out;
}

Tensor Tensor::cumsum(int64_t dim) const {
  return minidl::cumsum(*this, dim);
}
Tensor Tensor::cumprod(int64_t dim) const {
  return minidl::cumprod(*this, dim);
}

}  // namespace minidl
