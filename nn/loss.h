// Loss modules with torch.nn's names (libtorch's MSELossImpl, ... -- the handles are the lead's
// aliases): each holds its options (nn/functional/loss.h) as the public member `options`, and
// its forward(input, target) is the functional loss with those options. Class weights are
// registered as buffers ("weight", and "pos_weight" for BCEWithLogitsLoss), as in PyTorch, so
// they follow to(dtype) and appear in the state_dict when given; forward reads the buffers.
//
//   nn::CrossEntropyLoss criterion(nn::CrossEntropyLossOptions().label_smoothing(0.1));
//   Tensor loss = criterion(logits, labels);
//   Tensor l2 = nn::MSELoss(kSum)(out, target);
#pragma once

#include "nn/functional/loss.h"
#include "nn/module.h"

namespace minidl::nn {

// Mean squared error, ops/loss.h's mse_loss: input and target of one shape and floating dtype.
class MSELoss : public Module {
 public:
  explicit MSELoss(MSELossOptions options = {});
  using Module::forward;
  using Module::operator();
  // input [*], target [*] (same shape) -> scalar (kNone: [*]).
  Tensor forward(const Tensor& input, const Tensor& target);
  Tensor operator()(const Tensor& input, const Tensor& target) { return forward(input, target); }
  MSELossOptions options;
};

// Mean absolute error, ops/loss.h's l1_loss: input and target of one shape and floating dtype.
class L1Loss : public Module {
 public:
  explicit L1Loss(L1LossOptions options = {});
  using Module::forward;
  using Module::operator();
  // input [*], target [*] (same shape) -> scalar (kNone: [*]).
  Tensor forward(const Tensor& input, const Tensor& target);
  Tensor operator()(const Tensor& input, const Tensor& target) { return forward(input, target); }
  L1LossOptions options;
};

// ops/regression_loss.h's smooth_l1_loss with options.beta() (default 1).
class SmoothL1Loss : public Module {
 public:
  explicit SmoothL1Loss(SmoothL1LossOptions options = {});
  using Module::forward;
  using Module::operator();
  // input and target broadcast (one floating dtype) -> scalar (kNone: the broadcast shape).
  Tensor forward(const Tensor& input, const Tensor& target);
  Tensor operator()(const Tensor& input, const Tensor& target) { return forward(input, target); }
  SmoothL1LossOptions options;
};

// ops/regression_loss.h's huber_loss with options.delta() (default 1).
class HuberLoss : public Module {
 public:
  explicit HuberLoss(HuberLossOptions options = {});
  using Module::forward;
  using Module::operator();
  // input and target broadcast (one floating dtype) -> scalar (kNone: the broadcast shape).
  Tensor forward(const Tensor& input, const Tensor& target);
  Tensor operator()(const Tensor& input, const Tensor& target) { return forward(input, target); }
  HuberLossOptions options;
};

// Cross entropy of logits (ops/loss.h's cross_entropy): weight, ignore_index, label_smoothing.
class CrossEntropyLoss : public Module {
 public:
  explicit CrossEntropyLoss(CrossEntropyLossOptions options = {});
  using Module::forward;
  using Module::operator();
  // logits [N, C] (or [N, C, d1, ...], [C]) and int64 targets [N] (or [N, d1, ...], []) in [0, C),
  // or float probabilities of input's shape -> scalar (kNone: [N, d1, ...]).
  Tensor forward(const Tensor& input, const Tensor& target);
  Tensor operator()(const Tensor& input, const Tensor& target) { return forward(input, target); }
  CrossEntropyLossOptions options;
  Tensor weight;  // the "weight" buffer (undefined when not given)
};

// Negative log-likelihood of log-probabilities (ops/loss.h's nll_loss).
class NLLLoss : public Module {
 public:
  explicit NLLLoss(NLLLossOptions options = {});
  using Module::forward;
  using Module::operator();
  // log-probs [N, C] (or [N, C, d1, ...], [C]), int64 targets [N] (or [N, d1, ...], []) -> scalar
  // (kNone: [N, d1, ...]). A target outside [0, C) that is not ignore_index is an error.
  Tensor forward(const Tensor& input, const Tensor& target);
  Tensor operator()(const Tensor& input, const Tensor& target) { return forward(input, target); }
  NLLLossOptions options;
  Tensor weight;
};

// Binary cross entropy of probabilities (ops/probability_loss.h's binary_cross_entropy).
class BCELoss : public Module {
 public:
  explicit BCELoss(BCELossOptions options = {});
  using Module::forward;
  using Module::operator();
  // input in [0, 1] and target of one shape and dtype -> scalar (kNone: input's shape).
  Tensor forward(const Tensor& input, const Tensor& target);
  Tensor operator()(const Tensor& input, const Tensor& target) { return forward(input, target); }
  BCELossOptions options;
  Tensor weight;
};

// Binary cross entropy of logits (ops/loss.h's binary_cross_entropy_with_logits), with weight and
// pos_weight buffers.
class BCEWithLogitsLoss : public Module {
 public:
  explicit BCEWithLogitsLoss(BCEWithLogitsLossOptions options = {});
  using Module::forward;
  using Module::operator();
  // logits [N, *], target of input's shape, values in [0, 1] -> scalar (kNone: input's shape).
  Tensor forward(const Tensor& input, const Tensor& target);
  Tensor operator()(const Tensor& input, const Tensor& target) { return forward(input, target); }
  BCEWithLogitsLossOptions options;
  Tensor weight, pos_weight;
};

// KL divergence of log-probabilities (ops/kl_div.h): reduction kNone / kBatchMean / kSum / kMean.
class KLDivLoss : public Module {
 public:
  explicit KLDivLoss(KLDivLossOptions options = {});
  using Module::forward;
  using Module::operator();
  // input (log-probs) and target broadcast -> scalar (kNone: the broadcast shape).
  Tensor forward(const Tensor& input, const Tensor& target);
  Tensor operator()(const Tensor& input, const Tensor& target) { return forward(input, target); }
  KLDivLossOptions options;
};

// forward(input1, input2, target): three tensors.
class MarginRankingLoss : public Module {
 public:
  explicit MarginRankingLoss(MarginRankingLossOptions options = {});
  using Module::forward;
  using Module::operator();
  // input1, input2, target (+1 / -1) broadcast -> scalar (kNone: the broadcast shape).
  Tensor forward(const Tensor& input1, const Tensor& input2, const Tensor& target);
  Tensor operator()(const Tensor& input1, const Tensor& input2, const Tensor& target) {
    return forward(input1, input2, target);
  }
  MarginRankingLossOptions options;
};

}  // namespace minidl::nn
