// Kullback-Leibler divergence loss with PyTorch 1.13's name, arguments and semantics
// (torch.nn.functional.kl_div). input holds log-probabilities; target holds probabilities, or
// log-probabilities when log_target is true. Elementwise, over the broadcast shape:
//   log_target false:  l = xlogy(t, t) - t x        (0 where t == 0, NaN where t < 0)
//   log_target true:   l = exp(t) (t - x)
// then the reduction: None returns l, Sum adds, Mean averages over all elements, and BatchMean
// (the true KL divergence per sample) divides the sum by input's first dim (input 0-d: the sum).
//
// Gradients (as PyTorch's autograd of that formula):
//   log_target false:  dx = -t,           dt = log t + 1 - x   (NaN where t == 0, as PyTorch's)
//   log_target true:   dx = -exp(t),      dt = exp(t) (t - x + 1)
// times the upstream gradient and the reduction's scale, summed back to a broadcast operand.
// input and target must share a floating dtype (minidl does not promote).
#pragma once

#include "core/tensor.h"
#include "ops/loss.h"

namespace minidl {

// kl_div's reduction: any Reduction (kNone, kMean, kSum convert implicitly) or kBatchMean.
struct KLDivReduction {
  enum Kind { None, BatchMean, Sum, Mean };
  constexpr KLDivReduction(Reduction reduction)  // NOLINT: implicit, so kSum works here too
      : kind(reduction == Reduction::None  ? None
             : reduction == Reduction::Sum ? Sum
                                           : Mean) {}
  constexpr explicit KLDivReduction(Kind k) : kind(k) {}
  constexpr bool operator==(KLDivReduction other) const { return kind == other.kind; }
  constexpr bool operator!=(KLDivReduction other) const { return kind != other.kind; }
  Kind kind;
};

// libtorch's torch::kBatchMean.
inline constexpr KLDivReduction kBatchMean{KLDivReduction::BatchMean};

// "none", "batchmean", "sum" or "mean", as PyTorch spells the reduction.
const char* reduction_name(KLDivReduction reduction);

// input (log-probs) and target broadcast -> the loss, reduced (None: the broadcast shape).
Tensor kl_div(const Tensor& input, const Tensor& target, KLDivReduction reduction = Reduction::Mean,
              bool log_target = false);

}  // namespace minidl
