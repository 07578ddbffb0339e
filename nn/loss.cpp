// The loss modules (see nn/loss.h): each forward is its functional loss with the options.
#include "nn/loss.h"

#include <utility>

namespace minidl::nn {

namespace F = functional;

MSELoss::MSELoss(MSELossOptions options) : Module("MSELoss"), options(std::move(options)) {}
Tensor MSELoss::forward(const Tensor& input, const Tensor& target) {
  return F::mse_loss(input, target, options);
}

L1Loss::L1Loss(L1LossOptions options) : Module("L1Loss"), options(std::move(options)) {}
Tensor L1Loss::forward(const Tensor& input, const Tensor& target) {
  return F::l1_loss(input, target, options);
}

SmoothL1Loss::SmoothL1Loss(SmoothL1LossOptions options)
    : Module("SmoothL1Loss"), options(std::move(options)) {}
Tensor SmoothL1Loss::forward(const Tensor& input, const Tensor& target) {
  return F::smooth_l1_loss(input, target, options);
}

HuberLoss::HuberLoss(HuberLossOptions options) : Module("HuberLoss"), options(std::move(options)) {}
Tensor HuberLoss::forward(const Tensor& input, const Tensor& target) {
  return F::huber_loss(input, target, options);
}

CrossEntropyLoss::CrossEntropyLoss(CrossEntropyLossOptions options)
    : Module("CrossEntropyLoss"), options(std::move(options)) {
  weight = register_buffer("weight", this->options.weight());
}
Tensor CrossEntropyLoss::forward(const Tensor& input, const Tensor& target) {
  return minidl::cross_entropy(input, target, weight, options.ignore_index(), options.reduction(),
                               options.label_smoothing());
}

NLLLoss::NLLLoss(NLLLossOptions options) : Module("NLLLoss"), options(std::move(options)) {
  weight = register_buffer("weight", this->options.weight());
}
Tensor NLLLoss::forward(const Tensor& input, const Tensor& target) {
  return minidl::nll_loss(input, target, weight, options.ignore_index(), options.reduction());
}

BCELoss::BCELoss(BCELossOptions options) : Module("BCELoss"), options(std::move(options)) {
  weight = register_buffer("weight", this->options.weight());
}
Tensor BCELoss::forward(const Tensor& input, const Tensor& target) {
  return minidl::binary_cross_entropy(input, target, weight, options.reduction());
}

BCEWithLogitsLoss::BCEWithLogitsLoss(BCEWithLogitsLossOptions options)
    : Module("BCEWithLogitsLoss"), options(std::move(options)) {
  weight = register_buffer("weight", this->options.weight());
  pos_weight = register_buffer("pos_weight", this->options.pos_weight());
}
Tensor BCEWithLogitsLoss::forward(const Tensor& input, const Tensor& target) {
  return minidl::binary_cross_entropy_with_logits(input, target, weight, pos_weight,
                                                  options.reduction());
}

KLDivLoss::KLDivLoss(KLDivLossOptions options) : Module("KLDivLoss"), options(std::move(options)) {}
Tensor KLDivLoss::forward(const Tensor& input, const Tensor& target) {
  return F::kl_div(input, target, options);
}

MarginRankingLoss::MarginRankingLoss(MarginRankingLossOptions options)
    : Module("MarginRankingLoss"), options(std::move(options)) {}
Tensor MarginRankingLoss::forward(const Tensor& input1, const Tensor& input2,
                                  const Tensor& target) {
  return F::margin_ranking_loss(input1, input2, target, options);
}

}  // namespace minidl::nn
