// huber_loss and smooth_l1_loss (see ops/regression_loss.h): one elementwise map over the
// broadcast operands forward, one backward below it, both from the same value/slope pair.
#include "ops/regression_loss.h"

#include <cmath>

#include "core/autograd.h"
#include "core/factories.h"
#include "core/shape.h"
#include "ops/compare.h"
#include "ops/elementwise.h"
#include "ops/loops.h"
#include "ops/reduction.h"

namespace minidl {

namespace {

void check_operands(const Tensor& input, const Tensor& target, const char* op) {
  MINIDL_CHECK(input.defined(), op, "input is undefined");
  MINIDL_CHECK(target.defined(), op, "target is undefined");
  MINIDL_CHECK(input.is_floating_point(), op,
               "expects a floating-point input, got " << input.dtype() << " of shape "
                                                      << shape_str(input.shape()));
  MINIDL_CHECK(target.dtype() == input.dtype(), op,
               "target is " << target.dtype() << " but input is " << input.dtype() << " (shapes "
                            << shape_str(input.shape()) << " and " << shape_str(target.shape())
                            << ")");
}

// The loss of d = input - target through value(d) forward and slope(d) = dl/dd backward, with
// broadcasting and the reduction (see the header).
// recorded_slope is slope in recorded ops, used under create_graph (twice differentiable).
template <typename Value, typename Slope, typename RecordedSlope>
Tensor regression_loss(const Tensor& input, const Tensor& target, Reduction reduction,
                       const char* op, const char* backward_name, Value value, Slope slope,
                       RecordedSlope recorded_slope) {
  const Shape shape = broadcast_shapes(input.shape(), target.shape(), op);
  // l[i] = value(input[i] - target[i]) over the broadcast shape: [*shape]
  Tensor losses = empty(shape, input.dtype());
  MINIDL_DISPATCH_FLOATING(input.dtype(), op, {
    binary_loop<scalar_t, scalar_t, scalar_t>(
        losses, input, target, [value](scalar_t x, scalar_t t) {
          return static_cast<scalar_t>(value(static_cast<double>(x) - static_cast<double>(t)));
        });
  });
  const int64_t numel = shape_numel(shape);
  Tensor out = losses;
  if (reduction != Reduction::None) {
    const double total = sum(losses).item<double>();
    // Mean of nothing: 0 / 0 = NaN, as in PyTorch.
    out = full({}, reduction == Reduction::Mean ? total / static_cast<double>(numel) : total,
               input.dtype());
  }
  // dinput = sum_to(slope(d) * up, input's shape) ,  dtarget = -sum_to(slope(d) * up, target's)
  // with up = dout (None), dout (Sum) or dout / numel (Mean).
  if (needs_grad({input, target})) {
    const bool grad_input = input.requires_grad(), grad_target = target.requires_grad();
    const Shape input_shape = input.shape(), target_shape = target.shape();
    SavedTensor saved_input(input), saved_target(target);
    record(backward_name, out, {input, target}, [=](const Tensor& grad) {
      const Tensor up =
          reduction == Reduction::Mean ? grad * (1.0 / static_cast<double>(numel)) : grad;
      Tensor d_difference;
      if (GradMode::is_enabled()) {
        d_difference = recorded_slope(saved_input.get() - saved_target.get()) * up;
      } else {
        d_difference = empty(shape, grad.dtype());
        MINIDL_DISPATCH_FLOATING(grad.dtype(), backward_name, {
          ternary_loop<scalar_t, scalar_t, scalar_t, scalar_t>(
              d_difference, saved_input.get(), saved_target.get(), up,
              [slope](scalar_t x, scalar_t t, scalar_t g) {
                return static_cast<scalar_t>(
                    slope(static_cast<double>(x) - static_cast<double>(t)) * g);
              });
        });
      }
      Tensor d_input, d_target;
      if (grad_input) d_input = sum_to(d_difference, input_shape);
      if (grad_target) d_target = -sum_to(d_difference, target_shape);
      return GradList{d_input, d_target};
    })->twice_differentiable = true;
  }
  return out;
}

}  // namespace

Tensor huber_loss(const Tensor& input, const Tensor& target, Reduction reduction, double delta) {
  const char* op = "huber_loss";
  check_operands(input, target, op);
  MINIDL_CHECK(delta > 0, op, "delta must be positive, got " << delta);
  // out = reduce(l(d)), d = input - target, l = 0.5 d² (|d| < delta), delta (|d| - delta / 2) ;
  //   dinput = up clamp(d, -delta, delta) ,  dtarget = -up clamp(d, -delta, delta)
  //   (dl/dd = d inside, ±delta outside; up = dout, or dout / numel for mean; broadcast inputs
  //   get their gradient summed back to their own shape)
  return regression_loss(
      input, target, reduction, op, "HuberLossBackward0",
      [delta](double d) {
        const double z = std::fabs(d);
        return z < delta ? 0.5 * d * d : delta * (z - 0.5 * delta);
      },
      [delta](double d) { return d < -delta ? -delta : (d > delta ? delta : d); },
      [delta](const Tensor& d) { return clamp(d, -delta, delta); });
}

Tensor smooth_l1_loss(const Tensor& input, const Tensor& target, Reduction reduction, double beta) {
  const char* op = "smooth_l1_loss";
  check_operands(input, target, op);
  MINIDL_CHECK(beta >= 0, op, "beta must be non-negative, got " << beta);
  // out = reduce(l(d)), d = input - target, l = 0.5 d² / beta if |d| < beta else |d| - 0.5 beta ;
  //   dinput = up (d / beta if |d| < beta else sign(d)) ,  dtarget = -dinput
  //   (beta = 0: plain L1, dl/dd = sign(d); up = dout, or dout / numel for mean)
  return regression_loss(
      input, target, reduction, op, "SmoothL1LossBackward0",
      [beta](double d) {
        const double z = std::fabs(d);
        return z < beta ? 0.5 * d * d / beta : z - 0.5 * beta;
      },
      [beta](double d) { return d <= -beta ? -1.0 : (d >= beta ? 1.0 : d / beta); },
      [beta](const Tensor& d) {
        if (beta == 0) return gt(d, 0.0).to(d.dtype()) - lt(d, 0.0).to(d.dtype());  // sign(d)
        Tensor inside = logical_and(gt(d, -beta), lt(d, beta)).to(d.dtype());       // |d| < beta
        return inside * (d / beta) +
               (1.0 - inside) * (gt(d, 0.0).to(d.dtype()) - lt(d, 0.0).to(d.dtype()));
      });
}

}  // namespace minidl
