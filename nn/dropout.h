// Dropout (torch.nn.Dropout) and Dropout2d (torch.nn.Dropout2d): zero elements / whole channels
// with probability p in training mode, scaling the rest by 1 / (1 - p); the identity in eval mode.
#pragma once

#include "nn/module.h"

namespace minidl::nn {

class Dropout : public Module {
 public:
  explicit Dropout(double p = 0.5);
  Tensor forward(const Tensor& input) override;  // draws from the default generator
  std::string extra_repr() const override;       // "p=0.5, inplace=False"
  double p;
};

// Dropout2d (torch.nn.Dropout2d): zeroes whole channels of [N, C, H, W] or [C, H, W] inputs with
// probability p in training mode, scaling the rest by 1 / (1 - p); the identity in eval mode.
class Dropout2d : public Module {
 public:
  explicit Dropout2d(double p = 0.5);
  Tensor forward(const Tensor& input) override;  // draws from the default generator
  std::string extra_repr() const override;       // "p=0.5, inplace=False"
  double p;
};

}  // namespace minidl::nn
