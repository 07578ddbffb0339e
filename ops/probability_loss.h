// Losses on probabilities (not logits), with PyTorch 1.13's names, arguments and semantics.
//
// binary_cross_entropy (torch.nn.functional.binary_cross_entropy): for input x in [0, 1] and
// target t of the same shape and dtype,
//   l = -w (t max(log x, -100) + (1 - t) max(log(1 - x), -100))
// (the logs clamped at -100 as in PyTorch, so x = 0 or 1 gives a finite loss), then the
// reduction of ops/loss.h (Mean averages over all elements). weight w, optional, broadcasts to
// the input's shape and is a constant: one that requires grad is an error, as in PyTorch.
// An input element outside [0, 1] (or NaN), a target shape or dtype unlike the input's, and a
// weight that does not broadcast are errors naming the op. For probabilities from a sigmoid,
// binary_cross_entropy_with_logits (ops/loss.h) is the stable choice.
//
// Gradients (PyTorch's kernels):
//   dx = dout w (x - t) / max(x (1 - x), 1e-12)     (1e-12 rounded to float, as PyTorch's)
//   dt = dout w (log(1 - x) - log x)          (-logit(x), unclamped: infinite at x = 0 or 1)
// times 1 / numel for Mean.
#pragma once

#include "core/tensor.h"
#include "ops/loss.h"

namespace minidl {

// input x in [0, 1] and target: same shape, floating -> scalar (None: x's shape).
Tensor binary_cross_entropy(const Tensor& input, const Tensor& target,
                            const Tensor& weight = Tensor(), Reduction reduction = Reduction::Mean);

}  // namespace minidl
