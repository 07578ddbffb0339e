// Composed (recorded, differentiable) backward of max/min, var/std, logsumexp and norm; see
// ops/reduction_grad.h. Masks (ties, zeros, signs) are constants: the functions are piecewise
// smooth, and their derivatives are taken within a piece, as PyTorch does.
#include "ops/reduction_grad.h"

#include <limits>

#include "core/factories.h"
#include "ops/compare.h"
#include "ops/elementwise.h"
#include "ops/index_ops.h"

namespace minidl::detail {

namespace {

Shape keep_shape(const Shape& in_shape, const Dims& dims) {
  Shape shape = in_shape;
  for (int64_t d : dims) shape[d] = 1;
  return shape;
}

// 1 where t == 0, else 0, in t's dtype (a constant).
Tensor zero_mask(const Tensor& t) {
  return eq(t, 0.0).to(t.dtype());
}

// num / den with 0 wherever den == 0.
Tensor safe_divide(const Tensor& num, const Tensor& den) {
  const Tensor zero = zero_mask(den);
  return num / (den + zero) * (1.0 - zero);
}

// sign(x), a constant.
Tensor sign_of(const Tensor& x) {
  return gt(x, 0.0).to(x.dtype()) - lt(x, 0.0).to(x.dtype());
}

}  // namespace

Tensor ties_grad(const Tensor& grad, const Tensor& x, const Tensor& out, const Dims& dims,
                 bool by_abs) {
  const Shape shape = keep_shape(x.shape(), dims);
  const Tensor o = out.reshape(shape), a = by_abs ? x.abs() : x;
  const Tensor ties =
      logical_or(eq(a, o), logical_and(ne(a, a), ne(o, o))).to(x.dtype());  // NaN matches NaN
  Tensor dx = ties * (grad.reshape(shape) / sum(ties, dims, true));
  return by_abs ? dx * sign_of(x) : dx;
}

Tensor indices_grad(const Tensor& grad, const Tensor& indices, const Shape& in_shape,
                    const Dims& dims) {
  if (dims.empty()) return grad.reshape(in_shape);  // a 0-d input: its only element
  const Shape shape = keep_shape(in_shape, dims);
  return scatter_add(zeros(in_shape, grad.dtype()), dims[0], indices.reshape(shape),
                     grad.reshape(shape));
}

Tensor variance_grad(const Tensor& grad, const Tensor& x, const Tensor& out, const Dims& dims,
                     double divisor, bool take_sqrt) {
  const Shape shape = keep_shape(x.shape(), dims);
  const Tensor centered = x - x.mean(dims, true);
  if (!take_sqrt) return centered * (grad.reshape(shape) * (2.0 / divisor));
  return centered * safe_divide(grad.reshape(shape), out.reshape(shape) * divisor);
}

Tensor logsumexp_grad(const Tensor& grad, const Tensor& x, const Tensor& out, const Dims& dims) {
  const Shape shape = keep_shape(x.shape(), dims);
  const Tensor o = out.reshape(shape);
  const Tensor empty_row = eq(o, -std::numeric_limits<double>::infinity());
  const Tensor shift = where(empty_row, 0.0, o);  // exp(-inf - 0) = 0 in those rows
  return grad.reshape(shape) * exp(x - shift);
}

Tensor norm_grad(const Tensor& grad, const Tensor& x, const Tensor& out, const Dims& dims,
                 double p) {
  const Shape shape = keep_shape(x.shape(), dims);
  const Tensor g = grad.reshape(shape), o = out.reshape(shape);
  if (p == 1) return g * sign_of(x);
  if (p == 2) return x * safe_divide(g, o);
  const Tensor zero_x = zero_mask(x);
  const Tensor magnitude = (x.abs() + zero_x).pow(p - 1) * (1.0 - zero_x);
  return sign_of(x) * magnitude * safe_divide(g, o.pow(p - 1));
}

}  // namespace minidl::detail
