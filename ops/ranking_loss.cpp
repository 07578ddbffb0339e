// margin_ranking_loss (see ops/ranking_loss.h), composed of differentiable ops (sub, mul,
// clamp_min, sum / mean), so its backward is theirs.
#include "ops/ranking_loss.h"

#include "core/shape.h"
#include "ops/clamp.h"
#include "ops/elementwise.h"
#include "ops/reduction.h"

namespace minidl {

Tensor margin_ranking_loss(const Tensor& input1, const Tensor& input2, const Tensor& target,
                           double margin, Reduction reduction) {
  const char* op = "margin_ranking_loss";
  MINIDL_CHECK(input1.defined() && input2.defined() && target.defined(), op,
               "input1, input2 and target must all be defined");
  MINIDL_CHECK(input1.dim() == input2.dim() && input1.dim() == target.dim(), op,
               "all operands must have the same number of dims, got input1 "
                   << shape_str(input1.shape()) << ", input2 " << shape_str(input2.shape())
                   << ", target " << shape_str(target.shape()));
  MINIDL_CHECK(input1.is_floating_point(), op,
               "expects floating-point operands, got " << input1.dtype() << " of shape "
                                                       << shape_str(input1.shape()));
  MINIDL_CHECK(input2.dtype() == input1.dtype() && target.dtype() == input1.dtype(), op,
               "operands must share a dtype, got input1 " << input1.dtype() << ", input2 "
                                                          << input2.dtype() << ", target "
                                                          << target.dtype());
  broadcast_shapes(broadcast_shapes(input1.shape(), input2.shape(), op), target.shape(), op);
  // l = max(0, -y (x1 - x2) + margin) ;  dx1 = -y, dx2 = y, dy = -(x1 - x2) where active
  Tensor loss = clamp_min(add(neg(target) * (input1 - input2), margin), 0.0);
  switch (reduction) {
    case Reduction::None:
      return loss;
    case Reduction::Sum:
      return sum(loss);
    case Reduction::Mean:
      return mean(loss);
  }
  MINIDL_FAIL(op, "unknown reduction");
}

}  // namespace minidl
