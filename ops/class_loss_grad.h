// The backward of the classification losses (ops/loss.cpp: cross_entropy, nll_loss) composed of
// recorded ops: what their tape entries run under create_graph, so that a gradient penalty or a
// Hessian-vector product can go through them. The first-order backward stays the fused kernel.
// Internal to ops/.
//
// input [N, C, d1, ...] or [C] (class dim 1, or 0 unbatched); `grad` is the loss's upstream
// gradient (per position for Reduction::None, else a scalar); `denominator` is what Mean divided
// by. Class weights and class-index targets are constants; `input` (and a probability target)
// carry the history the result is differentiated along.
#pragma once

#include <cstdint>

#include "core/tensor.h"
#include "ops/loss.h"

namespace minidl::detail {

// dx = up (softmax(x) S - A) with A[p, c] = (1 - ls) w[t_p] [c == t_p] + (ls / C) w[c] (0 at
// ignored positions), S_p = sum_c A[p, c].
Tensor cross_entropy_index_grad(const Tensor& grad, const Tensor& input, const Tensor& target,
                                const Tensor& weight, int64_t ignore_index, Reduction reduction,
                                double label_smoothing, double denominator);

// With B = w q', q' = (1 - ls) q + ls / C:  dx = up (softmax(x) sum_c B - B) ,
//                                           dq = -up (1 - ls) w log_softmax(x).
// Returns {dx, dq}; each only when asked for.
std::vector<Tensor> cross_entropy_probability_grad(const Tensor& grad, const Tensor& input,
                                                   const Tensor& target, const Tensor& weight,
                                                   Reduction reduction, double label_smoothing,
                                                   double denominator, bool need_dx, bool need_dq);

// dx = -up A with A[p, c] = w[t_p] [c == t_p] (0 at ignored positions).
Tensor nll_loss_grad(const Tensor& grad, const Shape& input_shape, const Tensor& target,
                     const Tensor& weight, int64_t ignore_index, Reduction reduction,
                     double denominator);

}  // namespace minidl::detail
