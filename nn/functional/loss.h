// The loss options of torch::nn (MSELossOptions, CrossEntropyLossOptions, ...) and the
// torch::nn::functional losses that take them (F::MSELossFuncOptions is nn::MSELossOptions, as
// in libtorch), forwarding to ops/loss.h, ops/regression_loss.h, ops/probability_loss.h and
// ops/kl_div.h and ops/ranking_loss.h. Defaults are libtorch's: reduction kMean,
// ignore_index -100, label_smoothing 0, beta 1, delta 1, log_target false, margin 0.
//
//   F::mse_loss(out, target, F::MSELossFuncOptions(kSum));
//   F::cross_entropy(logits, labels, F::CrossEntropyFuncOptions().label_smoothing(0.1));
//   nn::CrossEntropyLoss loss(nn::CrossEntropyLossOptions().weight(w));   // nn/loss.h
#pragma once

#include <cstdint>

#include "core/arg.h"
#include "core/tensor.h"
#include "ops/kl_div.h"
#include "ops/loss.h"
#include "ops/probability_loss.h"
#include "ops/ranking_loss.h"
#include "ops/regression_loss.h"

namespace minidl::nn {

// Implicit from a reduction tag, as libtorch's: MSELossOptions(kSum).
struct MSELossOptions {
  MSELossOptions(Reduction reduction = kMean) : reduction_(reduction) {}  // NOLINT: implicit
  MINIDL_ARG(Reduction, reduction);
};

// Implicit from a reduction tag, as MSELossOptions.
struct L1LossOptions {
  L1LossOptions(Reduction reduction = kMean) : reduction_(reduction) {}  // NOLINT
  MINIDL_ARG(Reduction, reduction);
};

// reduction (kMean) and beta (1).
struct SmoothL1LossOptions {
  SmoothL1LossOptions(Reduction reduction = kMean) : reduction_(reduction) {}  // NOLINT
  MINIDL_ARG(Reduction, reduction);
  MINIDL_ARG(double, beta) = 1.0;
};

// reduction (kMean) and delta (1).
struct HuberLossOptions {
  HuberLossOptions(Reduction reduction = kMean) : reduction_(reduction) {}  // NOLINT
  MINIDL_ARG(Reduction, reduction);
  MINIDL_ARG(double, delta) = 1.0;
};

// weight [C] (undefined: none), ignore_index (-100), reduction (kMean), label_smoothing (0).
struct CrossEntropyLossOptions {
  CrossEntropyLossOptions(Reduction reduction = kMean) : reduction_(reduction) {}  // NOLINT
  MINIDL_ARG(Tensor, weight) = Tensor();
  MINIDL_ARG(int64_t, ignore_index) = -100;
  MINIDL_ARG(Reduction, reduction);
  MINIDL_ARG(double, label_smoothing) = 0.0;
};

// weight [C] (undefined: none), ignore_index (-100), reduction (kMean).
struct NLLLossOptions {
  NLLLossOptions(Reduction reduction = kMean) : reduction_(reduction) {}  // NOLINT
  MINIDL_ARG(Tensor, weight) = Tensor();
  MINIDL_ARG(int64_t, ignore_index) = -100;
  MINIDL_ARG(Reduction, reduction);
};

// weight (broadcast to the input; undefined: none) and reduction (kMean).
struct BCELossOptions {
  BCELossOptions(Reduction reduction = kMean) : reduction_(reduction) {}  // NOLINT
  MINIDL_ARG(Tensor, weight) = Tensor();
  MINIDL_ARG(Reduction, reduction);
};

// weight and pos_weight (broadcast to the input, usually [C]; undefined: none), reduction (kMean).
struct BCEWithLogitsLossOptions {
  BCEWithLogitsLossOptions(Reduction reduction = kMean) : reduction_(reduction) {}  // NOLINT
  MINIDL_ARG(Tensor, weight) = Tensor();
  MINIDL_ARG(Reduction, reduction);
  MINIDL_ARG(Tensor, pos_weight) = Tensor();
};

// reduction: kNone, kBatchMean, kSum or kMean (the default, as libtorch's).
struct KLDivLossOptions {
  KLDivLossOptions(KLDivReduction reduction = kMean) : reduction_(reduction) {}  // NOLINT
  KLDivLossOptions(Reduction reduction) : reduction_(reduction) {}               // NOLINT
  MINIDL_ARG(KLDivReduction, reduction);
  MINIDL_ARG(bool, log_target) = false;
};

// margin (0) and reduction (kMean).
struct MarginRankingLossOptions {
  MarginRankingLossOptions(Reduction reduction = kMean) : reduction_(reduction) {}  // NOLINT
  MINIDL_ARG(double, margin) = 0.0;
  MINIDL_ARG(Reduction, reduction);
};

namespace functional {

using MSELossFuncOptions = MSELossOptions;
using L1LossFuncOptions = L1LossOptions;
using SmoothL1LossFuncOptions = SmoothL1LossOptions;
using HuberLossFuncOptions = HuberLossOptions;
using CrossEntropyFuncOptions = CrossEntropyLossOptions;
using NLLLossFuncOptions = NLLLossOptions;
using BinaryCrossEntropyFuncOptions = BCELossOptions;
using BinaryCrossEntropyWithLogitsFuncOptions = BCEWithLogitsLossOptions;
using KLDivFuncOptions = KLDivLossOptions;
using MarginRankingLossFuncOptions = MarginRankingLossOptions;

// (input - target)^2: same shape and dtype -> scalar (kNone: input's shape).
inline Tensor mse_loss(const Tensor& input, const Tensor& target,
                       const MSELossFuncOptions& options = {}) {
  return minidl::mse_loss(input, target, options.reduction());
}

// |input - target|: same shape and dtype -> scalar (kNone: input's shape).
inline Tensor l1_loss(const Tensor& input, const Tensor& target,
                      const L1LossFuncOptions& options = {}) {
  return minidl::l1_loss(input, target, options.reduction());
}

// input and target broadcast -> scalar (kNone: the broadcast shape); ops/regression_loss.h.
inline Tensor smooth_l1_loss(const Tensor& input, const Tensor& target,
                             const SmoothL1LossFuncOptions& options = {}) {
  return minidl::smooth_l1_loss(input, target, options.reduction(), options.beta());
}

// input and target broadcast -> scalar (kNone: the broadcast shape); ops/regression_loss.h.
inline Tensor huber_loss(const Tensor& input, const Tensor& target,
                         const HuberLossFuncOptions& options = {}) {
  return minidl::huber_loss(input, target, options.reduction(), options.delta());
}

// logits [N, C] / [N, C, d1, ...] / [C], targets int64 [N, d1, ...] or probabilities of input's
// shape -> scalar (kNone: [N, d1, ...]); ops/loss.h.
inline Tensor cross_entropy(const Tensor& input, const Tensor& target,
                            const CrossEntropyFuncOptions& options = {}) {
  return minidl::cross_entropy(input, target, options.weight(), options.ignore_index(),
                               options.reduction(), options.label_smoothing());
}

// log-probs [N, C] / [N, C, d1, ...] / [C], int64 targets [N, d1, ...] -> scalar (kNone: [N, ...]).
inline Tensor nll_loss(const Tensor& input, const Tensor& target,
                       const NLLLossFuncOptions& options = {}) {
  return minidl::nll_loss(input, target, options.weight(), options.ignore_index(),
                          options.reduction());
}

// probabilities in [0, 1] and targets of one shape -> scalar (kNone: input's shape).
inline Tensor binary_cross_entropy(const Tensor& input, const Tensor& target,
                                   const BinaryCrossEntropyFuncOptions& options = {}) {
  return minidl::binary_cross_entropy(input, target, options.weight(), options.reduction());
}

// logits and targets of one shape (weight, pos_weight broadcast) -> scalar (kNone: input's shape).
inline Tensor binary_cross_entropy_with_logits(
    const Tensor& input, const Tensor& target,
    const BinaryCrossEntropyWithLogitsFuncOptions& options = {}) {
  return minidl::binary_cross_entropy_with_logits(input, target, options.weight(),
                                                  options.pos_weight(), options.reduction());
}

// input (log-probs) and target broadcast -> scalar (kNone: the broadcast shape); ops/kl_div.h.
inline Tensor kl_div(const Tensor& input, const Tensor& target,
                     const KLDivFuncOptions& options = {}) {
  return minidl::kl_div(input, target, options.reduction(), options.log_target());
}

// input1, input2, target (+1 / -1) broadcast -> scalar (kNone: the broadcast shape).
inline Tensor margin_ranking_loss(const Tensor& input1, const Tensor& input2, const Tensor& target,
                                  const MarginRankingLossFuncOptions& options = {}) {
  return minidl::margin_ranking_loss(input1, input2, target, options.margin(), options.reduction());
}

}  // namespace functional

}  // namespace minidl::nn
