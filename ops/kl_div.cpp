// kl_div (see ops/kl_div.h), composed of differentiable elementwise ops and reductions, so its
// backward is theirs: d/dx (xlogy(t, t) - t x) = -t, d/dt = log t + 1 - x.
#include "ops/kl_div.h"

#include "core/shape.h"
#include "ops/compare.h"
#include "ops/elementwise.h"
#include "ops/reduction.h"

namespace minidl {

const char* reduction_name(KLDivReduction reduction) {
  switch (reduction.kind) {
    case KLDivReduction::None:
      return "none";
    case KLDivReduction::BatchMean:
      return "batchmean";
    case KLDivReduction::Sum:
      return "sum";
    case KLDivReduction::Mean:
      return "mean";
  }
  return "unknown";
}

Tensor kl_div(const Tensor& input, const Tensor& target, KLDivReduction reduction,
              bool log_target) {
  MINIDL_CHECK(input.defined(), "kl_div", "input is undefined");
  MINIDL_CHECK(target.defined(), "kl_div", "target is undefined");
  MINIDL_CHECK(input.is_floating_point(), "kl_div",
               "expects a floating-point input (log-probabilities), got "
                   << input.dtype() << " of shape " << shape_str(input.shape()));
  MINIDL_CHECK(target.dtype() == input.dtype(), "kl_div",
               "target is " << target.dtype() << " but input is " << input.dtype() << " (shapes "
                            << shape_str(input.shape()) << " and " << shape_str(target.shape())
                            << ")");
  broadcast_shapes(input.shape(), target.shape(), "kl_div");
  Tensor loss;
  if (log_target) {
    // l = exp(t) (t - x) ;  dx = -exp(t) ,  dt = exp(t) (t - x + 1)
    loss = exp(target) * (target - input);
  } else {
    // l = xlogy(t, t) - t x ;  dx = -t ,  dt = log t + 1 - x
    // (where() picks 0 at t == 0, where t log t is 0 * -inf.)
    Tensor t_log_t = where(eq(target, 0.0), 0.0, target * log(target));
    loss = t_log_t - target * input;
  }
  switch (reduction.kind) {
    case KLDivReduction::None:
      return loss;
    case KLDivReduction::Sum:
      return sum(loss);
    case KLDivReduction::Mean:
      return mean(loss);
    case KLDivReduction::BatchMean:
      return input.dim() == 0 ? sum(loss) : div(sum(loss), static_cast<double>(input.size(0)));
  }
  MINIDL_FAIL("kl_div", "unknown reduction");
}

}  // namespace minidl
