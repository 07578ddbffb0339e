// binary_cross_entropy (see ops/probability_loss.h): the input checked to lie in [0, 1], one
// elementwise map over (input, target, weight) forward, and the two direct gradients below it.
#include "ops/probability_loss.h"

#include <algorithm>
#include <cmath>

#include "core/autograd.h"
#include "core/factories.h"
#include "core/shape.h"
#include "ops/elementwise.h"
#include "ops/linalg.h"
#include "ops/loops.h"
#include "ops/loss_common.h"
#include "ops/reduction.h"

namespace minidl {

namespace {

constexpr double kLogFloor = -100.0;  // PyTorch clamps each log of the loss here
// PyTorch floors x (1 - x) in the input's gradient at 1e-12 -- its float constant, whose value
// in double is 9.99999996e-13 (so a gradient at x = 0 or 1 is (x - t) 1.000000004e12).
constexpr double kEpsilon = static_cast<double>(1e-12f);

// Errors unless every element of x is in [0, 1] (a NaN is not), naming the first one outside.
template <typename T>
void check_probabilities(const Tensor& x, const char* op) {
  const Tensor values = detail::dense(x);  // (copied only when x is not contiguous)
  const T* p = values.data_ptr<T>();
  const int64_t n = values.numel();
  for (int64_t i = 0; i < n; ++i) {
    MINIDL_CHECK(p[i] >= 0 && p[i] <= 1, op,
                 "all elements of input should be between 0 and 1, but element "
                     << index_str(x.shape(), i) << " of the input of shape " << shape_str(x.shape())
                     << " is " << p[i]);
  }
}

// out[i] = f(x[i]) as a fresh tensor of x's shape and (floating) dtype.
template <typename F>
Tensor map_input(const Tensor& x, F f) {
  Tensor out = empty(x.shape(), x.dtype());
  MINIDL_DISPATCH_FLOATING(x.dtype(), "backward", unary_loop<scalar_t, scalar_t>(out, x, f));
  return out;
}

}  // namespace

Tensor binary_cross_entropy(const Tensor& input, const Tensor& target, const Tensor& weight,
                            Reduction reduction) {
  const char* op = "binary_cross_entropy";
  detail::check_same_shape(input, target, op);
  detail::check_broadcast_weight(weight, "weight", input, op);
  MINIDL_CHECK(!weight.defined() || !needs_grad({weight}), op,
               "weight requires grad, but the loss is not differentiable in weight (as in "
               "PyTorch); pass weight.detach()");
  const Shape shape = input.shape();
  MINIDL_DISPATCH_FLOATING(input.dtype(), op, check_probabilities<scalar_t>(input, op));
  const Tensor w = weight.defined() ? weight : ones({}, input.dtype());

  // l = -w (t max(log x, -100) + (1 - t) max(log(1 - x), -100))
  Tensor losses = empty(shape, input.dtype());
  MINIDL_DISPATCH_FLOATING(input.dtype(), op, {
    ternary_loop<scalar_t, scalar_t, scalar_t, scalar_t>(
        losses, input, target, w, [](scalar_t x, scalar_t t, scalar_t wv) {
          const double log_x = std::max(std::log(static_cast<double>(x)), kLogFloor);
          const double log_1mx = std::max(std::log(1.0 - static_cast<double>(x)), kLogFloor);
          const double td = static_cast<double>(t);
          return static_cast<scalar_t>(-static_cast<double>(wv) *
                                       (td * log_x + (1.0 - td) * log_1mx));
        });
  });
  Tensor out = detail::reduce_losses(losses, reduction, static_cast<double>(input.numel()));

  // out = reduce(-w (target log input + (1 - target) log(1 - input))) ;
  //   dinput = up w (input - target) / max(input (1 - input), 1e-12) ,
  //   dtarget = up w (log(1 - input) - log input)   (up = dout, or dout / numel for mean)
  // derivation: d/dx of -(t log x + (1 - t) log(1 - x)) = -t/x + (1 - t)/(1 - x)
  //   = (x - t) / (x (1 - x)); the denominator is clamped at 1e-12 (PyTorch's epsilon), the
  //   logs in the loss at -100; weight is a constant (a weight requiring grad is rejected)
  if (needs_grad({input, target})) {
    const bool want_input = input.requires_grad(), want_target = target.requires_grad();
    const int64_t numel = input.numel();
    record("BinaryCrossEntropyBackward0", out, {input, target},
           [=, saved_x = SavedTensor(input), saved_t = SavedTensor(target),
            saved_w = SavedTensor(w)](const Tensor& grad) {
             const Tensor& x = saved_x.get();
             const Tensor up_w = detail::scaled_upstream(grad, reduction, numel) * saved_w.get();
             Tensor dx, dt;
             if (GradMode::is_enabled()) {  // create_graph: the same formulas, recorded
               if (want_input)
                 dx = up_w * (x - saved_t.get()) / clamp(x * (1.0 - x), kEpsilon, std::nullopt);
               if (want_target) dt = up_w * ((1.0 - x).log() - x.log());
               return GradList{dx, dt};
             }
             if (want_input) {
               dx = up_w * binary_map(x, saved_t.get(), [](auto xv, auto tv) {
                      using T = decltype(xv);
                      const double xd = static_cast<double>(xv);
                      return static_cast<T>((xd - static_cast<double>(tv)) /
                                            std::max(xd * (1.0 - xd), kEpsilon));
                    });
             }
             if (want_target) {
               dt = up_w * map_input(x, [](auto xv) {
                      using T = decltype(xv);
                      const double xd = static_cast<double>(xv);
                      return static_cast<T>(std::log(1.0 - xd) - std::log(xd));
                    });
             }
             return GradList{dx, dt};
           })
        ->twice_differentiable = true;
  }
  return out;
}

}  // namespace minidl
