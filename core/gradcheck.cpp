#include "core/gradcheck.h"

#include <cmath>
#include <sstream>

#include "core/autograd.h"
#include "core/factories.h"

namespace minidl {

namespace {
// <r, y> in double, both tensors of one shape.
double dot(const Tensor& r, const Tensor& y) {
  std::vector<double> a = r.to_vector<double>(), b = y.to_vector<double>();
  double s = 0;
  for (size_t i = 0; i < a.size(); ++i) s += a[i] * b[i];
  return s;
}

// Storage offset of the i-th element (row-major) of t.
int64_t element_offset(const Tensor& t, int64_t i) {
  int64_t off = t.storage_offset();
  for (int64_t d = t.dim() - 1; d >= 0; --d) {
    off += (i % t.shape()[d]) * t.strides()[d];
    i /= t.shape()[d];
  }
  return off;
}
}  // namespace

GradcheckResult gradcheck(const std::function<Tensor(const std::vector<Tensor>&)>& fn,
                          const std::vector<Tensor>& inputs, GradcheckOptions options) {
  GradcheckResult result;
  std::vector<Tensor> differentiable;
  for (size_t k = 0; k < inputs.size(); ++k) {
    const Tensor& x = inputs[k];
    if (!x.defined() || !x.requires_grad()) continue;
    MINIDL_CHECK(x.dtype() == kFloat64, "gradcheck",
                 "input " << k << " is " << x.dtype() << "; gradcheck needs float64 inputs");
    for (int64_t d = 0; d < x.dim(); ++d)
      MINIDL_CHECK(x.strides()[d] != 0 || x.shape()[d] <= 1, "gradcheck",
                   "input " << k << " has overlapping memory (stride 0 at dim " << d
                            << "); expand inside the function instead");
    differentiable.push_back(x);
  }
  MINIDL_CHECK(!differentiable.empty(), "gradcheck", "no input requires grad");

  // Analytic: the tape's vector-Jacobian product with a random upstream gradient r.
  Tensor y = fn(inputs);
  MINIDL_CHECK(y.is_floating_point(), "gradcheck", "the function must return a floating tensor");
  Generator gen(options.seed);
  Tensor r = randn(y.shape(), kFloat64, &gen);
  std::vector<Tensor> analytic;
  if (y.requires_grad()) {
    analytic = grad({y}, differentiable, {r.to(y.dtype())}, false, false, true);
  } else {
    analytic.resize(differentiable.size());
  }

  // Numeric: central differences, perturbing each element in place through its strides.
  for (size_t k = 0; k < differentiable.size(); ++k) {
    const Tensor& x = differentiable[k];
    double* base = static_cast<double*>(x.impl()->storage->data);
    std::vector<double> a = analytic[k].defined() ? analytic[k].to_vector<double>()
                                                  : std::vector<double>(x.numel(), 0.0);
    for (int64_t i = 0; i < x.numel(); ++i) {
      double& slot = base[element_offset(x, i)];
      const double saved = slot;
      double plus, minus;
      {
        NoGradGuard no_grad;
        slot = saved + options.eps;
        plus = dot(r, fn(inputs));
        slot = saved - options.eps;
        minus = dot(r, fn(inputs));
        slot = saved;
      }
      double numeric = (plus - minus) / (2 * options.eps);
      double error = std::fabs(a[i] - numeric);
      result.max_abs_error = std::max(result.max_abs_error, error);
      if (result.ok && !(error <= options.atol + options.rtol * std::fabs(numeric))) {
        std::ostringstream os;
        os << "gradcheck: input " << k << " (shape " << shape_str(x.shape()) << "), element " << i
           << ": analytic " << a[i] << " vs numeric " << numeric;
        result.ok = false;
        result.message = os.str();
      }
    }
  }
  return result;
}

GradcheckResult gradgradcheck(const std::function<Tensor(const std::vector<Tensor>&)>& fn,
                              const std::vector<Tensor>& inputs, GradcheckOptions options) {
  std::vector<Tensor> differentiable;
  for (const Tensor& x : inputs)
    if (x.defined() && x.requires_grad()) differentiable.push_back(x);
  MINIDL_CHECK(!differentiable.empty(), "gradgradcheck", "no input requires grad");
  Generator gen(options.seed + 1);
  std::vector<Tensor> directions;
  for (const Tensor& x : differentiable) directions.push_back(randn(x.shape(), kFloat64, &gen));
  Tensor upstream;  // drawn once, on the first call, from the output's shape
  auto first_order = [&](const std::vector<Tensor>& xs) {
    EnableGradGuard grad_mode;  // gradcheck evaluates the numeric side under NoGradGuard
    Tensor y = fn(xs);
    MINIDL_CHECK(y.requires_grad(), "gradgradcheck", "the function's output does not require grad");
    if (!upstream.defined()) upstream = randn(y.shape(), kFloat64, &gen);
    std::vector<Tensor> g = grad({y}, differentiable, {upstream.to(y.dtype())}, true, true, true);
    Tensor h = zeros({}, kFloat64);
    for (size_t k = 0; k < g.size(); ++k)
      if (g[k].defined()) h = h.add((g[k].to(kFloat64).mul(directions[k])).sum());
    return h;
  };
  return gradcheck(first_order, inputs, options);
}

}  // namespace minidl
