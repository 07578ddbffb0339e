// Comparisons, logical ops, where and masked_fill.
#include "ops/compare.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include "core/autograd.h"
#include "core/factories.h"
#include "ops/elementwise.h"
#include "ops/loops.h"
#include "ops/reduction.h"

namespace minidl {

namespace {

// out (bool) = f(a, b) over the broadcast shape, comparing in the promoted dtype.
template <typename F>
Tensor compare(const Tensor& a, const Tensor& b, const char* op, F f) {
  Shape shape = a.shape() == b.shape() ? a.shape() : broadcast_shapes(a.shape(), b.shape(), op);
  DType dt = result_type(a, b);
  Tensor ca = a.dtype() == dt ? a : a.detach().to(dt);
  Tensor cb = b.dtype() == dt ? b : b.detach().to(dt);
  Tensor out = empty(shape, kBool);
  MINIDL_DISPATCH_ALL(dt, op, binary_loop<bool, scalar_t, scalar_t>(out, ca, cb, f));
  return out;
}

// The scalar as a 0-d tensor of a's dtype (or float64 when a is integral and s is fractional,
// so that comparing an int tensor with 0.5 is exact).
Tensor scalar_like(const Tensor& a, double s) {
  DType dt = a.dtype();
  const bool whole = std::isfinite(s) && s == std::floor(s) && std::fabs(s) < 9.2e18;
  if (!a.is_floating_point() && !whole) dt = kFloat64;
  if (dt == kBool) dt = kInt64;
  return full({}, s, dt);
}

// x != 0 as a bool tensor (x itself if already bool).
Tensor truth(const Tensor& x, const char* op) {
  if (x.dtype() == kBool) return x;
  return compare(x, full({}, 0.0, x.dtype()), op, [](auto v, auto zero) { return v != zero; });
}

// A scalar branch of `where` as a 0-d tensor: the tensor's dtype, or float32 when the tensor is
// integral and the scalar fractional (PyTorch's promotion).
Tensor where_scalar(const Tensor& other, double s) {
  DType dt = other.dtype();
  const bool whole = std::isfinite(s) && s == std::floor(s) && std::fabs(s) < 9.2e18;
  if (!other.is_floating_point() && !whole) dt = kFloat32;
  return full({}, s, dt);
}

}  // namespace

Tensor eq(const Tensor& a, const Tensor& b) {
  return compare(a, b, "eq", [](auto x, auto y) { return x == y; });
}
Tensor ne(const Tensor& a, const Tensor& b) {
  return compare(a, b, "ne", [](auto x, auto y) { return x != y; });
}
Tensor lt(const Tensor& a, const Tensor& b) {
  return compare(a, b, "lt", [](auto x, auto y) { return x < y; });
}
Tensor le(const Tensor& a, const Tensor& b) {
  return compare(a, b, "le", [](auto x, auto y) { return x <= y; });
}
Tensor gt(const Tensor& a, const Tensor& b) {
  return compare(a, b, "gt", [](auto x, auto y) { return x > y; });
}
Tensor ge(const Tensor& a, const Tensor& b) {
  return compare(a, b, "ge", [](auto x, auto y) { return x >= y; });
}
Tensor eq(const Tensor& a, double b) {
  return eq(a, scalar_like(a, b));
}
Tensor ne(const Tensor& a, double b) {
  return ne(a, scalar_like(a, b));
}
Tensor lt(const Tensor& a, double b) {
  return lt(a, scalar_like(a, b));
}
Tensor le(const Tensor& a, double b) {
  return le(a, scalar_like(a, b));
}
Tensor gt(const Tensor& a, double b) {
  return gt(a, scalar_like(a, b));
}
Tensor ge(const Tensor& a, double b) {
  return ge(a, scalar_like(a, b));
}

Tensor operator==(const Tensor& a, const Tensor& b) {
  return eq(a, b);
}
Tensor operator!=(const Tensor& a, const Tensor& b) {
  return ne(a, b);
}
Tensor operator<(const Tensor& a, const Tensor& b) {
  return lt(a, b);
}
Tensor operator<=(const Tensor& a, const Tensor& b) {
  return le(a, b);
}
Tensor operator>(const Tensor& a, const Tensor& b) {
  return gt(a, b);
}
Tensor operator>=(const Tensor& a, const Tensor& b) {
  return ge(a, b);
}
Tensor operator==(const Tensor& a, double b) {
  return eq(a, b);
}
Tensor operator!=(const Tensor& a, double b) {
  return ne(a, b);
}
Tensor operator<(const Tensor& a, double b) {
  return lt(a, b);
}
Tensor operator<=(const Tensor& a, double b) {
  return le(a, b);
}
Tensor operator>(const Tensor& a, double b) {
  return gt(a, b);
}
Tensor operator>=(const Tensor& a, double b) {
  return ge(a, b);
}

Tensor logical_and(const Tensor& a, const Tensor& b) {
  return compare(truth(a, "logical_and"), truth(b, "logical_and"), "logical_and",
                 [](bool x, bool y) { return x && y; });
}
Tensor logical_or(const Tensor& a, const Tensor& b) {
  return compare(truth(a, "logical_or"), truth(b, "logical_or"), "logical_or",
                 [](bool x, bool y) { return x || y; });
}
Tensor logical_xor(const Tensor& a, const Tensor& b) {
  return compare(truth(a, "logical_xor"), truth(b, "logical_xor"), "logical_xor",
                 [](bool x, bool y) { return x != y; });
}
Tensor logical_not(const Tensor& a) {
  Tensor t = truth(a, "logical_not");
  Tensor out = empty(t.shape(), kBool);
  unary_loop<bool, bool>(out, t, [](bool v) { return !v; });
  return out;
}
Tensor operator!(const Tensor& a) {
  return logical_not(a);
}

namespace {
// out = f(a, b) in the promoted dtype, which must be bool or int64.
template <typename F>
Tensor bitwise(const Tensor& a, const Tensor& b, const char* op, F f) {
  DType dt = result_type(a, b);
  MINIDL_CHECK(dt == kBool || dt == kInt64, op,
               "expects bool or integer tensors, got " << a.dtype() << " and " << b.dtype());
  Shape shape = a.shape() == b.shape() ? a.shape() : broadcast_shapes(a.shape(), b.shape(), op);
  Tensor ca = a.dtype() == dt ? a : a.to(dt);
  Tensor cb = b.dtype() == dt ? b : b.to(dt);
  Tensor out = empty(shape, dt);
  if (dt == kBool) {
    binary_loop<bool, bool, bool>(out, ca, cb, [f](bool x, bool y) { return bool(f(x, y)); });
  } else {
    binary_loop<int64_t, int64_t, int64_t>(out, ca, cb, f);
  }
  return out;
}
}  // namespace

Tensor bitwise_not(const Tensor& a) {
  MINIDL_CHECK(a.dtype() == kBool || a.dtype() == kInt64, "bitwise_not",
               "expects a bool or integer tensor, got " << a.dtype());
  if (a.dtype() == kBool) return logical_not(a);
  Tensor out = empty(a.shape(), kInt64);
  unary_loop<int64_t, int64_t>(out, a, [](int64_t v) { return ~v; });
  return out;
}
Tensor bitwise_and(const Tensor& a, const Tensor& b) {
  return bitwise(a, b, "bitwise_and", [](auto x, auto y) { return x & y; });
}
Tensor bitwise_or(const Tensor& a, const Tensor& b) {
  return bitwise(a, b, "bitwise_or", [](auto x, auto y) { return x | y; });
}
Tensor bitwise_xor(const Tensor& a, const Tensor& b) {
  return bitwise(a, b, "bitwise_xor", [](auto x, auto y) { return x ^ y; });
}
Tensor operator~(const Tensor& a) {
  return bitwise_not(a);
}
Tensor operator&(const Tensor& a, const Tensor& b) {
  return bitwise_and(a, b);
}
Tensor operator|(const Tensor& a, const Tensor& b) {
  return bitwise_or(a, b);
}
Tensor operator^(const Tensor& a, const Tensor& b) {
  return bitwise_xor(a, b);
}

Tensor where(const Tensor& condition, const Tensor& a, const Tensor& b) {
  MINIDL_CHECK(condition.dtype() == kBool, "where",
               "condition must be a bool tensor, got " << condition.dtype());
  Shape shape =
      broadcast_shapes(broadcast_shapes(condition.shape(), a.shape(), "where"), b.shape(), "where");
  DType dt = result_type(a, b);
  Tensor ca = a.dtype() == dt ? a : a.detach().to(dt);
  Tensor cb = b.dtype() == dt ? b : b.detach().to(dt);
  Tensor out = empty(shape, dt);
  MINIDL_DISPATCH_ALL(
      dt, "where",
      ternary_loop<scalar_t, bool, scalar_t, scalar_t>(
          out, condition, ca, cb, [](bool c, scalar_t x, scalar_t y) { return c ? x : y; }));
  // out = c ? a : b ;  da = dout where c (else 0) ,  db = dout where !c (else 0)
  if (needs_grad({a, b})) {
    bool ga = a.requires_grad(), gb = b.requires_grad();
    Shape sa = a.shape(), sb = b.shape();
    SavedTensor saved_c(condition);
    record("WhereBackward0", out, {a, b}, [=](const Tensor& g) {
      const Tensor& c = saved_c.get();
      Tensor zero = zeros({}, g.dtype());
      return GradList{ga ? sum_to(where(c, g, zero), sa) : Tensor(),
                      gb ? sum_to(where(c, zero, g), sb) : Tensor()};
    })->twice_differentiable = true;
  }
  return out;
}

Tensor where(const Tensor& condition, const Tensor& a, double b) {
  return where(condition, a, where_scalar(a, b));
}
Tensor where(const Tensor& condition, double a, const Tensor& b) {
  return where(condition, where_scalar(b, a), b);
}

Tensor masked_fill(const Tensor& x, const Tensor& mask, double value) {
  MINIDL_CHECK(mask.dtype() == kBool, "masked_fill",
               "mask must be a bool tensor, got " << mask.dtype());
  Shape shape = broadcast_shapes(x.shape(), mask.shape(), "masked_fill");
  MINIDL_CHECK(shape == x.shape(), "masked_fill",
               "mask of shape " << shape_str(mask.shape()) << " does not broadcast to input shape "
                                << shape_str(x.shape()));
  MINIDL_CHECK(x.is_floating_point() || (std::isfinite(value) && std::fabs(value) < 9.2e18),
               "masked_fill",
               "value " << value << " cannot be converted to the input's dtype " << x.dtype());
  return where(mask, full({}, value, x.dtype()), x);
}

Tensor Tensor::eq(const Tensor& other) const {
  return minidl::eq(*this, other);
}
Tensor Tensor::ne(const Tensor& other) const {
  return minidl::ne(*this, other);
}
Tensor Tensor::lt(const Tensor& other) const {
  return minidl::lt(*this, other);
}
Tensor Tensor::le(const Tensor& other) const {
  return minidl::le(*this, other);
}
Tensor Tensor::gt(const Tensor& other) const {
  return minidl::gt(*this, other);
}
Tensor Tensor::ge(const Tensor& other) const {
  return minidl::ge(*this, other);
}
Tensor Tensor::eq(double other) const {
  return minidl::eq(*this, other);
}
Tensor Tensor::ne(double other) const {
  return minidl::ne(*this, other);
}
Tensor Tensor::lt(double other) const {
  return minidl::lt(*this, other);
}
Tensor Tensor::le(double other) const {
  return minidl::le(*this, other);
}
Tensor Tensor::gt(double other) const {
  return minidl::gt(*this, other);
}
Tensor Tensor::ge(double other) const {
  return minidl::ge(*this, other);
}
Tensor Tensor::bitwise_not() const {
  return minidl::bitwise_not(*this);
}

bool Tensor::allclose(const Tensor& other, double rtol, double atol, bool equal_nan) const {
  const Shape shape = broadcast_shapes(this->shape(), other.shape(), "allclose");
  // Compared in float64 (every minidl dtype converts to it exactly but large int64s).
  std::vector<double> a = expand(shape).to_vector<double>(),
                      b = other.expand(shape).to_vector<double>();
  for (size_t i = 0; i < a.size(); ++i) {
    if (std::isnan(a[i]) || std::isnan(b[i])) {
      if (equal_nan && std::isnan(a[i]) && std::isnan(b[i])) continue;
      return false;
    }
    if (a[i] == b[i]) continue;  // equal infinities
    if (!(std::fabs(a[i] - b[i]) <= atol + rtol * std::fabs(b[i]))) return false;
  }
  return true;
}

bool Tensor::equal(const Tensor& other) const {
  if (shape() != other.shape()) return false;
  const std::vector<bool> same = minidl::eq(*this, other).to_vector<bool>();
  return std::all_of(same.begin(), same.end(), [](bool v) { return v; });
}

Tensor Tensor::logical_not() const {
  return minidl::logical_not(*this);
}
Tensor Tensor::masked_fill(const Tensor& mask, double value) const {
  return minidl::masked_fill(*this, mask, value);
}

}  // namespace minidl
