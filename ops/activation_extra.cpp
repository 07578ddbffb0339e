// silu, hardtanh and relu6 (see ops/activation_extra.h) as compositions of differentiable ops.
#include "ops/activation_extra.h"

#include "core/shape.h"
#include "ops/compare.h"
#include "ops/elementwise.h"

namespace minidl {

namespace {
void check_input(const Tensor& x, const char* op) {
  MINIDL_CHECK(x.defined(), op, "input is undefined");
  MINIDL_CHECK(
      x.is_floating_point(), op,
      "expects a floating-point input, got " << x.dtype() << " of shape " << shape_str(x.shape()));
}
}  // namespace

Tensor silu(const Tensor& x) {
  check_input(x, "silu");
  // y = x s ;  dx = dy (s + x s (1 - s)), by the product rule through mul and sigmoid
  return x * sigmoid(x);
}

Tensor hardtanh(const Tensor& x, double min_val, double max_val) {
  check_input(x, "hardtanh");
  MINIDL_CHECK(min_val <= max_val, "hardtanh",
               "min_val (" << min_val << ") must be <= max_val (" << max_val << ")");
  // y = x strictly inside (min_val, max_val), where dx = dy; the clamped value (a constant, so
  // dx = 0) on the boundaries and outside. NaN compares false and stays NaN through clamp.
  Tensor inside = logical_and(gt(x, min_val), lt(x, max_val));
  return where(inside, x, clamp(x.detach(), min_val, max_val));
}

Tensor relu6(const Tensor& x) {
  check_input(x, "relu6");
  return hardtanh(x, 0.0, 6.0);
}

}  // namespace minidl
