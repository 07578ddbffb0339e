// Binary arithmetic: add, sub, mul, div, pow, maximum, minimum (tensor-tensor with broadcasting,
// and tensor-scalar), and the C++ operators. Each op's backward sits right below its forward.
#include <cmath>

#include "core/autograd.h"
#include "core/factories.h"
#include "ops/compare.h"
#include "ops/elementwise.h"
#include "ops/loops.h"
#include "ops/reduction.h"

namespace minidl {

DType result_type(const Tensor& a, const Tensor& b) { return promote_types(a.dtype(), b.dtype()); }

namespace {

// Arithmetic dtype: bool computes as int64; true division and fractional scalars need floats.
DType arithmetic_type(DType d) { return d == kBool ? kInt64 : d; }
DType floating_type(DType d) { return is_floating_point(d) ? d : kFloat32; }
DType scalar_result_type(DType d, double s) {
  if (is_floating_point(d)) return d;
  return s == std::floor(s) ? kInt64 : kFloat32;
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
  const Shape& shape = a.shape() == b.shape() ? a.shape() : broadcast_shapes(a.shape(), b.shape(), op);
  Tensor out = empty(shape, dt);
  Tensor ca = cast(a, dt), cb = cast(b, dt);
  MINIDL_DISPATCH_NUMERIC(dt, op, binary_loop<scalar_t, scalar_t, scalar_t>(out, ca, cb, f));
  return out;
}

// out = f(a) elementwise with a scalar folded into f, computed in dtype `dt`.
template <typename F>
Tensor scalar_op(const Tensor& a, DType dt, const char* op, F f) {
  Tensor out = empty(a.shape(), dt);
  Tensor ca = cast(a, dt);
  MINIDL_DISPATCH_NUMERIC(dt, op, unary_loop<scalar_t, scalar_t>(out, ca, f));
  return out;
}

bool wants(const Tensor& t) { return t.requires_grad(); }

}  // namespace

// ---------------------------------------------------------------- tensor op tensor

Tensor add(const Tensor& a, const Tensor& b, double alpha) {
  DType dt = arithmetic_type(result_type(a, b));
  Tensor out = binary_op(a, b, dt, "add", [alpha](auto x, auto y) {
    using T = decltype(x);
    return static_cast<T>(x + static_cast<T>(alpha) * y);
  });
  // out = a + alpha b ;  da = dout ,  db = alpha dout   (each summed back to its shape)
  if (needs_grad({a, b})) {
    bool ga = wants(a), gb = wants(b);
    Shape sa = a.shape(), sb = b.shape();
    record("AddBackward", out, {a, b}, [=](const Tensor& g) {
      return GradList{ga ? sum_to(g, sa) : Tensor(),
                      gb ? sum_to(alpha == 1.0 ? g : g * alpha, sb) : Tensor()};
    });
  }
  return out;
}

Tensor sub(const Tensor& a, const Tensor& b, double alpha) { return add(a, b, -alpha); }

Tensor mul(const Tensor& a, const Tensor& b) {
  DType dt = arithmetic_type(result_type(a, b));
  Tensor out = binary_op(a, b, dt, "mul", [](auto x, auto y) { return x * y; });
  // out = a * b ;  da = dout * b ,  db = dout * a
  if (needs_grad({a, b})) {
    bool ga = wants(a), gb = wants(b);
    Shape sa = a.shape(), sb = b.shape();
    SavedTensor saved_a(gb ? a : Tensor()), saved_b(ga ? b : Tensor());
    record("MulBackward", out, {a, b}, [=](const Tensor& g) {
      return GradList{ga ? sum_to(g * saved_b.get(), sa) : Tensor(),
                      gb ? sum_to(g * saved_a.get(), sb) : Tensor()};
    });
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
    record("DivBackward", out, {a, b}, [=](const Tensor& g) {
      const Tensor& vb = saved_b.get();
      return GradList{ga ? sum_to(g / vb, sa) : Tensor(),
                      gb ? sum_to(-(g * saved_out.get()) / vb, sb) : Tensor()};
    });
  }
  return out;
}

Tensor pow(const Tensor& a, const Tensor& b) {
  DType dt = floating_type(result_type(a, b));
  Tensor out = binary_op(a, b, dt, "pow", [](auto x, auto y) { return std::pow(x, y); });
  // out = a^b ;  da = dout * b * a^(b-1) ,  db = dout * out * log(a)  (taken as 0 where a == 0,
  // the limit for b > 0, as PyTorch does)
  if (needs_grad({a, b})) {
    bool ga = wants(a), gb = wants(b);
    Shape sa = a.shape(), sb = b.shape();
    SavedTensor saved_a(a), saved_b(b), saved_out(gb ? out : Tensor());
    record("PowBackward", out, {a, b}, [=](const Tensor& g) {
      const Tensor& va = saved_a.get();
      const Tensor& vb = saved_b.get();
      Tensor da, db;
      if (ga) da = sum_to(g * vb * pow(va, vb - 1.0), sa);
      if (gb) {
        Tensor log_a = where(eq(va, 0.0), zeros_like(va), log(va));
        db = sum_to(g * saved_out.get() * log_a, sb);
      }
      return GradList{da, db};
    });
  }
  return out;
}

namespace {
// maximum / minimum: the gradient goes to the chosen input; on ties it is split evenly.
Tensor extremum(const Tensor& a, const Tensor& b, bool is_max, const char* op, const char* name) {
  DType dt = arithmetic_type(result_type(a, b));
  Tensor out = is_max ? binary_op(a, b, dt, op, [](auto x, auto y) {
    return (x != x || x > y) ? x : y;  // NaN propagates, as in PyTorch
  })
                      : binary_op(a, b, dt, op, [](auto x, auto y) {
                          return (x != x || x < y) ? x : y;
                        });
  // out = max(a, b) ;  da = dout * [a > b] + dout/2 * [a == b] ,  db likewise
  if (needs_grad({a, b})) {
    bool ga = wants(a), gb = wants(b);
    Shape sa = a.shape(), sb = b.shape();
    SavedTensor saved_a(a), saved_b(b);
    record(name, out, {a, b}, [=](const Tensor& g) {
      const Tensor& va = saved_a.get();
      const Tensor& vb = saved_b.get();
      Tensor a_wins = (is_max ? gt(va, vb) : lt(va, vb)).to(g.dtype());
      Tensor tie = eq(va, vb).to(g.dtype()) * 0.5;
      Tensor share_a = a_wins + tie;
      return GradList{ga ? sum_to(g * share_a, sa) : Tensor(),
                      gb ? sum_to(g * (1.0 - share_a), sb) : Tensor()};
    });
  }
  return out;
}
}  // namespace

Tensor maximum(const Tensor& a, const Tensor& b) {
  return extremum(a, b, true, "maximum", "MaximumBackward");
}
Tensor minimum(const Tensor& a, const Tensor& b) {
  return extremum(a, b, false, "minimum", "MinimumBackward");
}

// ---------------------------------------------------------------- tensor op scalar

Tensor add(const Tensor& a, double s) {
  DType dt = scalar_result_type(arithmetic_type(a.dtype()), s);
  Tensor out = scalar_op(a, dt, "add", [s](auto x) { return static_cast<decltype(x)>(x + s); });
  // out = a + s ;  da = dout
  if (needs_grad({a})) record("AddBackward", out, {a}, [](const Tensor& g) { return GradList{g}; });
  return out;
}

Tensor sub(const Tensor& a, double s) { return add(a, -s); }

Tensor rsub(const Tensor& a, double s) {
  DType dt = scalar_result_type(arithmetic_type(a.dtype()), s);
  Tensor out = scalar_op(a, dt, "rsub", [s](auto x) { return static_cast<decltype(x)>(s - x); });
  // out = s - a ;  da = -dout
  if (needs_grad({a})) record("RsubBackward", out, {a}, [](const Tensor& g) { return GradList{-g}; });
  return out;
}

Tensor mul(const Tensor& a, double s) {
  DType dt = scalar_result_type(arithmetic_type(a.dtype()), s);
  Tensor out = scalar_op(a, dt, "mul", [s](auto x) { return static_cast<decltype(x)>(x * s); });
  // out = a * s ;  da = dout * s
  if (needs_grad({a}))
    record("MulBackward", out, {a}, [s](const Tensor& g) { return GradList{g * s}; });
  return out;
}

Tensor div(const Tensor& a, double s) {
  DType dt = floating_type(a.dtype());
  Tensor out = scalar_op(a, dt, "div", [s](auto x) { return static_cast<decltype(x)>(x / s); });
  // out = a / s ;  da = dout / s
  if (needs_grad({a}))
    record("DivBackward", out, {a}, [s](const Tensor& g) { return GradList{g / s}; });
  return out;
}

Tensor rdiv(const Tensor& a, double s) {
  DType dt = floating_type(a.dtype());
  Tensor out = scalar_op(a, dt, "rdiv", [s](auto x) { return static_cast<decltype(x)>(s / x); });
  // out = s / a ;  da = -dout * s / a^2 = -dout * out / a
  if (needs_grad({a})) {
    SavedTensor saved_a(a), saved_out(out);
    record("RdivBackward", out, {a}, [=](const Tensor& g) {
      return GradList{-(g * saved_out.get()) / saved_a.get()};
    });
  }
  return out;
}

Tensor pow(const Tensor& a, double p) {
  DType dt = floating_type(a.dtype());
  Tensor out = scalar_op(a, dt, "pow", [p](auto x) {
    using T = decltype(x);
    if (p == 2.0) return static_cast<T>(x * x);
    return static_cast<T>(std::pow(x, static_cast<T>(p)));
  });
  // out = a^p ;  da = dout * p * a^(p-1)
  if (needs_grad({a})) {
    SavedTensor saved_a(a);
    record("PowBackward", out, {a}, [=](const Tensor& g) {
      if (p == 0.0) return GradList{zeros_like(g)};
      if (p == 1.0) return GradList{g};
      if (p == 2.0) return GradList{g * saved_a.get() * 2.0};
      return GradList{g * pow(saved_a.get(), p - 1.0) * p};
    });
  }
  return out;
}

Tensor pow(double base, const Tensor& x) {
  DType dt = floating_type(x.dtype());
  Tensor out = scalar_op(x, dt, "pow", [base](auto e) {
    using T = decltype(e);
    return static_cast<T>(std::pow(static_cast<T>(base), e));
  });
  // out = base^x ;  dx = dout * out * log(base)
  if (needs_grad({x})) {
    SavedTensor saved_out(out);
    double log_base = std::log(base);
    record("PowBackward", out, {x}, [=](const Tensor& g) {
      return GradList{g * saved_out.get() * log_base};
    });
  }
  return out;
}

// ---------------------------------------------------------------- operators and methods

Tensor operator+(const Tensor& a, const Tensor& b) { return add(a, b); }
Tensor operator-(const Tensor& a, const Tensor& b) { return sub(a, b); }
Tensor operator*(const Tensor& a, const Tensor& b) { return mul(a, b); }
Tensor operator/(const Tensor& a, const Tensor& b) { return div(a, b); }
Tensor operator+(const Tensor& a, double b) { return add(a, b); }
Tensor operator-(const Tensor& a, double b) { return sub(a, b); }
Tensor operator*(const Tensor& a, double b) { return mul(a, b); }
Tensor operator/(const Tensor& a, double b) { return div(a, b); }
Tensor operator+(double a, const Tensor& b) { return add(b, a); }
Tensor operator-(double a, const Tensor& b) { return rsub(b, a); }
Tensor operator*(double a, const Tensor& b) { return mul(b, a); }
Tensor operator/(double a, const Tensor& b) { return rdiv(b, a); }
Tensor operator-(const Tensor& a) { return neg(a); }

Tensor Tensor::add(const Tensor& other, double alpha) const { return minidl::add(*this, other, alpha); }
Tensor Tensor::sub(const Tensor& other, double alpha) const { return minidl::sub(*this, other, alpha); }
Tensor Tensor::mul(const Tensor& other) const { return minidl::mul(*this, other); }
Tensor Tensor::div(const Tensor& other) const { return minidl::div(*this, other); }
Tensor Tensor::pow(double exponent) const { return minidl::pow(*this, exponent); }
Tensor Tensor::pow(const Tensor& exponent) const { return minidl::pow(*this, exponent); }
Tensor Tensor::maximum(const Tensor& other) const { return minidl::maximum(*this, other); }
Tensor Tensor::minimum(const Tensor& other) const { return minidl::minimum(*this, other); }

}  // namespace minidl
