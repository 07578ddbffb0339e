// The robust regression losses with PyTorch 1.13's names, arguments and semantics:
// torch.nn.functional.huber_loss and torch.nn.functional.smooth_l1_loss. Both are quadratic for
// small errors and linear for large ones, so a few large errors (e.g. the bootstrapped targets of
// a Q-learning agent early in training) cannot dominate the gradient.
//
// With d = input - target elementwise (input and target broadcast against each other, as in
// PyTorch, which warns that a size mismatch is probably a bug but computes it):
//   huber_loss:      l = 0.5 d^2               if |d| < delta
//                        delta (|d| - 0.5 delta) otherwise              (delta > 0)
//   smooth_l1_loss:  l = 0.5 d^2 / beta        if |d| < beta
//                        |d| - 0.5 beta          otherwise              (beta >= 0)
// so huber_loss(delta) = delta * smooth_l1_loss(beta = delta), and smooth_l1_loss(beta = 0) is
// l1_loss. Then the reduction: None returns l (in the broadcast shape), Sum adds, Mean averages
// over the broadcast shape's elements (an empty Mean is NaN, as in PyTorch).
//
// Gradients (PyTorch's kernels, boundaries included):
//   huber_loss:      dl/dd = -delta if d < -delta, delta if d > delta, else d
//   smooth_l1_loss:  dl/dd = -1 if d <= -beta, 1 if d >= beta, else d / beta
// (so at beta = 0 the slope at d = 0 is -1, PyTorch's choice of subgradient there); dl/dinput =
// dl/dd and dl/dtarget = -dl/dd, each summed back to its operand's shape when it was broadcast.
// Both operands are differentiable; they must share a floating dtype (minidl does not promote).
#pragma once

#include "core/tensor.h"
#include "ops/loss.h"

namespace minidl {

// input, target broadcast (same floating dtype) -> scalar (None: the broadcast shape); delta > 0.
Tensor huber_loss(const Tensor& input, const Tensor& target, Reduction reduction = Reduction::Mean,
                  double delta = 1.0);

// The same shapes as huber_loss; beta >= 0 (0 is l1_loss).
Tensor smooth_l1_loss(const Tensor& input, const Tensor& target,
                      Reduction reduction = Reduction::Mean, double beta = 1.0);

}  // namespace minidl
