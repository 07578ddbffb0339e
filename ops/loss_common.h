// What the loss functions share (ops/loss.cpp, ops/elementwise_loss.cpp,
// ops/probability_loss.cpp): argument checks, reduction of per-element losses, and the upstream
// gradient scaled for a reduction. Internal to ops/.
#pragma once

#include "core/tensor.h"
#include "ops/loss.h"

namespace minidl::detail {

// Errors unless input is defined and floating-point, naming `op`.
void check_floating_input(const Tensor& input, const char* op);
// check_floating_input, and target defined with input's shape and dtype.
void check_same_shape(const Tensor& input, const Tensor& target, const char* op);
// If w (a weight named `name`) is defined: input's dtype, and it broadcasts to input's shape.
void check_broadcast_weight(const Tensor& w, const char* name, const Tensor& input, const char* op);

// Reduces per-position (or per-element) losses, a fresh contiguous tensor: None returns them as
// they are, Sum adds them, Mean divides that sum by `denominator` (0/0 = NaN when nothing counts,
// as in PyTorch). Sums accumulate in double, in chunk order (the same bits however chunks ran).
Tensor reduce_losses(const Tensor& values, Reduction reduction, double denominator);

// The upstream gradient as a tensor broadcastable to the input: grad itself (None, Sum), or the
// scalar grad divided by the element count (Mean).
Tensor scaled_upstream(const Tensor& grad, Reduction reduction, int64_t numel);

}  // namespace minidl::detail
