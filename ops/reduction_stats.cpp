// The statistics reductions: var/std, max/min (over everything, or over one dim with indices),
// argmax/argmin, logsumexp and norm. (sum, mean, sum_to and reduce_geometry: ops/reduction.cpp.)
//
// Every forward walks its input row by row -- row m holds the elements that reduce into output
// element m, as laid out by reduce_geometry -- accumulating in double. Every backward is one
// fused elementwise loop over x and output-shaped tensors broadcast back over the reduced dims,
// or (max/min over a dim) a scatter of the gradient to the chosen indices.
#include <algorithm>
#include <cmath>
#include <limits>
#include <utility>

#include "core/autograd.h"
#include "core/factories.h"
#include "ops/loops.h"
#include "ops/reduction.h"
#include "ops/reduction_grad.h"

namespace minidl {

namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();

// x's shape with the reduced dims set to 1: the shape an output broadcasts back from.
Shape keepdim_shape(const Shape& in_shape, const Dims& dims) {
  Shape shape = in_shape;
  for (int64_t d : dims) shape[d] = 1;
  return shape;
}

void check_floating(const Tensor& x, const char* op) {
  MINIDL_CHECK(x.is_floating_point(), op,
               "expects a floating-point tensor, got "
                   << x.dtype() << " of shape " << shape_str(x.shape()) << "; use to(kFloat32)");
}

template <typename T>
T sign(T v) {
  return v > 0 ? T(1) : (v < 0 ? T(-1) : T(0));
}

// scale = f(grad, out) elementwise over the output (both reshaped to keep_shape).
template <typename F>
Tensor output_scale(const Tensor& grad, const Tensor& out, const Shape& keep_shape, F f) {
  Tensor scale = empty(keep_shape, out.dtype());
  MINIDL_DISPATCH_FLOATING(out.dtype(), "backward",
                           binary_loop<scalar_t, scalar_t, scalar_t>(
                               scale, grad.reshape(keep_shape), out.reshape(keep_shape), f));
  return scale;
}

// The backward of a max/min that has no single winner per row: dx = dout / k at the k elements
// of the row that equal its result (|x| for the inf-norms, times sign(x)), 0 elsewhere. NaNs
// match a NaN result.
Tensor split_among_ties(const Tensor& grad, const Tensor& x, const Tensor& out, const Dims& dims,
                        bool by_abs) {
  ReduceGeometry g = reduce_geometry(x, dims, true);
  Tensor out_keep = out.reshape(g.out_shape).contiguous();
  Tensor grad_keep = grad.reshape(g.out_shape).contiguous();
  Tensor scale = empty(g.out_shape, x.dtype());
  Tensor dx = empty(x.shape(), x.dtype());
  MINIDL_DISPATCH_FLOATING(x.dtype(), "backward", {
    auto matches = [by_abs](scalar_t v, scalar_t o) {
      scalar_t a = by_abs ? std::abs(v) : v;
      return a == o || (std::isnan(a) && std::isnan(o));
    };
    ReduceRows<scalar_t> rows(x, g);
    const scalar_t* po = out_keep.data_ptr<scalar_t>();
    const scalar_t* pg = grad_keep.data_ptr<scalar_t>();
    scalar_t* ps = scale.data_ptr<scalar_t>();
    rows.for_each_output([&](int64_t m, const ReduceRow<scalar_t>& row) {
      const scalar_t o = po[m];
      double ties = row.sum([&](scalar_t v) { return matches(v, o) ? 1.0 : 0.0; });
      ps[m] = static_cast<scalar_t>(pg[m] / ties);
    });
    ternary_loop<scalar_t, scalar_t, scalar_t, scalar_t>(dx, x, out_keep, scale,
                                                         [&](scalar_t v, scalar_t o, scalar_t s) {
                                                           if (!matches(v, o)) return scalar_t(0);
                                                           return by_abs ? sign(v) * s : s;
                                                         });
  });
  return dx;
}

// values[m] / indices[m] = the max (or min) of row m and its first position (either may be null).
template <typename T>
void extremum_kernel(const Tensor& x, const ReduceGeometry& g, bool is_max, T* values,
                     int64_t* indices) {
  ReduceRows<T> rows(x, g);
  rows.for_each_output([&](int64_t m, const ReduceRow<T>& row) {
    std::pair<T, int64_t> best = row.extremum(is_max);
    if (values) values[m] = best.first;
    if (indices) indices[m] = best.second;
  });
}

// ---------------------------------------------------------------- max / min

// x: any shape, not empty -> 0-d
Tensor extremum_all(const Tensor& x, bool is_max) {
  const char* op = is_max ? "max" : "min";
  MINIDL_CHECK(x.numel() > 0, op,
               "cannot reduce an empty tensor of shape "
                   << shape_str(x.shape()) << " over all dims; pass a dim of nonzero size");
  Dims dims = reduction_dims(x, {}, op);
  ReduceGeometry g = reduce_geometry(x, dims, false);
  Tensor out = empty({}, x.dtype());
  MINIDL_DISPATCH_ALL(x.dtype(), op,
                      extremum_kernel<scalar_t>(x, g, is_max, out.data_ptr<scalar_t>(), nullptr));
  // out = max(x) ;  dx = dout / k at the k elements equal to out (ties share), 0 elsewhere
  // derivation: max is not differentiable at ties; sharing evenly is PyTorch's (sub)gradient
  //   choice for the all-dims reduction (the dim form routes to the returned index instead)
  if (needs_grad({x})) {
    record(
        is_max ? "MaxBackward1" : "MinBackward1", out, {x},
        [saved_x = SavedTensor(x), saved_out = SavedTensor(out), dims](const Tensor& grad) {
          if (GradMode::is_enabled())  // create_graph: ops/reduction_grad.h, recorded
            return GradList{detail::ties_grad(grad, saved_x.get(), saved_out.get(), dims, false)};
          return GradList{split_among_ties(grad, saved_x.get(), saved_out.get(), dims, false)};
        })
        ->twice_differentiable = true;
  }
  return out;
}

// dx = zeros of in_shape with grad[m] at position indices[m] along the reduced dim of row m.
Tensor scatter_to_indices(const Tensor& grad, const Tensor& indices, const Shape& in_shape,
                          const Dims& dims) {
  Tensor dx = zeros(in_shape, grad.dtype());
  ReduceGeometry g = reduce_geometry(dx, dims, true);
  const int64_t step = dims.empty() ? 0 : dx.strides()[dims[0]];
  Tensor grad_c = grad.contiguous(), indices_c = indices.contiguous();
  const int64_t* pi = indices_c.data_ptr<int64_t>();
  MINIDL_DISPATCH_FLOATING(dx.dtype(), "backward", {
    ReduceRows<scalar_t> rows(dx, g);
    scalar_t* pd = dx.data_ptr<scalar_t>();
    const scalar_t* pg = grad_c.data_ptr<scalar_t>();
    for (int64_t m = 0; m < g.out_numel; ++m) pd[rows.base(m) + pi[m] * step] = pg[m];
  });
  return dx;
}

// x: [..., n, ...] with n > 0 -> values and int64 indices [..., ...] ([..., 1, ...] if keepdim)
std::pair<Tensor, Tensor> extremum_dim(const Tensor& x, int64_t dim, bool keepdim, bool is_max) {
  const char* op = is_max ? "max" : "min";
  Dims dims = reduction_dims(x, {dim}, op);
  MINIDL_CHECK(
      dims.empty() || x.shape()[dims[0]] > 0, op,
      "cannot reduce over dim " << dim << " of size 0 (shape " << shape_str(x.shape()) << ")");
  ReduceGeometry g = reduce_geometry(x, dims, keepdim);
  Tensor values = empty(g.out_shape, x.dtype());
  Tensor indices = empty(g.out_shape, kInt64);
  MINIDL_DISPATCH_ALL(x.dtype(), op,
                      extremum_kernel<scalar_t>(x, g, is_max, values.data_ptr<scalar_t>(),
                                                indices.data_ptr<int64_t>()));
  // out = max (min) of x over dim, the values beside indices ;  dx = dout at the returned index
  //   along dim, 0 elsewhere (ties: only the returned one, as PyTorch; the all-dims form shares)
  if (needs_grad({x})) {
    record(is_max ? "MaxBackward0" : "MinBackward0", values, {x},
           [saved_indices = SavedTensor(indices), in_shape = x.shape(), dims](const Tensor& grad) {
             if (GradMode::is_enabled())  // create_graph: a recorded scatter_add
               return GradList{detail::indices_grad(grad, saved_indices.get(), in_shape, dims)};
             return GradList{scatter_to_indices(grad, saved_indices.get(), in_shape, dims)};
           })
        ->twice_differentiable = true;
  }
  return {values, indices};
}

// x: any shape -> int64 positions (flat positions when dim is absent)
Tensor arg_extremum(const Tensor& x, std::optional<int64_t> dim, bool keepdim, bool is_max) {
  const char* op = is_max ? "argmax" : "argmin";
  Dims dims;
  if (dim) {
    dims = reduction_dims(x, {*dim}, op);
    MINIDL_CHECK(
        dims.empty() || x.shape()[dims[0]] > 0, op,
        "cannot reduce over dim " << *dim << " of size 0 (shape " << shape_str(x.shape()) << ")");
  } else {
    MINIDL_CHECK(x.numel() > 0, op,
                 "cannot reduce an empty tensor of shape "
                     << shape_str(x.shape()) << " over all dims; pass a dim of nonzero size");
    dims = reduction_dims(x, {}, op);
  }
  ReduceGeometry g = reduce_geometry(x, dims, keepdim);
  Tensor out = empty(g.out_shape, kInt64);
  MINIDL_DISPATCH_ALL(x.dtype(), op,
                      extremum_kernel<scalar_t>(x, g, is_max, nullptr, out.data_ptr<int64_t>()));
  return out;
}

// ---------------------------------------------------------------- var / std

// x: any shape -> the reduced shape
Tensor variance(const Tensor& x, const Dims& dims_in, int64_t correction, bool keepdim,
                bool take_sqrt) {
  const char* op = take_sqrt ? "std" : "var";
  check_floating(x, op);
  Dims dims = reduction_dims(x, dims_in, op);
  ReduceGeometry g = reduce_geometry(x, dims, keepdim);
  const double n = static_cast<double>(g.reduce_numel);
  // As PyTorch: a divisor below zero is clamped to 0 (giving inf, or NaN for 0/0).
  const double divisor = std::max(0.0, n - static_cast<double>(correction));
  Tensor out = empty(g.out_shape, x.dtype());
  Tensor mean_out = empty(g.out_shape, x.dtype());
  MINIDL_DISPATCH_FLOATING(x.dtype(), op, {
    ReduceRows<scalar_t> rows(x, g);
    scalar_t* po = out.data_ptr<scalar_t>();
    scalar_t* pm = mean_out.data_ptr<scalar_t>();
    // Two passes (the mean, then squared deviations from it): no cancellation, unlike
    // E[x^2] - E[x]^2.
    rows.for_each_output([&](int64_t m, const ReduceRow<scalar_t>& row) {
      const double mu = row.sum([](scalar_t v) { return static_cast<double>(v); }) / n;
      const double m2 = row.sum([mu](scalar_t v) {
        const double d = static_cast<double>(v) - mu;
        return d * d;
      });
      const double var = m2 / divisor;
      po[m] = static_cast<scalar_t>(take_sqrt ? std::sqrt(var) : var);
      pm[m] = static_cast<scalar_t>(mu);
    });
  });
  if (needs_grad({x})) {
    Shape keep_shape = keepdim_shape(x.shape(), dims);
    // out = var = Σ (x - mean)² / (N - c), or std = sqrt(var) ;  dx = dout 2 (x - mean) / (N - c)
    //   for var, dout (x - mean) / ((N - c) std) for std (0 where std = 0)
    // derivation: d var / d x_i = 2 (x_i - mean) / (N - c) - (2 / (N (N - c))) Σ_j (x_j - mean),
    //   and the second term is 0 (deviations sum to zero) ;  d std = d var / (2 std)
    //   saved: x and the mean (and out for std); c = correction (1: Bessel's)
    record(take_sqrt ? "StdBackward0" : "VarBackward0", out, {x},
           [saved_x = SavedTensor(x), saved_mean = SavedTensor(mean_out),
            saved_out = SavedTensor(take_sqrt ? out : Tensor()), keep_shape, divisor, take_sqrt,
            dims](const Tensor& grad) {
             const Tensor& x = saved_x.get();
             if (GradMode::is_enabled())  // create_graph: ops/reduction_grad.h, recorded
               return GradList{
                   detail::variance_grad(grad, x, saved_out.get(), dims, divisor, take_sqrt)};
             Tensor scale =
                 take_sqrt ? output_scale(grad, saved_out.get(), keep_shape,
                                          [divisor](auto dout, auto std_value) {
                                            using T = decltype(dout);
                                            if (std_value == 0) return T(0);
                                            return static_cast<T>(dout / (divisor * std_value));
                                          })
                           : output_scale(grad, grad, keep_shape, [divisor](auto dout, auto) {
                               using T = decltype(dout);
                               return static_cast<T>(2 * dout / divisor);
                             });
             Tensor dx = empty(x.shape(), x.dtype());
             MINIDL_DISPATCH_FLOATING(
                 x.dtype(), "backward",
                 ternary_loop<scalar_t, scalar_t, scalar_t, scalar_t>(
                     dx, x, saved_mean.get().reshape(keep_shape), scale,
                     [](scalar_t v, scalar_t mu, scalar_t s) { return (v - mu) * s; }));
             return GradList{dx};
           })
        ->twice_differentiable = true;
  }
  return out;
}

// ---------------------------------------------------------------- norm

enum class NormKind { Zero, One, Two, Inf, NegInf, General };

NormKind norm_kind(double p) {
  if (p == 0) return NormKind::Zero;
  if (p == 1) return NormKind::One;
  if (p == 2) return NormKind::Two;
  if (p == kInf) return NormKind::Inf;
  if (p == -kInf) return NormKind::NegInf;
  return NormKind::General;
}

template <typename T>
double norm_of_row(const ReduceRow<T>& row, NormKind kind, double p) {
  switch (kind) {
    case NormKind::Zero:
      return row.sum([](T v) { return v != 0 ? 1.0 : 0.0; });
    case NormKind::One:
      return row.sum([](T v) { return static_cast<double>(std::abs(v)); });
    case NormKind::Two:
      return std::sqrt(row.sum([](T v) { return static_cast<double>(v) * v; }));
    case NormKind::Inf:
    case NormKind::NegInf: {
      // max |x| (min |x|), NaN propagating; an empty row gives 0, as torch.norm.
      if (row.n == 0) return 0.0;
      const bool is_max = kind == NormKind::Inf;
      double best = is_max ? 0.0 : kInf;
      row.for_each([&](T v, int64_t) {
        const double a = std::abs(static_cast<double>(v));
        if ((is_max ? a > best : a < best) || std::isnan(a)) best = a;
      });
      return best;
    }
    case NormKind::General:
      return std::pow(row.sum([p](T v) { return std::pow(std::abs(static_cast<double>(v)), p); }),
                      1.0 / p);
  }
  return 0.0;
}

}  // namespace

// ---------------------------------------------------------------- public ops

Tensor var(const Tensor& x, const Dims& dims, int64_t correction, bool keepdim) {
  return variance(x, dims, correction, keepdim, false);
}

Tensor std(const Tensor& x, const Dims& dims, int64_t correction, bool keepdim) {
  return variance(x, dims, correction, keepdim, true);
}

Tensor max(const Tensor& x) {
  return extremum_all(x, true);
}
Tensor min(const Tensor& x) {
  return extremum_all(x, false);
}
std::pair<Tensor, Tensor> max(const Tensor& x, int64_t dim, bool keepdim) {
  return extremum_dim(x, dim, keepdim, true);
}
std::pair<Tensor, Tensor> min(const Tensor& x, int64_t dim, bool keepdim) {
  return extremum_dim(x, dim, keepdim, false);
}
Tensor argmax(const Tensor& x, std::optional<int64_t> dim, bool keepdim) {
  return arg_extremum(x, dim, keepdim, true);
}
Tensor argmin(const Tensor& x, std::optional<int64_t> dim, bool keepdim) {
  return arg_extremum(x, dim, keepdim, false);
}

// x: any shape -> the reduced shape
Tensor logsumexp(const Tensor& x, const Dims& dims_in, bool keepdim) {
  check_floating(x, "logsumexp");
  Dims dims = reduction_dims(x, dims_in, "logsumexp");
  ReduceGeometry g = reduce_geometry(x, dims, keepdim);
  Tensor out = empty(g.out_shape, x.dtype());
  MINIDL_DISPATCH_FLOATING(x.dtype(), "logsumexp", {
    ReduceRows<scalar_t> rows(x, g);
    scalar_t* po = out.data_ptr<scalar_t>();
    rows.for_each_output([&](int64_t m, const ReduceRow<scalar_t>& row) {
      // log sum e^x = shift + log sum e^(x - shift) with shift = max x, so no term overflows.
      // An infinite max is not subtracted (inf - inf): the sum alone then gives +-inf.
      double shift = -kInf;
      row.for_each([&](scalar_t v, int64_t) {
        if (v > shift || std::isnan(v)) shift = v;
      });
      if (std::isinf(shift)) shift = 0;
      // (Each term in x's precision -- expf is twice as fast as exp -- summed in double.)
      const double s = row.sum([shift](scalar_t v) {
        return static_cast<double>(std::exp(static_cast<scalar_t>(v - shift)));
      });
      po[m] = static_cast<scalar_t>(std::log(s) + shift);
    });
  });
  // out = log sum exp(x) ;  dx = dout exp(x - out)   (0 in rows of all -inf, where out = -inf)
  // derivation: d out / d x_i = exp(x_i) / Σ exp(x) = exp(x_i - out) = softmax(x)_i: the saved
  //   out recovers the softmax without the sum; the forward shifts by the max for stability
  if (needs_grad({x})) {
    Shape keep_shape = keepdim_shape(x.shape(), dims);
    record("LogsumexpBackward0", out, {x},
           [saved_x = SavedTensor(x), saved_out = SavedTensor(out), keep_shape,
            dims](const Tensor& grad) {
             const Tensor& x = saved_x.get();
             if (GradMode::is_enabled())  // create_graph: ops/reduction_grad.h, recorded
               return GradList{detail::logsumexp_grad(grad, x, saved_out.get(), dims)};
             Tensor dx = empty(x.shape(), x.dtype());
             MINIDL_DISPATCH_FLOATING(
                 x.dtype(), "backward",
                 ternary_loop<scalar_t, scalar_t, scalar_t, scalar_t>(
                     dx, x, saved_out.get().reshape(keep_shape), grad.reshape(keep_shape),
                     [](scalar_t v, scalar_t o, scalar_t dout) {
                       return o == -std::numeric_limits<scalar_t>::infinity()
                                  ? scalar_t(0)
                                  : dout * std::exp(v - o);
                     }));
             return GradList{dx};
           })
        ->twice_differentiable = true;
  }
  return out;
}

// x: any shape -> the reduced shape
Tensor norm(const Tensor& x, double p, const Dims& dims_in, bool keepdim) {
  check_floating(x, "norm");
  MINIDL_CHECK(!std::isnan(p), "norm", "p must be a number, got NaN");
  Dims dims = reduction_dims(x, dims_in, "norm");
  ReduceGeometry g = reduce_geometry(x, dims, keepdim);
  const NormKind kind = norm_kind(p);
  Tensor out = empty(g.out_shape, x.dtype());
  MINIDL_DISPATCH_FLOATING(x.dtype(), "norm", {
    ReduceRows<scalar_t> rows(x, g);
    scalar_t* po = out.data_ptr<scalar_t>();
    rows.for_each_output([&](int64_t m, const ReduceRow<scalar_t>& row) {
      po[m] = static_cast<scalar_t>(norm_of_row(row, kind, p));
    });
  });
  if (!needs_grad({x})) return out;
  Shape keep_shape = keepdim_shape(x.shape(), dims);
  // out = ||x||_p over dims ;  dx = dout sign(x) |x|^(p-1) / out^(p-1)  (general p; cases below)
  // derivation: out = (Σ |x|^p)^(1/p), d out / d x_i = (1/p) out^(1-p) p |x_i|^(p-1) sign(x_i)
  // p = 0:    out = #{x != 0} ;             no gradient (piecewise constant)
  // p = 1:    out = sum |x| ;               dx = dout sign(x)
  // p = 2:    out = sqrt(sum x^2) ;         dx = dout x / out                  (0 where out = 0)
  // p = inf:  out = max |x| ;               dx = dout sign(x) / k at the k maxima of |x|
  // p = -inf: out = min |x| ;               dx = dout sign(x) / k at the k minima of |x|
  // other p:  out = (sum |x|^p)^(1/p) ;     dx = dout sign(x) |x|^(p-1) / out^(p-1)  (0 where
  //                                              out = 0 or x = 0)
  record("NormBackward1", out, {x},
         [saved_x = SavedTensor(x), saved_out = SavedTensor(out), keep_shape, dims, kind,
          p](const Tensor& grad) {
           const Tensor& x = saved_x.get();
           const Tensor& out = saved_out.get();
           if (GradMode::is_enabled() && kind != NormKind::Zero) {  // create_graph: recorded
             if (kind == NormKind::Inf || kind == NormKind::NegInf)
               return GradList{detail::ties_grad(grad, x, out, dims, true)};
             return GradList{detail::norm_grad(grad, x, out, dims, p)};
           }
           switch (kind) {
             case NormKind::Zero:
               return GradList{Tensor()};
             case NormKind::One:
               return GradList{binary_map(x, grad.reshape(keep_shape),
                                          [](auto v, auto s) { return sign(v) * s; })};
             case NormKind::Two: {
               Tensor scale = output_scale(grad, out, keep_shape, [](auto dout, auto n) {
                 return n == 0 ? decltype(dout)(0) : dout / n;
               });
               return GradList{binary_map(x, scale, [](auto v, auto s) { return v * s; })};
             }
             case NormKind::Inf:
             case NormKind::NegInf:
               return GradList{split_among_ties(grad, x, out, dims, true)};
             case NormKind::General:
               break;
           }
           Tensor scale = output_scale(grad, out, keep_shape, [p](auto dout, auto n) {
             using T = decltype(dout);
             return n == 0 ? T(0) : static_cast<T>(dout / std::pow(n, p - 1));
           });
           return GradList{binary_map(x, scale, [p](auto v, auto s) {
             using T = decltype(v);
             if (v == 0) return T(0);
             return static_cast<T>(sign(v) * std::pow(std::abs(v), p - 1) * s);
           })};
         })
      ->twice_differentiable = true;
  return out;
}

// ---------------------------------------------------------------- Tensor methods

Tensor Tensor::var(const std::vector<int64_t>& dims, int64_t correction, bool keepdim) const {
  return minidl::var(*this, dims, correction, keepdim);
}
Tensor Tensor::std(const std::vector<int64_t>& dims, int64_t correction, bool keepdim) const {
  return minidl::std(*this, dims, correction, keepdim);
}
Tensor Tensor::max() const {
  return minidl::max(*this);
}
std::pair<Tensor, Tensor> Tensor::max(int64_t dim, bool keepdim) const {
  return minidl::max(*this, dim, keepdim);
}
Tensor Tensor::min() const {
  return minidl::min(*this);
}
std::pair<Tensor, Tensor> Tensor::min(int64_t dim, bool keepdim) const {
  return minidl::min(*this, dim, keepdim);
}
Tensor Tensor::argmax(std::optional<int64_t> dim, bool keepdim) const {
  return minidl::argmax(*this, dim, keepdim);
}
Tensor Tensor::argmin(std::optional<int64_t> dim, bool keepdim) const {
  return minidl::argmin(*this, dim, keepdim);
}
Tensor Tensor::logsumexp(const std::vector<int64_t>& dims, bool keepdim) const {
  return minidl::logsumexp(*this, dims, keepdim);
}
Tensor Tensor::norm(double p, const std::vector<int64_t>& dims, bool keepdim) const {
  return minidl::norm(*this, p, dims, keepdim);
}

}  // namespace minidl
