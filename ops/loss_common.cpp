// The loss functions' shared checks and reductions (see ops/loss_common.h).
#include "ops/loss_common.h"

#include "core/factories.h"
#include "core/parallel.h"
#include "ops/elementwise.h"

namespace minidl::detail {

namespace {

// Sum of n values, accumulated in double.
template <typename T>
double total_of(const T* values, int64_t n) {
  // Per-chunk partial sums added in chunk order: the same total however the chunks ran.
  return parallel_sum<double>(0, n, kParallelGrain, [&](int64_t begin, int64_t end) {
    double total = 0;
    for (int64_t i = begin; i < end; ++i) total += values[i];
    return total;
  });
}

}  // namespace

void check_floating_input(const Tensor& input, const char* op) {
  MINIDL_CHECK(input.defined(), op, "input is undefined");
  MINIDL_CHECK(input.is_floating_point(), op,
               "expects a floating-point input, got " << input.dtype() << " of shape "
                                                      << shape_str(input.shape()));
}

void check_same_shape(const Tensor& input, const Tensor& target, const char* op) {
  check_floating_input(input, op);
  MINIDL_CHECK(target.defined(), op, "target is undefined");
  MINIDL_CHECK(target.shape() == input.shape(), op,
               "target shape " << shape_str(target.shape()) << " must match input shape "
                               << shape_str(input.shape()));
  MINIDL_CHECK(target.dtype() == input.dtype(), op,
               "target is " << target.dtype() << " but input is " << input.dtype() << " (shape "
                            << shape_str(input.shape()) << ")");
}

void check_broadcast_weight(const Tensor& w, const char* name, const Tensor& input,
                            const char* op) {
  if (!w.defined()) return;
  MINIDL_CHECK(w.dtype() == input.dtype(), op,
               name << " is " << w.dtype() << " but input is " << input.dtype());
  MINIDL_CHECK(broadcast_shapes(w.shape(), input.shape(), op) == input.shape(), op,
               name << " of shape " << shape_str(w.shape())
                    << " does not broadcast to the input's shape " << shape_str(input.shape()));
}

Tensor reduce_losses(const Tensor& values, Reduction reduction, double denominator) {
  if (reduction == Reduction::None) return values;
  Tensor out = empty({}, values.dtype());
  MINIDL_DISPATCH_FLOATING(values.dtype(), "loss", {
    double total = total_of(values.data_ptr<scalar_t>(), values.numel());
    if (reduction == Reduction::Mean) total /= denominator;
    out.data_ptr<scalar_t>()[0] = static_cast<scalar_t>(total);
  });
  return out;
}

Tensor scaled_upstream(const Tensor& grad, Reduction reduction, int64_t numel) {
  if (reduction != Reduction::Mean) return grad;
  return grad * (1.0 / static_cast<double>(numel));
}

}  // namespace minidl::detail
