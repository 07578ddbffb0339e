// dropout: one mask draw (serial: the generator is a single stream), one fused multiply each way.
#include "ops/dropout.h"

#include <mutex>

#include "core/autograd.h"
#include "core/factories.h"
#include "ops/elementwise.h"
#include "ops/loops.h"

namespace minidl {

namespace {

// A dropout mask of `shape` with the scale folded in: m / (1 - p), m in {0, 1} and 0 with
// probability p, one draw per entry in order (all zeros when p == 1, which draws nothing).
Tensor scaled_mask(const Shape& shape, DType dtype, double p, Generator* generator,
                   const char* op) {
  Tensor mask = empty(shape, dtype);
  Generator& g = generator ? *generator : default_generator();
  MINIDL_DISPATCH_FLOATING(dtype, op, {
    scalar_t* pm = mask.data_ptr<scalar_t>();
    const int64_t n = mask.numel();
    if (p == 1.0) {
      for (int64_t i = 0; i < n; ++i) pm[i] = 0;
    } else {
      const scalar_t scale = static_cast<scalar_t>(1.0 / (1.0 - p));
      std::lock_guard<std::mutex> lock(g.mutex);
      for (int64_t i = 0; i < n; ++i) pm[i] = g.uniform() < p ? scalar_t(0) : scale;
    }
  });
  return mask;
}

}  // namespace

Tensor dropout(const Tensor& x, double p, bool training, Generator* generator) {
  MINIDL_CHECK(p >= 0.0 && p <= 1.0, "dropout",
               "probability has to be between 0 and 1, but got " << p);
  MINIDL_CHECK(
      x.is_floating_point(), "dropout",
      "expects a floating-point tensor, got " << x.dtype() << " of shape " << shape_str(x.shape()));
  if (!training || p == 0.0) return x;

  // The mask already holds the scale.
  Tensor mask = scaled_mask(x.shape(), x.dtype(), p, generator, "dropout");
  Tensor out = empty(x.shape(), x.dtype());
  MINIDL_DISPATCH_FLOATING(x.dtype(), "dropout",
                           binary_loop<scalar_t, scalar_t, scalar_t>(
                               out, x, mask, [](scalar_t v, scalar_t m) { return v * m; }));
  // out = x * mask / (1 - p) ;  dx = dout * mask / (1 - p)
  // derivation: out is x times a constant (the Bernoulli(1 - p) mask drawn in the forward, the
  //   1 / (1 - p) scale folded in), so dx multiplies by the same saved scaled mask: the same
  //   elements are dropped in backward as in forward
  if (needs_grad({x})) {
    SavedTensor saved_mask(mask);
    record("DropoutBackward0", out, {x}, [saved_mask](const Tensor& grad) {
      const Tensor& m = saved_mask.get();
      if (GradMode::is_enabled()) return GradList{grad * m};  // create_graph: recorded
      Tensor dx = empty(m.shape(), m.dtype());
      MINIDL_DISPATCH_FLOATING(m.dtype(), "DropoutBackward0",
                               binary_loop<scalar_t, scalar_t, scalar_t>(
                                   dx, grad, m, [](scalar_t d, scalar_t k) { return d * k; }));
      return GradList{dx};
    })->twice_differentiable = true;
  }
  return out;
}

Tensor dropout2d(const Tensor& x, double p, bool training, Generator* generator) {
  MINIDL_CHECK(p >= 0.0 && p <= 1.0, "dropout2d",
               "probability has to be between 0 and 1, but got " << p);
  MINIDL_CHECK(x.defined(), "dropout2d", "input is undefined");
  MINIDL_CHECK(
      x.dim() == 3 || x.dim() == 4, "dropout2d",
      "expected a 4-D [N, C, H, W] or 3-D [C, H, W] input, got shape " << shape_str(x.shape()));
  MINIDL_CHECK(
      x.is_floating_point(), "dropout2d",
      "expects a floating-point tensor, got " << x.dtype() << " of shape " << shape_str(x.shape()));
  if (!training || p == 0.0) return x;

  // One scaled mask value per channel, [N, C, 1, 1] (or [C, 1, 1]), broadcast over the plane.
  Shape mask_shape = x.shape();
  mask_shape[mask_shape.size() - 1] = mask_shape[mask_shape.size() - 2] = 1;
  Tensor mask = scaled_mask(mask_shape, x.dtype(), p, generator, "dropout2d");
  // y = x * m / (1 - p) (broadcast multiply) ;  dx = dy * m / (1 - p) (its backward)
  return x * mask;
}

}  // namespace minidl
