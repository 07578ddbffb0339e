// Margin ranking loss with PyTorch 1.13's name, arguments and semantics
// (torch.nn.functional.margin_ranking_loss): target y = 1 says input1 should rank higher than
// input2, y = -1 the reverse. Elementwise, over the broadcast shape of the three operands
// (which must have the same number of dims, as PyTorch requires):
//   l = max(0, -y (x1 - x2) + margin)
// then the reduction of ops/loss.h (Mean averages over the broadcast shape; empty Mean is NaN).
// Gradients where the hinge is active (-y (x1 - x2) + margin >= 0, the tie included, as
// PyTorch's clamp_min): dx1 = -y, dx2 = y, dy = -(x1 - x2); 0 elsewhere; times the upstream
// gradient and the reduction's scale, summed back to broadcast operands. All three share one
// floating dtype.
#pragma once

#include "core/tensor.h"
#include "ops/loss.h"

namespace minidl {

// input1, input2, target (+1 / -1) broadcast -> scalar (None: the broadcast shape).
Tensor margin_ranking_loss(const Tensor& input1, const Tensor& input2, const Tensor& target,
                           double margin = 0.0, Reduction reduction = Reduction::Mean);

}  // namespace minidl
