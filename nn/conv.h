// Conv1d and Conv2d modules: torch.nn.Conv1d / Conv2d's arguments, parameters and init.
//
//   weight [out_channels, in_channels / groups, kernel...], bias [out_channels] (bias = true)
//   both U(-1/sqrt(fan_in), 1/sqrt(fan_in)), fan_in = in_channels / groups * prod(kernel): what
//   PyTorch's kaiming_uniform_(a = sqrt(5)) on the weight and its bias init amount to.
// Padding: an int, one int per dim, "same" (stride 1 only) or "valid"; zeros padding only.
#pragma once

#include <string>
#include <vector>

#include "nn/module.h"
#include "ops/conv.h"

namespace minidl::nn {

// The shared body of Conv1d and Conv2d (spatial dims 1 or 2).
class ConvNd : public Module {
 public:
  Tensor forward(const Tensor& input) override;
  std::string extra_repr() const override;
  // Redraws weight and bias from PyTorch's default distributions.
  void reset_parameters();

  int64_t in_channels, out_channels, groups;
  std::vector<int64_t> kernel_size, stride, dilation;
  ConvPadding padding;
  Tensor weight, bias;

 protected:
  ConvNd(const char* name, size_t spatial, int64_t in_channels, int64_t out_channels,
         const ExpandingArray& kernel_size, const ExpandingArray& stride, ConvPadding padding,
         const ExpandingArray& dilation, int64_t groups, bool bias);

 private:
  size_t spatial_;
};

class Conv1d : public ConvNd {
 public:
  Conv1d(int64_t in_channels, int64_t out_channels, ExpandingArray kernel_size,
         ExpandingArray stride = 1, ConvPadding padding = 0, ExpandingArray dilation = 1,
         int64_t groups = 1, bool bias = true);
};

class Conv2d : public ConvNd {
 public:
  Conv2d(int64_t in_channels, int64_t out_channels, ExpandingArray kernel_size,
         ExpandingArray stride = 1, ConvPadding padding = 0, ExpandingArray dilation = 1,
         int64_t groups = 1, bool bias = true);
};

}  // namespace minidl::nn
