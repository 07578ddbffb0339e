// Gradient clipping (nn/clip_grad.h), with torch.nn.utils' arithmetic: per-gradient norms, the
// norm of those norms, then one scale factor clamped to 1 and applied to every gradient.
#include "nn/clip_grad.h"

#include <cmath>
#include <limits>

#include "core/autograd.h"
#include "core/factories.h"
#include "core/parallel.h"
#include "core/strided.h"

namespace minidl::nn::utils {

namespace {

// self[i] = f(self[i]) over any strided layout, bumping the version (an in-place write).
template <typename T, typename F>
void apply_in_place(const Tensor& self, F f) {
  T* p = self.data_ptr<T>();
  const int64_t n = self.numel();
  if (self.is_contiguous()) {
    parallel_for(0, n, kParallelGrain, [&](int64_t begin, int64_t end) {
#pragma omp simd
      for (int64_t i = begin; i < end; ++i) p[i] = f(p[i]);
    });
  } else {
    StridedIter<1> iter(self.shape(), {&self.strides()});
    iter.run([&](const std::array<int64_t, 1>& off, int64_t len, const std::array<int64_t, 1>& st) {
      T* q = p + off[0];
      for (int64_t e = 0; e < len; ++e) q[e * st[0]] = f(q[e * st[0]]);
    });
  }
  ++self.impl()->storage->version;
}

// The p-norm of x [n] as torch.norm computes it: max |x| (inf), min |x| (-inf), the count of
// non-zeros (0), else (sum |x|^p)^(1/p). Accumulates in double.
template <typename T>
double vector_norm(const T* x, int64_t n, double p) {
  if (n == 0) return 0.0;
  if (std::isinf(p)) {
    double extreme = std::fabs(static_cast<double>(x[0]));
    for (int64_t i = 1; i < n; ++i) {
      const double a = std::fabs(static_cast<double>(x[i]));
      if (a != a) return a;  // NaN propagates, as torch's max/min
      extreme = p > 0 ? std::max(extreme, a) : std::min(extreme, a);
    }
    return extreme;
  }
  // sum over i of term(x[i]) in double: per-chunk partial sums added in chunk order, so the
  // norm is the same however the chunks ran.
  auto sum_of = [&](auto term) {
    return parallel_sum<double>(0, n, kParallelGrain, [&](int64_t begin, int64_t end) {
      double acc = 0.0;
      for (int64_t i = begin; i < end; ++i) acc += term(x[i]);
      return acc;
    });
  };
  if (p == 0.0) return sum_of([](T v) { return v != T(0) ? 1.0 : 0.0; });
  if (p == 1.0) return sum_of([](T v) { return std::fabs(static_cast<double>(v)); });
  if (p == 2.0)
    return std::sqrt(sum_of([](T v) { return static_cast<double>(v) * static_cast<double>(v); }));
  const double acc = sum_of([p](T v) { return std::pow(std::fabs(static_cast<double>(v)), p); });
  return std::pow(acc, 1.0 / p);
}

std::vector<Tensor> defined_grads(const std::vector<Tensor>& parameters, const char* op) {
  std::vector<Tensor> grads;
  for (size_t i = 0; i < parameters.size(); ++i) {
    MINIDL_CHECK(parameters[i].defined(), op, "parameter " << i << " is an undefined tensor");
    Tensor g = parameters[i].grad();
    if (!g.defined()) continue;
    MINIDL_CHECK(g.is_floating_point(), op,
                 "gradient " << i << " (shape " << shape_str(g.shape()) << ") has dtype "
                             << g.dtype() << "; expected float32 or float64");
    grads.push_back(g);
  }
  return grads;
}

}  // namespace

// total = norm([norm(g_1), norm(g_2), ...]);  g *= min(1, max_norm / (total + 1e-6))
Tensor clip_grad_norm_(const std::vector<Tensor>& parameters, double max_norm, double norm_type,
                       bool error_if_nonfinite) {
  const char* op = "clip_grad_norm_";
  MINIDL_CHECK(!std::isnan(norm_type), op, "norm_type must not be NaN");
  std::vector<Tensor> grads = defined_grads(parameters, op);
  if (grads.empty()) return scalar_tensor(0.0, kFloat32);
  NoGradGuard no_grad;
  DType dtype = grads[0].dtype();
  std::vector<double> norms;
  for (const Tensor& g : grads) {
    dtype = promote_types(dtype, g.dtype());
    Tensor dense = g.contiguous();
    MINIDL_DISPATCH_FLOATING(g.dtype(), op, {
      // Each norm is rounded to the gradient's dtype, as torch stacks per-gradient norms.
      norms.push_back(static_cast<scalar_t>(
          vector_norm<scalar_t>(dense.data_ptr<scalar_t>(), dense.numel(), norm_type)));
    });
  }
  const double total =
      vector_norm<double>(norms.data(), static_cast<int64_t>(norms.size()), norm_type);
  Tensor total_norm = scalar_tensor(total, dtype);
  MINIDL_CHECK(!error_if_nonfinite || std::isfinite(total), op,
               "the total norm of order " << norm_type << " for gradients from the parameters is "
                                          << total
                                          << ", so it cannot be clipped (set error_if_nonfinite "
                                             "= false to scale by it anyway)");
  MINIDL_DISPATCH_FLOATING(dtype, op, {
    const scalar_t coef = static_cast<scalar_t>(max_norm) /
                          (static_cast<scalar_t>(total) + static_cast<scalar_t>(1e-6));
    const scalar_t clamped = coef > scalar_t(1) ? scalar_t(1) : coef;  // NaN stays NaN
    const double scale = static_cast<double>(clamped);
    for (const Tensor& g : grads) {
      MINIDL_DISPATCH_FLOATING(g.dtype(), op, {
        const scalar_t s = static_cast<scalar_t>(scale);
        apply_in_place<scalar_t>(g, [s](scalar_t x) { return x * s; });
      });
    }
  });
  return total_norm;
}

Tensor clip_grad_norm_(const Tensor& parameter, double max_norm, double norm_type,
                       bool error_if_nonfinite) {
  return clip_grad_norm_(std::vector<Tensor>{parameter}, max_norm, norm_type, error_if_nonfinite);
}

// g = clamp(g, -clip_value, clip_value)
void clip_grad_value_(const std::vector<Tensor>& parameters, double clip_value) {
  const char* op = "clip_grad_value_";
  MINIDL_CHECK(clip_value >= 0, op, "clip_value must be non-negative, got " << clip_value);
  NoGradGuard no_grad;
  for (const Tensor& g : defined_grads(parameters, op)) {
    MINIDL_DISPATCH_FLOATING(g.dtype(), op, {
      const scalar_t hi = static_cast<scalar_t>(clip_value), lo = -hi;
      apply_in_place<scalar_t>(g, [lo, hi](scalar_t x) { return x < lo ? lo : (x > hi ? hi : x); });
    });
  }
}

void clip_grad_value_(const Tensor& parameter, double clip_value) {
  clip_grad_value_(std::vector<Tensor>{parameter}, clip_value);
}

}  // namespace minidl::nn::utils
