// Unary math and activations. Each forward is one elementwise loop; each backward is one fused
// elementwise loop over (dout, a saved tensor), with its derivative written above it.
#include <cmath>
#include <limits>
#include <type_traits>

#include "core/autograd.h"
#include "ops/compare.h"
#include "ops/elementwise.h"
#include "ops/loops.h"

namespace minidl {

namespace {

template <typename F>
Tensor map_floating(const Tensor& x, const char* op, F f) {
  MINIDL_CHECK(x.is_floating_point(), op,
               "expects a floating-point tensor, got " << x.dtype() << " (shape "
                                                       << shape_str(x.shape()) << ")");
  Tensor out = empty(x.shape(), x.dtype());
  MINIDL_DISPATCH_FLOATING(x.dtype(), op, unary_loop<scalar_t, scalar_t>(out, x, f));
  return out;
}

// Records `name` with dx = binary_map(dout, saved, df): one fused loop. A backward that must
// itself be differentiable (create_graph: grad mode is on while it runs) computes the same
// dx = recorded(dout, saved) with recorded ops instead, so such an op is twice differentiable.
template <typename F, typename R>
Tensor with_grad(const char* name, const Tensor& x, const Tensor& out, const Tensor& saved, F df,
                 R recorded) {
  if (needs_grad({x})) {
    SavedTensor keep(saved);
    record(name, out, {x}, [keep, df, recorded](const Tensor& g) {
      if (GradMode::is_enabled()) return GradList{recorded(g, keep.get())};
      return GradList{binary_map(g, keep.get(), df)};
    })->twice_differentiable = true;
  }
  return out;
}

// [x > 0] (or another comparison) as a 0/1 tensor of x's dtype: a constant factor.
Tensor mask_of(const Tensor& condition, const Tensor& like) {
  return condition.to(like.dtype());
}

}  // namespace

Tensor neg(const Tensor& x) {
  MINIDL_CHECK(x.dtype() != kBool, "neg", "negation of a bool tensor; use logical_not");
  Tensor out = empty(x.shape(), x.dtype());
  MINIDL_DISPATCH_NUMERIC(x.dtype(), "neg",
                          unary_loop<scalar_t, scalar_t>(out, x, [](scalar_t v) { return -v; }));
  // out = -x ;  dx = -dout
  if (needs_grad({x}))
    record("NegBackward0", out, {x}, [](const Tensor& g) {
      return GradList{neg(g)};
    })->twice_differentiable = true;
  return out;
}

Tensor abs(const Tensor& x) {
  Tensor out = empty(x.shape(), x.dtype());
  MINIDL_DISPATCH_NUMERIC(x.dtype(), "abs", unary_loop<scalar_t, scalar_t>(out, x, [](scalar_t v) {
                            return v < 0 ? -v : v;
                          }));
  // out = |x| ;  dx = dout * sign(x)   (0 at x = 0)
  return with_grad(
      "AbsBackward0", x, out, x, [](auto g, auto v) { return v > 0 ? g : (v < 0 ? -g : g * 0); },
      [](const Tensor& g, const Tensor& v) {
        return g * (mask_of(gt(v, 0.0), v) - mask_of(lt(v, 0.0), v));
      });
}

Tensor exp(const Tensor& x) {
  Tensor out = map_floating(x, "exp", [](auto v) { return exp_vec(v); });
  // out = e^x ;  dx = dout * out
  return with_grad(
      "ExpBackward0", x, out, out, [](auto g, auto y) { return g * y; },
      [](const Tensor& g, const Tensor& y) { return g * y; });
}

Tensor log(const Tensor& x) {
  Tensor out = map_floating(x, "log", [](auto v) { return std::log(v); });
  // out = ln x ;  dx = dout / x
  return with_grad(
      "LogBackward0", x, out, x, [](auto g, auto v) { return g / v; },
      [](const Tensor& g, const Tensor& v) { return g / v; });
}

Tensor log1p(const Tensor& x) {
  Tensor out = map_floating(x, "log1p", [](auto v) { return std::log1p(v); });
  // out = ln(1 + x) ;  dx = dout / (1 + x)
  return with_grad(
      "Log1PBackward0", x, out, x, [](auto g, auto v) { return g / (1 + v); },
      [](const Tensor& g, const Tensor& v) { return g / (v + 1.0); });
}

Tensor sqrt(const Tensor& x) {
  Tensor out = map_floating(x, "sqrt", [](auto v) { return std::sqrt(v); });
  // out = sqrt(x) ;  dx = dout / (2 out)
  return with_grad(
      "SqrtBackward0", x, out, out, [](auto g, auto y) { return g / (2 * y); },
      [](const Tensor& g, const Tensor& y) { return g / (y * 2.0); });
}

Tensor rsqrt(const Tensor& x) {
  Tensor out = map_floating(x, "rsqrt", [](auto v) { return 1 / std::sqrt(v); });
  // out = x^(-1/2) ;  dx = -dout out^3 / 2
  return with_grad(
      "RsqrtBackward0", x, out, out,
      [](auto g, auto y) { return g * y * y * y * static_cast<decltype(g)>(-0.5); },
      [](const Tensor& g, const Tensor& y) { return g * y * y * y * -0.5; });
}

Tensor sin(const Tensor& x) {
  Tensor out = map_floating(x, "sin", [](auto v) { return std::sin(v); });
  // out = sin x ;  dx = dout cos x
  return with_grad(
      "SinBackward0", x, out, x, [](auto g, auto v) { return g * std::cos(v); },
      [](const Tensor& g, const Tensor& v) { return g * cos(v); });
}

Tensor cos(const Tensor& x) {
  Tensor out = map_floating(x, "cos", [](auto v) { return std::cos(v); });
  // out = cos x ;  dx = -dout sin x
  return with_grad(
      "CosBackward0", x, out, x, [](auto g, auto v) { return -g * std::sin(v); },
      [](const Tensor& g, const Tensor& v) { return -(g * sin(v)); });
}

Tensor tanh(const Tensor& x) {
  Tensor out = map_floating(x, "tanh", [](auto v) { return tanh_vec(v); });
  // out = tanh x ;  dx = dout (1 - out^2)
  return with_grad(
      "TanhBackward0", x, out, out, [](auto g, auto y) { return g * (1 - y * y); },
      [](const Tensor& g, const Tensor& y) { return g * (1.0 - y * y); });
}

Tensor sigmoid(const Tensor& x) {
  // 1 / (1 + e^-x): e^-x overflows to inf for very negative x, giving the right limit 0.
  Tensor out = map_floating(x, "sigmoid", [](auto v) {
    using T = decltype(v);
    return T(1) / (T(1) + exp_vec(-v));
  });
  // out = sigmoid(x) ;  dx = dout out (1 - out)
  return with_grad(
      "SigmoidBackward0", x, out, out, [](auto g, auto y) { return g * y * (1 - y); },
      [](const Tensor& g, const Tensor& y) { return g * y * (1.0 - y); });
}

Tensor relu(const Tensor& x) {
  Tensor out = map_floating(x, "relu", [](auto v) { return v > 0 ? v : decltype(v)(0); });
  // out = max(x, 0) ;  dx = dout [out > 0]
  return with_grad(
      "ReluBackward0", x, out, out, [](auto g, auto y) { return y > 0 ? g : decltype(g)(0); },
      [](const Tensor& g, const Tensor& y) { return g * mask_of(gt(y, 0.0), y); });
}

Tensor leaky_relu(const Tensor& x, double negative_slope) {
  Tensor out = map_floating(x, "leaky_relu", [negative_slope](auto v) {
    return v > 0 ? v : static_cast<decltype(v)>(negative_slope) * v;
  });
  // out = x if x > 0 else slope x ;  dx = dout (1 if x > 0 else slope)
  return with_grad(
      "LeakyReluBackward0", x, out, x,
      [negative_slope](auto g, auto v) {
        return v > 0 ? g : static_cast<decltype(g)>(negative_slope) * g;
      },
      [negative_slope](const Tensor& g, const Tensor& v) {
        Tensor positive = mask_of(gt(v, 0.0), v);
        return g * (positive + (1.0 - positive) * negative_slope);
      });
}

Tensor elu(const Tensor& x, double alpha) {
  Tensor out = map_floating(x, "elu", [alpha](auto v) {
    using T = decltype(v);
    return v > 0 ? v : static_cast<T>(alpha) * std::expm1(v);
  });
  // out = x if x > 0 else alpha (e^x - 1) ;  dx = dout (1 if x > 0 else alpha e^x)
  return with_grad(
      "EluBackward0", x, out, x,
      [alpha](auto g, auto v) {
        using T = decltype(g);
        return v > 0 ? g : g * static_cast<T>(alpha) * std::exp(v);
      },
      [alpha](const Tensor& g, const Tensor& v) {
        Tensor positive = mask_of(gt(v, 0.0), v);
        return g * (positive + (1.0 - positive) * exp(v) * alpha);
      });
}

namespace {
constexpr double kInvSqrt2 = 0.70710678118654752440;
constexpr double kInvSqrt2Pi = 0.39894228040143267794;
constexpr double kSqrt2OverPi = 0.79788456080286535588;
constexpr double kTwoOverSqrtPi = 1.12837916709551257390;
constexpr double kCubic = 0.044715;

// erf as a recorded op, for gelu's create_graph backward (not public: minidl has no erf op).
// out = erf(x) ;  dx = dout 2/sqrt(pi) e^(-x^2)
Tensor recorded_erf(const Tensor& x) {
  Tensor out = map_floating(x, "erf", [](auto v) { return erf_vec(v); });
  return with_grad(
      "ErfBackward0", x, out, x,
      [](auto g, auto v) {
        using T = decltype(g);
        return g * T(kTwoOverSqrtPi) * exp_vec(-v * v);
      },
      [](const Tensor& g, const Tensor& v) { return g * exp(-(v * v)) * kTwoOverSqrtPi; });
}
}  // namespace

Tensor gelu(const Tensor& x, const std::string& approximate) {
  MINIDL_CHECK(approximate == "none" || approximate == "tanh", "gelu",
               "approximate must be \"none\" or \"tanh\", got \"" << approximate << "\"");
  if (approximate == "none") {
    // out = x Phi(x) with Phi the standard normal CDF = (1 + erf(x / sqrt 2)) / 2
    Tensor out = map_floating(x, "gelu", [](auto v) {
      using T = decltype(v);
      return v * T(0.5) * (T(1) + erf_vec(v * T(kInvSqrt2)));
    });
    // out = x Phi(x) ;  dx = dout (Phi(x) + x phi(x)),  phi(x) = e^(-x^2/2) / sqrt(2 pi)
    return with_grad(
        "GeluBackward0", x, out, x,
        [](auto g, auto v) {
          using T = decltype(g);
          T cdf = T(0.5) * (T(1) + erf_vec(v * T(kInvSqrt2)));
          T pdf = T(kInvSqrt2Pi) * exp_vec(T(-0.5) * v * v);
          return g * (cdf + v * pdf);
        },
        [](const Tensor& g, const Tensor& v) {
          Tensor cdf = (recorded_erf(v * kInvSqrt2) + 1.0) * 0.5;
          Tensor pdf = exp(v * v * -0.5) * kInvSqrt2Pi;
          return g * (cdf + v * pdf);
        });
  }
  // out = x (1 + tanh(u)) / 2,  u = sqrt(2/pi) (x + 0.044715 x^3)
  Tensor out = map_floating(x, "gelu", [](auto v) {
    using T = decltype(v);
    T u = T(kSqrt2OverPi) * (v + T(kCubic) * v * v * v);
    return T(0.5) * v * (T(1) + tanh_vec(u));
  });
  // out = x (1 + t) / 2 ;  dx = dout ((1 + t)/2 + x (1 - t^2) u' / 2),  t = tanh(u),
  //   u' = sqrt(2/pi)(1 + 3 0.044715 x^2)
  return with_grad(
      "GeluBackward0", x, out, x,
      [](auto g, auto v) {
        using T = decltype(g);
        T t = tanh_vec(T(kSqrt2OverPi) * (v + T(kCubic) * v * v * v));
        T du = T(kSqrt2OverPi) * (T(1) + T(3 * kCubic) * v * v);
        return g * (T(0.5) * (T(1) + t) + T(0.5) * v * (T(1) - t * t) * du);
      },
      [](const Tensor& g, const Tensor& v) {
        Tensor t = tanh((v + v * v * v * kCubic) * kSqrt2OverPi);
        Tensor du = (v * v * (3 * kCubic) + 1.0) * kSqrt2OverPi;
        return g * ((t + 1.0) * 0.5 + v * (1.0 - t * t) * du * 0.5);
      });
}

Tensor softplus(const Tensor& x, double beta, double threshold) {
  MINIDL_CHECK(beta != 0, "softplus", "beta must be nonzero");
  // ln(1 + e^z) = max(z, 0) + ln(1 + e^-|z|): never overflows, even with a large threshold.
  Tensor out = map_floating(x, "softplus", [beta, threshold](auto v) {
    using T = decltype(v);
    T bx = static_cast<T>(beta) * v;
    if (bx > static_cast<T>(threshold)) return v;
    T positive = bx > 0 ? bx : T(0);
    return (positive + std::log1p(std::exp(-std::fabs(bx)))) / static_cast<T>(beta);
  });
  // out = ln(1 + e^(beta x)) / beta ;  dx = dout sigmoid(beta x)   (dout above the threshold)
  return with_grad(
      "SoftplusBackward0", x, out, x,
      [beta, threshold](auto g, auto v) {
        using T = decltype(g);
        T bx = static_cast<T>(beta) * v;
        if (bx > static_cast<T>(threshold)) return g;
        return g / (T(1) + std::exp(-bx));
      },
      [beta, threshold](const Tensor& g, const Tensor& v) {
        Tensor linear = mask_of(gt(v * beta, threshold), v);
        return g * (linear + (1.0 - linear) * sigmoid(v * beta));
      });
}

Tensor clamp(const Tensor& x_in, std::optional<double> min, std::optional<double> max) {
  MINIDL_CHECK(min || max, "clamp", "at least one of min and max must be given");
  MINIDL_CHECK(x_in.dtype() != kBool, "clamp", "cannot clamp a bool tensor");
  const double lo = min.value_or(-INFINITY), hi = max.value_or(INFINITY);
  // An int64 tensor clamped to a fractional bound becomes float32 (PyTorch's promotion).
  auto fractional = [](std::optional<double> b) { return b && *b != std::floor(*b); };
  Tensor x = x_in;
  if (x.dtype() == kInt64 && (fractional(min) || fractional(max))) x = x_in.to(kFloat32);
  Tensor out = empty(x.shape(), x.dtype());
  MINIDL_DISPATCH_NUMERIC(x.dtype(), "clamp", {
    // In the element type, so float32 clamps vectorize; min first, then max (so min > max gives
    // max everywhere, as torch). NaN stays NaN: both comparisons are false.
    constexpr scalar_t lowest = std::numeric_limits<scalar_t>::lowest();
    constexpr scalar_t highest = std::numeric_limits<scalar_t>::max();
    // An int64 bound beyond int64's range saturates (the cast would be undefined).
    auto bound = [](double b) {
      if constexpr (std::is_integral<scalar_t>::value) {
        if (!(b > -9.2e18)) return lowest;
        if (!(b < 9.2e18)) return highest;
      }
      return static_cast<scalar_t>(b);
    };
    const scalar_t vlo = min ? bound(lo) : lowest;
    const scalar_t vhi = max ? bound(hi) : highest;
    unary_loop<scalar_t, scalar_t>(out, x, [vlo, vhi](scalar_t v) {
      scalar_t r = v < vlo ? vlo : v;
      return r > vhi ? vhi : r;
    });
  });
  // out = min(max(x, lo), hi) ;  dx = dout [lo <= x <= hi]
  return with_grad(
      "ClampBackward1", x, out, x,
      [lo, hi](auto g, auto v) { return (v >= lo && v <= hi) ? g : decltype(g)(0); },
      [lo, hi](const Tensor& g, const Tensor& v) {
        return g * (mask_of(ge(v, lo), v) * mask_of(le(v, hi), v));
      });
}

Tensor Tensor::neg() const {
  return minidl::neg(*this);
}
Tensor Tensor::abs() const {
  return minidl::abs(*this);
}
Tensor Tensor::exp() const {
  return minidl::exp(*this);
}
Tensor Tensor::log() const {
  return minidl::log(*this);
}
Tensor Tensor::log1p() const {
  return minidl::log1p(*this);
}
Tensor Tensor::sqrt() const {
  return minidl::sqrt(*this);
}
Tensor Tensor::rsqrt() const {
  return minidl::rsqrt(*this);
}
Tensor Tensor::sin() const {
  return minidl::sin(*this);
}
Tensor Tensor::cos() const {
  return minidl::cos(*this);
}
Tensor Tensor::tanh() const {
  return minidl::tanh(*this);
}
Tensor Tensor::sigmoid() const {
  return minidl::sigmoid(*this);
}
Tensor Tensor::relu() const {
  return minidl::relu(*this);
}
Tensor Tensor::clamp(std::optional<double> min, std::optional<double> max) const {
  return minidl::clamp(*this, min, max);
}

}  // namespace minidl
