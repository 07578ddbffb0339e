// sum, mean and sum_to: the sum-shaped reductions, and the geometry every reduction shares.
// (var/std, max/min, arg*, logsumexp and norm live in ops/reduction_stats.cpp.)
#include "ops/reduction.h"

#include <algorithm>
#include <limits>
#include <vector>

#include "core/autograd.h"
#include "core/factories.h"
#include "core/strided.h"
#include "ops/compare.h"
#include "ops/elementwise.h"

namespace minidl {

Dims reduction_dims(const Tensor& x, const Dims& dims, const char* op) {
  const int64_t n = std::max<int64_t>(x.dim(), 1);  // dim 0 / -1 of a 0-d tensor is allowed
  std::vector<bool> seen(n, false);
  for (int64_t d : dims) {
    MINIDL_CHECK(d >= -n && d < n, op,
                 "dim " << d << " out of range for a tensor of shape " << shape_str(x.shape())
                        << " (expected in [" << -n << ", " << n - 1 << "])");
    int64_t w = d < 0 ? d + n : d;
    MINIDL_CHECK(!seen[w], op,
                 "dim " << d << " appears twice in the reduction dims of a tensor of shape "
                        << shape_str(x.shape()));
    seen[w] = true;
  }
  return normalize_dims(dims, x.dim(), op);
}

namespace {

// a * b, or INT64_MAX where that overflows. Both counts fit when x has elements; an empty x's other
// dims may be huge (fuzz_shapes), and then a saturated count only ever meets a 0 from the other
// count (nothing to compute) or a 0 factor of its own (which gives 0 as it should).
int64_t times_saturating(int64_t a, int64_t b) {
  int64_t out = 0;
  return __builtin_mul_overflow(a, b, &out) ? std::numeric_limits<int64_t>::max() : out;
}

}  // namespace

ReduceGeometry reduce_geometry(const Tensor& x, const Dims& dims, bool keepdim) {
  ReduceGeometry g;
  size_t next = 0;
  for (int64_t d = 0; d < x.dim(); ++d) {
    bool reduced = next < dims.size() && dims[next] == d;
    if (reduced) {
      ++next;
      g.reduced_shape.push_back(x.shape()[d]);
      g.reduced_strides.push_back(x.strides()[d]);
      g.reduce_numel = times_saturating(g.reduce_numel, x.shape()[d]);
      if (keepdim) g.out_shape.push_back(1);
    } else {
      g.kept_shape.push_back(x.shape()[d]);
      g.kept_strides.push_back(x.strides()[d]);
      g.out_shape.push_back(x.shape()[d]);
      g.out_numel = times_saturating(g.out_numel, x.shape()[d]);
    }
  }
  return g;
}

namespace {

// out[m] = sum of x over the reduced dims at kept position m. Accumulates in double (or int64),
// so float32 sums of many elements do not drift.
template <typename T, typename O>
void sum_kernel(const Tensor& x, const ReduceGeometry& g, O* out) {
  using Acc = std::conditional_t<std::is_floating_point<T>::value, double, int64_t>;
  const int64_t M = g.out_numel, R = g.reduce_numel;
  if (M == 0) return;  // no output (R may then be any size, even saturated: see reduce_geometry)
  // A contiguous tensor whose reduced dims are adjacent is [outer, R, inner]: a bias gradient
  // [N, C] -> [C] (outer = 1), a mean over channels [N, C, H, W] -> [N, H, W]. With inner > 1,
  // add the R rows of each outer slice into its output row, vectorized along the row.
  int64_t inner = 0;
  if (x.is_contiguous() && R > 0) {
    bool adjacent = true;
    int64_t prev_stride = -1;  // stride of the previous reduced dim of size > 1
    for (size_t i = 0; i < g.reduced_shape.size(); ++i) {
      if (g.reduced_shape[i] == 1) continue;
      adjacent =
          adjacent && (prev_stride < 0 || prev_stride == g.reduced_strides[i] * g.reduced_shape[i]);
      prev_stride = g.reduced_strides[i];
      inner = g.reduced_strides[i];
    }
    if (!adjacent) inner = 0;
  }
  const int64_t outer = inner > 0 ? M / inner : 0;
  // (Short rows between many slices, e.g. [4096, 100, 3] -> [4096, 3], go faster row by row.)
  if (inner > 1 && (outer == 1 || inner >= 16)) {
    const T* px = x.data_ptr<T>();
    constexpr int64_t kBlock = 64;
    const int64_t blocks = (inner + kBlock - 1) / kBlock;
    // Tasks (one 64-column block of one outer slice, R * 64 elements each) per chunk so a
    // chunk reduces at least kParallelGrain elements.
    const int64_t task_grain = std::max<int64_t>(1, kParallelGrain / (R * kBlock));
    parallel_for(0, outer * blocks, task_grain, [&](int64_t task0, int64_t task1) {
      for (int64_t task = task0; task < task1; ++task) {
        const int64_t o = task / blocks, i0 = (task % blocks) * kBlock;
        const int64_t len = std::min(inner - i0, kBlock);
        Acc acc[kBlock] = {};
        const T* slice = px + o * R * inner + i0;
        for (int64_t r = 0; r < R; ++r) {
          const T* row = slice + r * inner;
#pragma omp simd
          for (int64_t i = 0; i < len; ++i) acc[i] += row[i];
        }
        O* dst = out + o * inner + i0;
        for (int64_t i = 0; i < len; ++i) dst[i] = static_cast<O>(acc[i]);
      }
    });
    return;
  }
  // Any other layout, row by row (see ReduceRows: contiguous rows, a long single row split
  // across threads, transposed inputs gathered tile by tile).
  ReduceRows<T> rows(x, g);
  rows.for_each_output([&](int64_t m, const ReduceRow<T>& row) {
    out[m] = static_cast<O>(row.template sum<Acc>([](T v) { return static_cast<Acc>(v); }));
  });
}

// The gradient of a reduction output, reshaped with the reduced dims back as size 1 and
// expanded (without copying) over the input's shape.
Tensor expand_reduced(const Tensor& g, const Shape& in_shape, const Dims& dims) {
  Shape keep_shape = in_shape;
  for (int64_t d : dims) keep_shape[d] = 1;
  return g.reshape(keep_shape).expand(in_shape);
}

}  // namespace

Tensor sum(const Tensor& x, const Dims& dims_in, bool keepdim) {
  Dims dims = reduction_dims(x, dims_in, "sum");
  ReduceGeometry g = reduce_geometry(x, dims, keepdim);
  DType out_dtype = x.is_floating_point() ? x.dtype() : kInt64;
  Tensor out = empty(g.out_shape, out_dtype);
  if (x.is_floating_point()) {
    MINIDL_DISPATCH_FLOATING(x.dtype(), "sum",
                             sum_kernel<scalar_t>(x, g, out.data_ptr<scalar_t>()));
  } else {
    MINIDL_DISPATCH_ALL(x.dtype(), "sum", sum_kernel<scalar_t>(x, g, out.data_ptr<int64_t>()));
  }
  // out = sum over dims of x ;  dx = dout broadcast back over the summed dims
  if (needs_grad({x})) {
    Shape in_shape = x.shape();
    record(dims_in.empty() ? "SumBackward0" : "SumBackward1", out, {x},
           [in_shape, dims](const Tensor& grad) {
             return GradList{expand_reduced(grad, in_shape, dims)};
           })
        ->twice_differentiable = true;
  }
  return out;
}

Tensor mean(const Tensor& x, const Dims& dims_in, bool keepdim) {
  MINIDL_CHECK(x.is_floating_point(), "mean",
               "expects a floating-point tensor, got "
                   << x.dtype() << " of shape " << shape_str(x.shape()) << "; use to(kFloat32)");
  Dims dims = reduction_dims(x, dims_in, "mean");
  ReduceGeometry g = reduce_geometry(x, dims, keepdim);
  Tensor out = empty(g.out_shape, x.dtype());
  const double count = static_cast<double>(g.reduce_numel);
  MINIDL_DISPATCH_FLOATING(x.dtype(), "mean", {
    scalar_t* po = out.data_ptr<scalar_t>();
    sum_kernel<scalar_t>(x, g, po);
    // An empty reduction gives NaN (0/0), as in PyTorch.
    for (int64_t i = 0; i < out.numel(); ++i) po[i] = static_cast<scalar_t>(po[i] / count);
  });
  // out = sum(x) / n ;  dx = dout / n broadcast back over the reduced dims
  if (needs_grad({x})) {
    Shape in_shape = x.shape();
    record(dims_in.empty() ? "MeanBackward0" : "MeanBackward1", out, {x},
           [in_shape, dims, count](const Tensor& grad) {
             return GradList{expand_reduced(grad * (1.0 / count), in_shape, dims)};
           })
        ->twice_differentiable = true;
  }
  return out;
}

Tensor sum_to(const Tensor& grad, const Shape& shape) {
  if (grad.shape() == shape) return grad;
  const int64_t lead = grad.dim() - static_cast<int64_t>(shape.size());
  MINIDL_CHECK(lead >= 0, "sum_to",
               "cannot sum " << shape_str(grad.shape()) << " to more dims " << shape_str(shape));
  Dims dims;
  for (int64_t d = 0; d < grad.dim(); ++d) {
    if (d < lead) {
      dims.push_back(d);
    } else if (shape[d - lead] == 1 && grad.shape()[d] != 1) {
      dims.push_back(d);
    } else {
      MINIDL_CHECK(
          shape[d - lead] == grad.shape()[d], "sum_to",
          "shape " << shape_str(grad.shape()) << " does not broadcast from " << shape_str(shape));
    }
  }
  if (dims.empty()) return grad.reshape(shape);
  return sum(grad, dims, true).reshape(shape);
}

Tensor Tensor::sum() const {
  return minidl::sum(*this);
}
Tensor Tensor::sum(const std::vector<int64_t>& dims, bool keepdim) const {
  return minidl::sum(*this, dims, keepdim);
}
Tensor Tensor::mean() const {
  return minidl::mean(*this);
}
Tensor Tensor::mean(const std::vector<int64_t>& dims, bool keepdim) const {
  return minidl::mean(*this, dims, keepdim);
}

// all(x) = no element is zero: count the zeros (x == 0, summed as int64) and compare with 0;
// any(x) = some element is non-zero: count the non-zeros. Comparisons record nothing, so neither
// is differentiable, as in PyTorch (whose all/any return bool without grad_fn).
Tensor all(const Tensor& x, const Dims& dims, bool keepdim) {
  return sum(x.eq(0.0), dims, keepdim).eq(0.0);
}

Tensor any(const Tensor& x, const Dims& dims, bool keepdim) {
  return sum(x.ne(0.0), dims, keepdim).gt(0.0);
}

}  // namespace minidl
