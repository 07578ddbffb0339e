// Pooling modules: torch.nn.MaxPool2d, AvgPool2d and AdaptiveAvgPool2d (no parameters; the math
// is in ops/pool.h). Arguments keep the form they were given in (an int or a pair), which is how
// PyTorch prints them: MaxPool2d(kernel_size=2, stride=2, padding=0, dilation=1, ceil_mode=False).
#pragma once

#include <utility>

#include "nn/module.h"
#include "ops/pool.h"

namespace minidl::nn {

class MaxPool2d : public Module {
 public:
  // stride = {} means stride = kernel_size. With return_indices, forward_with_indices() is the
  // forward to call (forward() returns the values only).
  MaxPool2d(ExpandingArray kernel_size, ExpandingArray stride = {}, ExpandingArray padding = 0,
            ExpandingArray dilation = 1, bool return_indices = false, bool ceil_mode = false);
  Tensor forward(const Tensor& input) override;
  // The values and the int64 flat indices of the maxima within their planes.
  std::pair<Tensor, Tensor> forward_with_indices(const Tensor& input);
  std::string extra_repr() const override;

  ExpandingArray kernel_size, stride, padding, dilation;
  bool return_indices, ceil_mode;
};

class AvgPool2d : public Module {
 public:
  AvgPool2d(ExpandingArray kernel_size, ExpandingArray stride = {}, ExpandingArray padding = 0,
            bool ceil_mode = false, bool count_include_pad = true, int64_t divisor_override = 0);
  Tensor forward(const Tensor& input) override;
  std::string extra_repr() const override;

  ExpandingArray kernel_size, stride, padding;
  bool ceil_mode, count_include_pad;
  int64_t divisor_override;  // 0: none
};

class AdaptiveAvgPool2d : public Module {
 public:
  explicit AdaptiveAvgPool2d(ExpandingArray output_size);
  Tensor forward(const Tensor& input) override;
  std::string extra_repr() const override;

  ExpandingArray output_size;
};

}  // namespace minidl::nn
