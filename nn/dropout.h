// Dropout (torch.nn.Dropout): zeroes elements with probability p in training mode, scaling the
// rest by 1 / (1 - p); the identity in eval mode.
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

}  // namespace minidl::nn
