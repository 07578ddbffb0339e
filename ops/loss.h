// Loss functions with PyTorch's names, arguments and semantics (torch.nn.functional.*).
//
// Every loss computes one value per element (or per position, for the classification losses) and
// then reduces: None returns those values, Sum adds them, Mean averages them (a weighted average
// for the weighted classification losses, see below). An empty Mean is 0/0 = NaN, as in PyTorch.
// Class weights, `weight` and `pos_weight` are constants: no gradient flows into them (as in
// PyTorch, which does not implement those derivatives).
#pragma once

#include <cstdint>

#include "core/tensor.h"

namespace minidl {

enum class Reduction { None, Mean, Sum };

// libtorch's reduction tags (torch::kNone, torch::kMean, torch::kSum), usable wherever a
// Reduction is: `mse_loss(a, b, kSum)`, `nn::MSELossOptions().reduction(kSum)`.
inline constexpr Reduction kNone = Reduction::None;
inline constexpr Reduction kMean = Reduction::Mean;
inline constexpr Reduction kSum = Reduction::Sum;

// Cross entropy of logits `input` against `target`, fused (log-softmax + NLL in one kernel, with
// the direct backward dx = (softmax - smoothed one-hot) times the weights and the reduction scale).
//
// Shapes: input [N, C], [N, C, d1, ...] or unbatched [C]; the class dim is 1 (0 when unbatched).
// target is either
//   - int64 class indices of shape [N] / [N, d1, ...] / [] in [0, C), or ignore_index: an ignored
//     position contributes 0 to the loss and to the Mean's denominator and gets zero gradient;
//   - float class probabilities of input's shape (and dtype); ignore_index must then stay
//     negative. This target is differentiable.
// weight: optional [C] rescaling of each class.
// label_smoothing in [0, 1]: the target mixes with the uniform distribution,
//   (1 - label_smoothing) * target + label_smoothing / C.
// Per position p with class index t (PyTorch 1.13 exactly):
//   loss_p = (1 - ls) w[t] (-log p_t) + (ls / C) sum_c w[c] (-log p_c)
// and Mean divides sum_p loss_p by sum_p w[t_p] over non-ignored positions (NaN when all are
// ignored). With probability targets q: loss_p = -sum_c w[c] q'_c log p_c, and Mean divides by the
// number of positions (N * d1 * ...), not by the weights.
Tensor cross_entropy(const Tensor& input, const Tensor& target, const Tensor& weight = Tensor(),
                     int64_t ignore_index = -100, Reduction reduction = Reduction::Mean,
                     double label_smoothing = 0.0);

// Negative log-likelihood of log-probabilities `input` (shapes as cross_entropy, class-index
// targets only): loss_p = -w[t] input[p, t]; Mean divides by sum_p w[t_p] over non-ignored
// positions.
Tensor nll_loss(const Tensor& input, const Tensor& target, const Tensor& weight = Tensor(),
                int64_t ignore_index = -100, Reduction reduction = Reduction::Mean);

// libtorch's ATen argument order, where the reduction comes before ignore_index:
// torch::nll_loss(x, t, /*weight=*/{}, torch::Reduction::Sum) and torch::cross_entropy_loss(x, t,
// weight, reduction, ignore_index, label_smoothing). The same ops as above.
inline Tensor nll_loss(const Tensor& input, const Tensor& target, const Tensor& weight,
                       Reduction reduction, int64_t ignore_index = -100) {
  return nll_loss(input, target, weight, ignore_index, reduction);
}
inline Tensor cross_entropy_loss(const Tensor& input, const Tensor& target,
                                 const Tensor& weight = Tensor(),
                                 Reduction reduction = Reduction::Mean, int64_t ignore_index = -100,
                                 double label_smoothing = 0.0) {
  return cross_entropy(input, target, weight, ignore_index, reduction, label_smoothing);
}

// (input - target)^2 elementwise. input and target must have the same shape and dtype (PyTorch
// broadcasts mismatched shapes with a warning that it is probably a bug; minidl refuses them).
// Differentiable in both.
Tensor mse_loss(const Tensor& input, const Tensor& target, Reduction reduction = Reduction::Mean);

// |input - target| elementwise (gradient sign(input - target), 0 where equal). Shapes as
// mse_loss. Differentiable in both.
Tensor l1_loss(const Tensor& input, const Tensor& target, Reduction reduction = Reduction::Mean);

// Binary cross entropy of logits against targets in [0, 1], computed stably:
//   loss = weight * ((1 - t) x + (1 + (pos_weight - 1) t) (log(1 + e^-|x|) + max(-x, 0)))
// target has input's shape; weight and pos_weight (usually [C] for input [N, C]) broadcast to it.
// Differentiable in input and target.
Tensor binary_cross_entropy_with_logits(const Tensor& input, const Tensor& target,
                                        const Tensor& weight = Tensor(),
                                        const Tensor& pos_weight = Tensor(),
                                        Reduction reduction = Reduction::Mean);

}  // namespace minidl
