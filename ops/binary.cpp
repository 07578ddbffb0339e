// Binary arithmetic: add, sub, mul, div, pow, maximum, minimum (tensor-tensor with broadcasting,
// and tensor-scalar), and the C++ operators. Each op's backward sits right below its forward.
#include <cmath>
#include <type_traits>

#include "core/autograd.h"
#include "core/factories.h"
#include "ops/compare.h"
#include "ops/elementwise.h"
#include "ops/loops.h"
#include "ops/reduction.h"

namespace minidl {

DType result_type(const Tensor& a, const Tensor& b) {
  return promote_types(a.dtype(), b.dtype());
}

namespace {

// Arithmetic dtype: bool computes as int64; true division and fractional scalars need floats.
DType arithmetic_type(DType d) {
  return d == kBool ? kInt64 : d;
}
DType floating_type(DType d) {
  return is_floating_point(d) ? d : kFloat32;
}
// A whole number that int64 can hold (converting anything else to int64 is undefined).
bool is_integral_value(double s) {
  return std::isfinite(s) && s == std::floor(s) && std::fabs(s) < 9.2e18;
}
// A scalar keeps an integral tensor integral only if it is a whole number (int64 * 2 stays
// int64, int64 * 0.5 is float32), as a Python int vs float scalar does in PyTorch.
DType scalar_result_type(DType d, double s) {
  if (is_floating_point(d)) return d;
  return is_integral_value(s) ? kInt64 : kFloat32;
}

// x converted to dtype d, without a tape entry (the op records its own).
Tensor cast(const Tensor& x, DType d) {
  if (x.dtype() == d) return x;
  Tensor out = empty(x.shape(), d);
  copy_data(out, x);
  return out;
}

// out = f(a, b) elementwise over the broadcast shape, computed in dtype `dt`.
template <typename F>
Tensor binary_op(const Tensor& a, const Tensor& b, DType dt, const char* op, F f) {
  const Shape shape =
      a.shape() == b.shape() ? a.shape() : broadcast_shapes(a.shape(), b.shape(), op);
  Tensor out = empty(shape, dt);
  Tensor ca = cast(a, dt), cb = cast(b, dt);
  MINIDL_DISPATCH_NUMERIC(dt, op, binary_loop<scalar_t, scalar_t, scalar_t>(out, ca, cb, f));
  return out;
}

// out = f(a) elementwise with a scalar folded into f, computed in dtype `dt`. f receives the
// element and the scalar converted to the element type (float32 arithmetic stays float32, as
// in PyTorch, and vectorizes at full width).
template <typename F>
Tensor scalar_op(const Tensor& a, double s, DType dt, const char* op, F f) {
  Tensor out = empty(a.shape(), dt);
  Tensor ca = cast(a, dt);
  MINIDL_DISPATCH_NUMERIC(dt, op, {
    const scalar_t sv = static_cast<scalar_t>(s);
    unary_loop<scalar_t, scalar_t>(out, ca, [sv, f](scalar_t x) { return f(x, sv); });
  });
  return out;
}

// base^exponent for integers, as PyTorch: a negative exponent gives 0 unless |base| == 1.
int64_t int_pow(int64_t base, int64_t exponent) {
  if (exponent < 0) {
    if (base == 1) return 1;
    if (base == -1) return (exponent & 1) ? -1 : 1;
    return 0;
  }
  // In uint64: an overflow wraps around (as PyTorch's) instead of being undefined.
  uint64_t result = 1, factor = static_cast<uint64_t>(base);
  while (exponent > 0) {
    if (exponent & 1) result *= factor;
    exponent >>= 1;
    if (exponent > 0) factor *= factor;
  }
  return static_cast<int64_t>(result);
}

template <typename T>
T pow_value(T base, T exponent) {
  if constexpr (std::is_floating_point<T>::value) {
    return std::pow(base, exponent);
  } else {
    return int_pow(base, exponent);
  }
}

// An integer base to a negative integer power has an integer result only for a base of 1 or -1;
// anything else (2^-1 = 0.5) is refused rather than truncated to a silent 0 (the scalar form
// refuses every negative exponent, as PyTorch's does). PyTorch's tensor form returns the 0.
void check_integer_exponents(const Tensor& base, const Tensor& exponent, DType result,
                             const char* op) {
  if (is_floating_point(result) || exponent.dtype() != kInt64 || exponent.numel() == 0) return;
  if (min(exponent).item<int64_t>() >= 0) return;
  const Tensor inexact = logical_and(lt(exponent, 0.0), logical_and(ne(base, 1.0), ne(base, -1.0)));
  MINIDL_CHECK(max(inexact.to(kInt64)).item<int64_t>() == 0, op,
               "an integer base other than 1 and -1 to a negative integer power is not an integer "
               "(int64 base "
                   << shape_str(base.shape()) << ", exponent " << shape_str(exponent.shape())
                   << "); convert the base to float first");
}

bool wants(const Tensor& t) {
  return t.requires_grad();
}

}  // namespace

// ---------------------------------------------------------------- tensor op tensor

namespace {
// a + alpha b under the user's op name (sub passes -alpha).
Tensor add_impl(const Tensor& a, const Tensor& b, double alpha, const char* op,
                const char* backward_name) {
  DType dt = arithmetic_type(result_type(a, b));
  MINIDL_CHECK(is_floating_point(dt) || is_integral_value(alpha), op,
               "alpha must be a whole number for integral inputs (" << a.dtype() << " and "
                                                                    << b.dtype() << ")");
  Tensor out;
  if (alpha == 1.0) {
    out = binary_op(a, b, dt, op, [](auto x, auto y) { return x + y; });
  } else {
    out = binary_op(a, b, dt, op, [alpha](auto x, auto y) {
      using T = decltype(x);
      return static_cast<T>(x + static_cast<T>(alpha) * y);
    });
  }
  // da = dout ,  db = alpha dout, each summed back to its input's shape (sum_to)
  if (needs_grad({a, b})) {
    bool ga = wants(a), gb = wants(b);
    Shape sa = a.shape(), sb = b.shape();
    record(backward_name, out, {a, b}, [=](const Tensor& g) {
      return GradList{ga ? sum_to(g, sa) : Tensor(),
                      gb ? sum_to(alpha == 1.0 ? g : g * alpha, sb) : Tensor()};
    })->twice_differentiable = true;
  }
  return out;
}
}  // namespace

// out = a + alpha b ;  da = dout ,  db = alpha dout   (each summed back to its shape)
Tensor add(const Tensor& a, const Tensor& b, double alpha) {
  return add_impl(a, b, alpha, "add", "AddBackward0");
}
// out = a - alpha b ;  da = dout ,  db = -alpha dout   (each summed back to its shape)
Tensor sub(const Tensor& a, const Tensor& b, double alpha) {
  return add_impl(a, b, -alpha, "sub", "SubBackward0");
}

Tensor mul(const Tensor& a, const Tensor& b) {
  DType dt = arithmetic_type(result_type(a, b));
  Tensor out = binary_op(a, b, dt, "mul", [](auto x, auto y) { return x * y; });
  // out = a * b ;  da = dout * b ,  db = dout * a
  if (needs_grad({a, b})) {
    bool ga = wants(a), gb = wants(b);
    Shape sa = a.shape(), sb = b.shape();
    SavedTensor saved_a(gb ? a : Tensor()), saved_b(ga ? b : Tensor());
    record("MulBackward0", out, {a, b}, [=](const Tensor& g) {
      return GradList{ga ? sum_to(g * saved_b.get(), sa) : Tensor(),
                      gb ? sum_to(g * saved_a.get(), sb) : Tensor()};
    })->twice_differentiable = true;
  }
  return out;
}

Tensor div(const Tensor& a, const Tensor& b) {
  DType dt = floating_type(result_type(a, b));
  Tensor out = binary_op(a, b, dt, "div", [](auto x, auto y) { return x / y; });
  // out = a / b ;  da = dout / b ,  db = -dout * a / b^2 = -dout * out / b
  if (needs_grad({a, b})) {
    bool ga = wants(a), gb = wants(b);
    Shape sa = a.shape(), sb = b.shape();
    SavedTensor saved_b(b), saved_out(gb ? out : Tensor());
    record("DivBackward0", out, {a, b}, [=](const Tensor& g) {
      const Tensor& vb = saved_b.get();
      return GradList{ga ? sum_to(g / vb, sa) : Tensor(),
                      gb ? sum_to(-(g * saved_out.get()) / vb, sb) : Tensor()};
    })->twice_differentiable = true;
  }
  return out;
}

Tensor pow(const Tensor& a, const Tensor& b) {
  DType dt = arithmetic_type(result_type(a, b));  // int64 ^ int64 stays int64, as in PyTorch
  check_integer_exponents(a, b, dt, "pow");
  Tensor out = binary_op(a, b, dt, "pow", [](auto x, auto y) { return pow_value(x, y); });
  // out = a^b ;  da = dout * b * a^(b-1)  (0 where b == 0) ,
  //              db = dout * out * log(a)  (0 where a == 0 and b >= 0: the limit, as PyTorch)
  if (needs_grad({a, b})) {
    bool ga = wants(a), gb = wants(b);
    Shape sa = a.shape(), sb = b.shape();
    SavedTensor saved_a(a), saved_b(b), saved_out(gb ? out : Tensor());
    record("PowBackward1", out, {a, b}, [=](const Tensor& g) {
      const Tensor& va = saved_a.get();
      const Tensor& vb = saved_b.get();
      Tensor da, db;
      if (ga) da = sum_to(where(eq(vb, 0.0), 0.0, g * vb * pow(va, vb - 1.0)), sa);
      if (gb) {
        Tensor zero_limit = logical_and(eq(va, 0.0), ge(vb, 0.0));
        Tensor log_a = log(va.is_floating_point() ? va : va.to(g.dtype()));  // int64 bases
        db = sum_to(where(zero_limit, 0.0, g * saved_out.get() * log_a), sb);
      }
      return GradList{da, db};
    })->twice_differentiable = true;
  }
  return out;
}

namespace {
// maximum / minimum: the gradient goes to the chosen input; on ties it is split evenly.
Tensor extremum(const Tensor& a, const Tensor& b, bool is_max, const char* op, const char* name) {
  DType dt = arithmetic_type(result_type(a, b));
  Tensor out =
      is_max ? binary_op(a, b, dt, op,
                         [](auto x, auto y) {
                           return (x != x || x > y) ? x : y;  // NaN propagates, as in PyTorch
                         })
             : binary_op(a, b, dt, op, [](auto x, auto y) { return (x != x || x < y) ? x : y; });
  // For maximum: da = dout * ([a > b] + [a == b] / 2) ,  db = dout * ([b > a] + [a == b] / 2)
  // (as PyTorch: an input gets the whole dout unless it loses, so where a NaN is involved both do)
  if (needs_grad({a, b})) {
    bool ga = wants(a), gb = wants(b);
    Shape sa = a.shape(), sb = b.shape();
    SavedTensor saved_a(a), saved_b(b);
    record(name, out, {a, b}, [=](const Tensor& g) {
      const Tensor& va = saved_a.get();
      const Tensor& vb = saved_b.get();
      // share(x, y): x's part of dout when x is compared with y
      auto share = [&](const Tensor& x, const Tensor& y) {
        return binary_op(x, y, g.dtype(), op, [is_max](auto u, auto v) {
          using T = decltype(u);
          if (u == v) return T(0.5);
          return (is_max ? u < v : u > v) ? T(0) : T(1);
        });
      };
      return GradList{ga ? sum_to(g * share(va, vb), sa) : Tensor(),
                      gb ? sum_to(g * share(vb, va), sb) : Tensor()};
    })->twice_differentiable = true;
  }
  return out;
}
}  // namespace

// out = max(a, b) ;  da = dout * ([a > b] + [a == b] / 2) ,  db = dout * ([b > a] + [a == b] / 2)
Tensor maximum(const Tensor& a, const Tensor& b) {
  return extremum(a, b, true, "maximum", "MaximumBackward0");
}
// out = min(a, b) ;  da = dout * ([a < b] + [a == b] / 2) ,  db = dout * ([b < a] + [a == b] / 2)
Tensor minimum(const Tensor& a, const Tensor& b) {
  return extremum(a, b, false, "minimum", "MinimumBackward0");
}

// ---------------------------------------------------------------- tensor op scalar

Tensor add(const Tensor& a, double s) {
  DType dt = scalar_result_type(arithmetic_type(a.dtype()), s);
  Tensor out = scalar_op(a, s, dt, "add", [](auto x, auto v) { return x + v; });
  // out = a + s ;  da = dout
  if (needs_grad({a}))
    record("AddBackward1", out, {a}, [](const Tensor& g) {
      return GradList{g};
    })->twice_differentiable = true;
  return out;
}

Tensor sub(const Tensor& a, double s) {
  DType dt = scalar_result_type(arithmetic_type(a.dtype()), s);
  Tensor out = scalar_op(a, s, dt, "sub", [](auto x, auto v) { return x - v; });
  // out = a - s ;  da = dout
  if (needs_grad({a}))
    record("SubBackward1", out, {a}, [](const Tensor& g) {
      return GradList{g};
    })->twice_differentiable = true;
  return out;
}

Tensor rsub(const Tensor& a, double s) {
  DType dt = scalar_result_type(arithmetic_type(a.dtype()), s);
  Tensor out = scalar_op(a, s, dt, "rsub", [](auto x, auto v) { return v - x; });
  // out = s - a ;  da = -dout
  if (needs_grad({a}))
    record("RsubBackward1", out, {a}, [](const Tensor& g) {
      return GradList{-g};
    })->twice_differentiable = true;
  return out;
}

Tensor mul(const Tensor& a, double s) {
  DType dt = scalar_result_type(arithmetic_type(a.dtype()), s);
  Tensor out = scalar_op(a, s, dt, "mul", [](auto x, auto v) { return x * v; });
  // out = a * s ;  da = dout * s
  if (needs_grad({a}))
    record("MulBackward1", out, {a}, [s](const Tensor& g) {
      return GradList{g * s};
    })->twice_differentiable = true;
  return out;
}

Tensor div(const Tensor& a, double s) {
  DType dt = floating_type(a.dtype());
  Tensor out = scalar_op(a, s, dt, "div", [](auto x, auto v) { return x / v; });
  // out = a / s ;  da = dout / s
  if (needs_grad({a}))
    record("DivBackward1", out, {a}, [s](const Tensor& g) {
      return GradList{g / s};
    })->twice_differentiable = true;
  return out;
}

Tensor rdiv(const Tensor& a, double s) {
  DType dt = floating_type(a.dtype());
  Tensor out = scalar_op(a, s, dt, "rdiv", [](auto x, auto v) { return v / x; });
  // out = s / a ;  da = -dout * s / a^2 = -dout * out / a
  if (needs_grad({a})) {
    SavedTensor saved_a(a), saved_out(out);
    record("RdivBackward0", out, {a}, [=](const Tensor& g) {
      return GradList{-(g * saved_out.get()) / saved_a.get()};
    })->twice_differentiable = true;
  }
  return out;
}

Tensor pow(const Tensor& a, double p) {
  DType dt = scalar_result_type(arithmetic_type(a.dtype()), p);
  MINIDL_CHECK(is_floating_point(dt) || p >= 0, "pow",
               "integers to negative integer powers are not allowed ("
                   << a.dtype() << " tensor to the power " << p << ")");
  Tensor out = scalar_op(a, p, dt, "pow", [p](auto x, auto v) {
    using T = decltype(x);
    if (p == 2.0) return static_cast<T>(x * x);
    return pow_value(x, v);
  });
  // out = a^p ;  da = dout * p * a^(p-1)
  if (needs_grad({a})) {
    SavedTensor saved_a(a);
    record("PowBackward0", out, {a}, [=](const Tensor& g) {
      if (p == 0.0) return GradList{zeros_like(g)};
      if (p == 1.0) return GradList{g};
      if (p == 2.0) return GradList{g * saved_a.get() * 2.0};
      return GradList{g * pow(saved_a.get(), p - 1.0) * p};
    })->twice_differentiable = true;
  }
  return out;
}

Tensor pow(double base, const Tensor& x) {
  DType dt = scalar_result_type(arithmetic_type(x.dtype()), base);
  MINIDL_CHECK(is_floating_point(dt) || base == 1.0 || base == -1.0 || x.numel() == 0 ||
                   min(x).item<int64_t>() >= 0,
               "pow",
               "the integer " << base << " to a negative integer power is not an integer "
                              << "(int64 exponent " << shape_str(x.shape())
                              << "); use a float base or exponent");
  Tensor out = scalar_op(x, base, dt, "pow", [](auto e, auto b) { return pow_value(b, e); });
  // out = base^x ;  dx = dout * out * log(base)   (0 where base == 0 and x >= 0, as PyTorch)
  if (needs_grad({x})) {
    SavedTensor saved_x(base == 0.0 ? x : Tensor()), saved_out(out);
    double log_base = std::log(base);
    record("PowBackward1", out, {x}, [=](const Tensor& g) {
      Tensor dx = g * saved_out.get() * log_base;
      if (base == 0.0) dx = where(ge(saved_x.get(), 0.0), 0.0, dx);
      return GradList{dx};
    })->twice_differentiable = true;
  }
  return out;
}

// ---------------------------------------------------------------- operators and methods

Tensor operator+(const Tensor& a, const Tensor& b) {
  return add(a, b);
}
Tensor operator-(const Tensor& a, const Tensor& b) {
  return sub(a, b);
}
Tensor operator*(const Tensor& a, const Tensor& b) {
  return mul(a, b);
}
Tensor operator/(const Tensor& a, const Tensor& b) {
  return div(a, b);
}
Tensor operator+(const Tensor& a, double b) {
  return add(a, b);
}
Tensor operator-(const Tensor& a, double b) {
  return sub(a, b);
}
Tensor operator*(const Tensor& a, double b) {
  return mul(a, b);
}
Tensor operator/(const Tensor& a, double b) {
  return div(a, b);
}
Tensor operator+(double a, const Tensor& b) {
  return add(b, a);
}
Tensor operator-(double a, const Tensor& b) {
  return rsub(b, a);
}
Tensor operator*(double a, const Tensor& b) {
  return mul(b, a);
}
Tensor operator/(double a, const Tensor& b) {
  return rdiv(b, a);
}
Tensor operator-(const Tensor& a) {
  return neg(a);
}

Tensor Tensor::add(const Tensor& other, double alpha) const {
  return minidl::add(*this, other, alpha);
}
Tensor Tensor::sub(const Tensor& other, double alpha) const {
  return minidl::sub(*this, other, alpha);
}
Tensor Tensor::mul(const Tensor& other) const {
  return minidl::mul(*this, other);
}
Tensor Tensor::div(const Tensor& other) const {
  return minidl::div(*this, other);
}
Tensor Tensor::pow(double exponent) const {
  return minidl::pow(*this, exponent);
}
Tensor Tensor::pow(const Tensor& exponent) const {
  return minidl::pow(*this, exponent);
}
Tensor Tensor::maximum(const Tensor& other) const {
  return minidl::maximum(*this, other);
}
Tensor Tensor::minimum(const Tensor& other) const {
  return minidl::minimum(*this, other);
}

}  // namespace minidl
