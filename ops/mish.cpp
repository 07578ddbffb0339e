// mish (ops/mish.h): one fused elementwise loop forward, one fused loop backward, and a backward
// made of recorded ops for create_graph (so that mish is twice differentiable).
//
// This file is the worked example of docs/internals.md ("Writing a new op"): a new op needs
// (1) a forward kernel, (2) a tape record with PyTorch's node name and a formula comment above it,
// (3) a backward -- fused for speed, recorded ops when grad mode is on -- and (4) an input check
// whose error names the op.
#include "ops/mish.h"

#include <cmath>

#include "core/autograd.h"
#include "ops/elementwise.h"
#include "ops/loops.h"

namespace minidl {

namespace {
// softplus(v) = ln(1 + e^v) = max(v, 0) + ln(1 + e^-|v|): e^-|v| <= 1 never overflows.
template <typename T>
T softplus_of(T v) {
  const T positive = v > 0 ? v : T(0);
  return positive + std::log1p(exp_vec(-std::fabs(v)));
}

// d mish / dx = t + x (1 - t^2) sigmoid(x), t = tanh(softplus(x)):
//   d/dx [x t] = t + x dt/dx,  dt/dx = (1 - t^2) dsoftplus/dx,  dsoftplus/dx = sigmoid(x).
template <typename T>
T mish_derivative(T v) {
  const T t = tanh_vec(softplus_of(v));
  const T s = T(1) / (T(1) + exp_vec(-v));
  return t + v * (T(1) - t * t) * s;
}
}  // namespace

Tensor mish(const Tensor& x) {
  MINIDL_CHECK(x.defined(), "mish", "input is undefined");
  MINIDL_CHECK(x.is_floating_point(), "mish",
               "expects a floating-point tensor, got " << x.dtype() << " (shape "
                                                       << shape_str(x.shape()) << ")");
  // Forward: one pass over x, whatever its strides (unary_loop walks views through StridedIter).
  Tensor out = empty(x.shape(), x.dtype());
  MINIDL_DISPATCH_FLOATING(x.dtype(), "mish",
                           unary_loop<scalar_t, scalar_t>(
                               out, x, [](scalar_t v) { return v * tanh_vec(softplus_of(v)); }));
  if (!needs_grad({x})) return out;
  // x, with its version: an in-place change to x before backward is caught
  SavedTensor saved_x(x);
  // out = x tanh(softplus(x)) ;  dx = dout (t + x (1 - t^2) sigmoid(x))
  //   with t = tanh(softplus(x))
  // derivation:
  //   softplus(x) = ln(1 + e^x), so d softplus / dx = e^x / (1 + e^x) = sigmoid(x)
  //   t = tanh(softplus(x)), so dt/dx = (1 - t^2) sigmoid(x)     (tanh' = 1 - tanh^2)
  //   out = x t, so d out / dx = t + x dt/dx = t + x (1 - t^2) sigmoid(x)   (product rule)
  //   dx = dout * d out / dx, elementwise (x, out and dout all have x's shape)
  record("MishBackward0", out, {x}, [saved_x](const Tensor& dout) {
    const Tensor v = saved_x.get();
    // create_graph (grad mode on while backward runs): the same formula with recorded ops, so
    // the gradient has its own tape and can be differentiated again.
    if (GradMode::is_enabled()) {
      const Tensor t = tanh(softplus(v));
      return GradList{dout * (t + v * (1.0 - t * t) * sigmoid(v))};
    }
    // Otherwise one fused loop over (dout, x).
    return GradList{binary_map(dout, v, [](auto g, auto xv) { return g * mish_derivative(xv); })};
  })->twice_differentiable = true;
  return out;
}

}  // namespace minidl
