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

class MSELoss : public Module {
 public:
  explicit MSELoss(MSELossOptions options = {});
  using Module::forward;
  using Module::operator();
  Tensor forward(const Tensor& input, const Tensor& target);
  Tensor operator()(const Tensor& input, const Tensor& target) { return forward(input, target); }
  MSELossOptions options;
};

class L1Loss : public Module {
 public:
  explicit L1Loss(L1LossOptions options = {});
  using Module::forward;
  using Module::operator();
  Tensor forward(const Tensor& input, const Tensor& target);
  Tensor operator()(const Tensor& input, const Tensor& target) { return forward(input, target); }
  L1LossOptions options;
};

class SmoothL1Loss : public Module {
 public:
  explicit SmoothL1Loss(SmoothL1LossOptions options = {});
  using Module::forward;
  using Module::operator();
  Tensor forward(const Tensor& input, const Tensor& target);
  Tensor operator()(const Tensor& input, const Tensor& target) { return forward(input, target); }
  SmoothL1LossOptions options;
};

class HuberLoss : public Module {
 public:
  explicit HuberLoss(HuberLossOptions options = {});
  using Module::forward;
  using Module::operator();
  Tensor forward(const Tensor& input, const Tensor& target);
  Tensor operator()(const Tensor& input, const Tensor& target) { return forward(input, target); }
  HuberLossOptions options;
};

class CrossEntropyLoss : public Module {
 public:
  explicit CrossEntropyLoss(CrossEntropyLossOptions options = {});
  using Module::forward;
  using Module::operator();
  Tensor forward(const Tensor& input, const Tensor& target);
  Tensor operator()(const Tensor& input, const Tensor& target) { return forward(input, target); }
  CrossEntropyLossOptions options;
  Tensor weight;  // the "weight" buffer (undefined when not given)
};

class NLLLoss : public Module {
 public:
  explicit NLLLoss(NLLLossOptions options = {});
  using Module::forward;
  using Module::operator();
  Tensor forward(const Tensor& input, const Tensor& target);
  Tensor operator()(const Tensor& input, const Tensor& target) { return forward(input, target); }
  NLLLossOptions options;
  Tensor weight;
};

class BCELoss : public Module {
 public:
  explicit BCELoss(BCELossOptions options = {});
  using Module::forward;
  using Module::operator();
  Tensor forward(const Tensor& input, const Tensor& target);
  Tensor operator()(const Tensor& input, const Tensor& target) { return forward(input, target); }
  BCELossOptions options;
  Tensor weight;
};

class BCEWithLogitsLoss : public Module {
 public:
  explicit BCEWithLogitsLoss(BCEWithLogitsLossOptions options = {});
  using Module::forward;
  using Module::operator();
  Tensor forward(const Tensor& input, const Tensor& target);
  Tensor operator()(const Tensor& input, const Tensor& target) { return forward(input, target); }
  BCEWithLogitsLossOptions options;
  Tensor weight, pos_weight;
};

class KLDivLoss : public Module {
 public:
  explicit KLDivLoss(KLDivLossOptions options = {});
  using Module::forward;
  using Module::operator();
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
  Tensor forward(const Tensor& input1, const Tensor& input2, const Tensor& target);
  Tensor operator()(const Tensor& input1, const Tensor& input2, const Tensor& target) {
    return forward(input1, input2, target);
  }
  MarginRankingLossOptions options;
};

}  // namespace minidl::nn
