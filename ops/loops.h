// Elementwise loops shared by the ops: map a function over one or two (broadcast) inputs.
//
// Each loop has two paths. The fast path -- every operand contiguous with the output's element
// count, i.e. no broadcasting and no strides -- is one flat loop the compiler vectorizes,
// cut into chunks for the thread pool only above kParallelGrain elements (core/parallel.h: a
// region costs more than a small tensor's work). Anything else goes through StridedIter
// (core/strided.h), which coalesces dimensions and hands out 1-d runs.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <type_traits>

#include "core/strided.h"
#include "core/tensor.h"

// A loop vectorizes only if the function it calls per element (and the math that one calls) is
// inlined into it. Left to itself, GCC inlined them where a loop was instantiated on its own (a
// thread-pool chunk) but kept calls where the same loop sat inside a larger function (the
// one-thread path): exp was 12x and GELU 15x slower on one thread than on two. So the dense runs
// below are functions of their own that inline everything they call (flatten), and the float
// kernels are always inlined.
#if defined(__GNUC__) || defined(__clang__)
#define MINIDL_VECTOR_INLINE inline __attribute__((always_inline))
#define MINIDL_FLATTEN __attribute__((flatten))
#else
#define MINIDL_VECTOR_INLINE inline
#define MINIDL_FLATTEN
#endif

namespace minidl {

namespace detail {

// The dense runs of the loops below (see MINIDL_FLATTEN): o[i] = f(a[i]), f(a[i], b[i]) and
// f(a[i], b) for i < n.
template <typename O, typename A, typename F>
MINIDL_FLATTEN void map_run(O* o, const A* a, int64_t n, F& f) {
#pragma omp simd
  for (int64_t i = 0; i < n; ++i) o[i] = f(a[i]);
}
template <typename O, typename A, typename B, typename F>
MINIDL_FLATTEN void map_run(O* o, const A* a, const B* b, int64_t n, F& f) {
#pragma omp simd
  for (int64_t i = 0; i < n; ++i) o[i] = f(a[i], b[i]);
}
template <typename O, typename A, typename B, typename F>
MINIDL_FLATTEN void map_run_scalar(O* o, const A* a, B b, int64_t n, F& f) {
#pragma omp simd
  for (int64_t i = 0; i < n; ++i) o[i] = f(a[i], b);
}

}  // namespace detail

// out[i] = f(a[i]); `out` must be a fresh contiguous tensor of a's shape.
template <typename O, typename A, typename F>
void unary_loop(const Tensor& out, const Tensor& a, F f) {
  O* po = out.data_ptr<O>();
  const A* pa = a.data_ptr<A>();
  const int64_t n = out.numel();
  if (n == 1) {
    po[0] = f(pa[0]);
  } else if (a.is_contiguous()) {
    parallel_for(0, n, kParallelGrain, [&](int64_t begin, int64_t end) {
      detail::map_run(po + begin, pa + begin, end - begin, f);
    });
  } else {
    StridedIter<2> iter(out.shape(), {&out.strides(), &a.strides()});
    iter.run([&](const std::array<int64_t, 2>& off, int64_t len, const std::array<int64_t, 2>& st) {
      for (int64_t e = 0; e < len; ++e) po[off[0] + e * st[0]] = f(pa[off[1] + e * st[1]]);
    });
  }
}

// out[i] = f(a[i], b[i]) with a and b broadcast to out's shape; `out` fresh and contiguous (or
// any tensor when writing in place: then a is usually out itself).
template <typename O, typename A, typename B, typename F>
void binary_loop(const Tensor& out, const Tensor& a, const Tensor& b, F f) {
  O* po = out.data_ptr<O>();
  const A* pa = a.data_ptr<A>();
  const B* pb = b.data_ptr<B>();
  const int64_t n = out.numel();
  if (n == 1) {
    po[0] = f(pa[0], pb[0]);
    return;
  }
  const bool flat = out.is_contiguous() && a.is_contiguous() && b.is_contiguous();
  if (flat && a.numel() == n && b.numel() == n) {
    parallel_for(0, n, kParallelGrain, [&](int64_t begin, int64_t end) {
      detail::map_run(po + begin, pa + begin, pb + begin, end - begin, f);
    });
    return;
  }
  if (flat && a.numel() == n && b.numel() == 1) {  // tensor op scalar-tensor
    const B vb = pb[0];
    parallel_for(0, n, kParallelGrain, [&](int64_t begin, int64_t end) {
      detail::map_run_scalar(po + begin, pa + begin, vb, end - begin, f);
    });
    return;
  }
  Shape sa = broadcast_strides(a.shape(), a.strides(), out.shape());
  Shape sb = broadcast_strides(b.shape(), b.strides(), out.shape());
  StridedIter<3> iter(out.shape(), {&out.strides(), &sa, &sb});
  iter.run([&](const std::array<int64_t, 3>& off, int64_t len, const std::array<int64_t, 3>& st) {
    O* o = po + off[0];
    const A* x = pa + off[1];
    const B* y = pb + off[2];
    if (st[0] == 1 && st[1] == 1 && st[2] == 1) {
      detail::map_run(o, x, y, len, f);
    } else if (st[0] == 1 && st[1] == 1 && st[2] == 0) {
      detail::map_run_scalar(o, x, y[0], len, f);
    } else if (st[0] == 1 && st[1] == 0 && st[2] == 1) {
      const A v = x[0];
      for (int64_t e = 0; e < len; ++e) o[e] = f(v, y[e]);
    } else {
      for (int64_t e = 0; e < len; ++e) o[e * st[0]] = f(x[e * st[1]], y[e * st[2]]);
    }
  });
}

// A fresh tensor of a's shape and (floating) dtype with out[i] = f(a[i], b[i]), b broadcast to
// a's shape. The one-liner behind most fused backward kernels: dx = f(dout, saved).
template <typename F>
Tensor binary_map(const Tensor& a, const Tensor& b, F f) {
  Tensor out = empty(a.shape(), a.dtype());
  MINIDL_DISPATCH_FLOATING(a.dtype(), "backward",
                           binary_loop<scalar_t, scalar_t, scalar_t>(out, a, b, f));
  return out;
}

// out[i] = f(a[i], b[i], c[i]) with all three broadcast to out's shape (where, clamp, ...).
template <typename O, typename A, typename B, typename C, typename F>
void ternary_loop(const Tensor& out, const Tensor& a, const Tensor& b, const Tensor& c, F f) {
  O* po = out.data_ptr<O>();
  const A* pa = a.data_ptr<A>();
  const B* pb = b.data_ptr<B>();
  const C* pc = c.data_ptr<C>();
  Shape sa = broadcast_strides(a.shape(), a.strides(), out.shape());
  Shape sb = broadcast_strides(b.shape(), b.strides(), out.shape());
  Shape sc = broadcast_strides(c.shape(), c.strides(), out.shape());
  StridedIter<4> iter(out.shape(), {&out.strides(), &sa, &sb, &sc});
  iter.run([&](const std::array<int64_t, 4>& off, int64_t len, const std::array<int64_t, 4>& st) {
    O* o = po + off[0];
    const A* x = pa + off[1];
    const B* y = pb + off[2];
    const C* z = pc + off[3];
    if (st[0] == 1 && st[1] == 1 && st[2] == 1 && st[3] == 1) {  // the common dense run
      for (int64_t e = 0; e < len; ++e) o[e] = f(x[e], y[e], z[e]);
    } else {
      for (int64_t e = 0; e < len; ++e) o[e * st[0]] = f(x[e * st[1]], y[e * st[2]], z[e * st[3]]);
    }
  });
}

// ---------------------------------------------------------------- vectorizable math

// e^x for float32 without a libm call, so `#pragma omp simd` loops vectorize (glibc's vector
// expf is only declared under -ffast-math). exp(x) = 2^n e^r with n = round(x / ln 2) and
// |r| <= ln2 / 2; e^r by the Cephes minimax polynomial; 2^n is built from exponent bits in two
// halves so that results in the subnormal range and overflow to inf come out right. Relative
// error < 1e-7 (about 1 ulp); NaN propagates, exp(-inf) = 0, exp(inf) = inf.
MINIDL_VECTOR_INLINE float exp_float(float x) {
  constexpr float kLog2e = 1.44269504088896341f;
  constexpr float kRound = 12582912.0f;  // 1.5 * 2^23: adding it rounds to an integer
  constexpr float kLn2Hi = 0.693359375f, kLn2Lo = -2.12194440e-4f;
  float xc = x < -104.0f ? -104.0f : x;  // below: 0; above 89: inf (both reached below)
  xc = xc > 89.0f ? 89.0f : xc;
  const float shifted = xc * kLog2e + kRound;
  int32_t shifted_bits, round_bits;
  std::memcpy(&shifted_bits, &shifted, 4);
  std::memcpy(&round_bits, &kRound, 4);
  const int32_t n = shifted_bits - round_bits;
  const float fn = shifted - kRound;
  float r = xc - fn * kLn2Hi;
  r = r - fn * kLn2Lo;
  float p = 1.9875691500e-4f;
  p = p * r + 1.3981999507e-3f;
  p = p * r + 8.3334519073e-3f;
  p = p * r + 4.1665795894e-2f;
  p = p * r + 1.6666665459e-1f;
  p = p * r + 5.0000001201e-1f;
  p = p * (r * r) + r + 1.0f;
  const int32_t n1 = n >> 1, n2 = n - n1;
  // Shifted as unsigned: for a NaN input n is meaningless (the result is replaced below), and a
  // signed left shift of it would overflow -- undefined behaviour.
  const int32_t bits1 = static_cast<int32_t>(static_cast<uint32_t>(n1 + 127) << 23);
  const int32_t bits2 = static_cast<int32_t>(static_cast<uint32_t>(n2 + 127) << 23);
  float scale1, scale2;
  std::memcpy(&scale1, &bits1, 4);
  std::memcpy(&scale2, &bits2, 4);
  const float y = p * scale1 * scale2;
  return x != x ? x : y;
}

// e^x: the vectorizable version for float, libm's (exact to the last bit) for double.
template <typename T>
MINIDL_VECTOR_INLINE T exp_vec(T x) {
  if constexpr (std::is_same<T, float>::value) {
    return exp_float(x);
  } else {
    return std::exp(x);
  }
}

// tanh for float32 without a libm call or a branch, so `#pragma omp simd` loops vectorize.
// tanh|x| = -m / (2 + m) with m = expm1(-2|x|) = 2^n (1 + q(r)) - 1 = 2^n q(r) + (2^n - 1),
// n = round(-2|x| / ln 2), r = -2|x| - n ln 2 in [-ln2/2, ln2/2], q(r) = e^r - 1 as its degree-7
// Taylor polynomial (so n = 0, i.e. small |x|, keeps full relative precision); |x| is clamped
// to 9, where tanh rounds to 1. Absolute error < 2e-7; tanh(±inf) = ±1, NaN propagates.
// The clamp, the sign and the NaN are handled on the bits as integers: a float clamp or select
// there lets GCC move the division under a branch, which it then cannot vectorize unless
// compiled with -fno-trapping-math.
MINIDL_VECTOR_INLINE float tanh_float(float x) {
  constexpr int32_t kNine = 0x41100000;  // bits of 9.0f
  constexpr int32_t kInf = 0x7f800000;   // bits of +inf; larger magnitudes are NaN
  int32_t x_bits;
  std::memcpy(&x_bits, &x, sizeof(x));
  const int32_t magnitude_bits = x_bits & 0x7fffffff;
  // |x| clamped to 9 (NaN too): min(|x|, 9) = |x| + min(9 - |x|, 0), the min by the sign mask
  const int32_t excess = kNine - magnitude_bits;
  const int32_t a_bits = magnitude_bits + (excess & (excess >> 31));
  float a;
  std::memcpy(&a, &a_bits, sizeof(a));
  const float y = -2.0f * a;  // in [-18, 0]
  // n = round(y / ln 2) (y <= 0: truncating y / ln 2 - 1/2 rounds to nearest)
  const int32_t n = static_cast<int32_t>(y * 1.44269504088896341f - 0.5f);
  const float nf = static_cast<float>(n);
  const float r = (y - nf * 0.693145751953125f) - nf * 1.42860682030941723e-6f;
  float p = 1.0f / 5040.0f;
  p = p * r + 1.0f / 720.0f;
  p = p * r + 1.0f / 120.0f;
  p = p * r + 1.0f / 24.0f;
  p = p * r + 1.0f / 6.0f;
  p = p * r + 0.5f;
  p = p * r + 1.0f;
  const float q = p * r;                 // e^r - 1
  const int32_t bits = (n + 127) << 23;  // 2^n, n in [-26, 0]
  float scale;
  std::memcpy(&scale, &bits, sizeof(scale));
  const float m = scale * q + (scale - 1.0f);  // expm1(y)
  const float t = -m / (2.0f + m);             // tanh|x|, >= 0
  int32_t t_bits;
  std::memcpy(&t_bits, &t, sizeof(t));
  const int32_t nan_bits = ((kInf - magnitude_bits) >> 31) & 0x7fc00000;  // a NaN for a NaN
  const int32_t out_bits = t_bits | (x_bits & INT32_MIN) | nan_bits;      // with x's sign
  float out;
  std::memcpy(&out, &out_bits, sizeof(out));
  return out;
}

// erf for float32 without a libm call, so the GELU loops vectorize (glibc's erff is a scalar
// call and was a tenth of a Vision Transformer's training step). Two ranges, both computed and
// blended on the bits (as in tanh_float, so GCC keeps the division out of a branch):
//   |x| < 1:   erf(a) = 2/sqrt(pi) a sum_n (-1)^n a^2n / (n! (2n + 1)), the Taylor series to
//              n = 10 (alternating: the error is below the first omitted term, 1.3e-9 at a = 1);
//   |x| >= 1:  erf(a) = 1 - (a1 t + a2 t^2 + ... + a5 t^5) e^(-a^2), t = 1 / (1 + p a)
//              (Abramowitz & Stegun 7.1.26, absolute error <= 1.5e-7), |x| clamped to 6.
// Absolute error < 2e-7 everywhere, relative precision kept near 0; erf(±inf) = ±1, NaN
// propagates, the sign of zero is kept.
MINIDL_VECTOR_INLINE float erf_float(float x) {
  constexpr int32_t kSix = 0x40c00000;  // bits of 6.0f
  constexpr int32_t kOne = 0x3f800000;  // bits of 1.0f
  constexpr int32_t kInf = 0x7f800000;
  int32_t x_bits;
  std::memcpy(&x_bits, &x, sizeof(x));
  const int32_t magnitude_bits = x_bits & 0x7fffffff;
  const int32_t excess = kSix - magnitude_bits;  // |x| clamped to 6 (NaN too), as in tanh_float
  const int32_t a_bits = magnitude_bits + (excess & (excess >> 31));
  float a;
  std::memcpy(&a, &a_bits, sizeof(a));
  const float s = a * a;
  // (-1)^n / (n! (2n + 1)) for n = 10 ... 0, by Horner in s = a^2
  float p = 1.0f / 76204800.0f;
  p = p * s - 1.0f / 6894720.0f;
  p = p * s + 1.0f / 685440.0f;
  p = p * s - 1.0f / 75600.0f;
  p = p * s + 1.0f / 9360.0f;
  p = p * s - 1.0f / 1320.0f;
  p = p * s + 1.0f / 216.0f;
  p = p * s - 1.0f / 42.0f;
  p = p * s + 1.0f / 10.0f;
  p = p * s - 1.0f / 3.0f;
  p = p * s + 1.0f;
  const float small = 1.12837916709551257f * a * p;
  const float t = 1.0f / (1.0f + 0.3275911f * a);
  float q = 1.061405429f;
  q = q * t - 1.453152027f;
  q = q * t + 1.421413741f;
  q = q * t - 0.284496736f;
  q = q * t + 0.254829592f;
  const float large = 1.0f - q * t * exp_float(-s);
  int32_t small_bits, large_bits;
  std::memcpy(&small_bits, &small, sizeof(small));
  std::memcpy(&large_bits, &large, sizeof(large));
  const int32_t use_small = (a_bits - kOne) >> 31;  // all ones when |x| < 1
  const int32_t e_bits = (small_bits & use_small) | (large_bits & ~use_small);
  const int32_t nan_bits = ((kInf - magnitude_bits) >> 31) & 0x7fc00000;  // a NaN for a NaN
  const int32_t out_bits = e_bits | (x_bits & INT32_MIN) | nan_bits;      // with x's sign
  float out;
  std::memcpy(&out, &out_bits, sizeof(out));
  return out;
}

// erf: the vectorizable version for float, libm's for double.
template <typename T>
MINIDL_VECTOR_INLINE T erf_vec(T x) {
  if constexpr (std::is_same<T, float>::value) {
    return erf_float(x);
  } else {
    return std::erf(x);
  }
}

// tanh: the vectorizable version for float, libm's for double.
template <typename T>
MINIDL_VECTOR_INLINE T tanh_vec(T x) {
  if constexpr (std::is_same<T, float>::value) {
    return tanh_float(x);
  } else {
    return std::tanh(x);
  }
}

}  // namespace minidl
