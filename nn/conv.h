// Conv1d and Conv2d modules: torch.nn.Conv1d / Conv2d's arguments, parameters and init.
//
//   weight [out_channels, in_channels / groups, kernel...], bias [out_channels] (bias = true)
//   both U(-1/sqrt(fan_in), 1/sqrt(fan_in)), fan_in = in_channels / groups * prod(kernel): what
//   PyTorch's kaiming_uniform_(a = sqrt(5)) on the weight and its bias init amount to.
// Padding: an int, one int per dim, "same" (stride 1 only) or "valid"; zeros padding only.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "core/arg.h"
#include "nn/module.h"
#include "ops/conv.h"

namespace minidl::nn {

// Builder-style constructor arguments, as libtorch's ConvOptions<D>:
//   Conv2dOptions(3, 16, 3).stride(2).padding(1).bias(false);  Conv2dOptions(3, 16, {3, 5})
// padding_mode: "zeros" only (others are an error at construction, naming the layer).
template <size_t D>
struct ConvOptions {
  ConvOptions(int64_t in_channels, int64_t out_channels, ExpandingArray kernel_size)
      : in_channels_(in_channels),
        out_channels_(out_channels),
        kernel_size_(std::move(kernel_size)) {}
  MINIDL_ARG(int64_t, in_channels);
  MINIDL_ARG(int64_t, out_channels);
  MINIDL_ARG(ExpandingArray, kernel_size);
  MINIDL_ARG(ExpandingArray, stride) = 1;
  MINIDL_ARG(ConvPadding, padding) = 0;  // an int, one per dim, "same" or "valid"
  MINIDL_ARG(ExpandingArray, dilation) = 1;
  MINIDL_ARG(int64_t, groups) = 1;
  MINIDL_ARG(bool, bias) = true;
  MINIDL_ARG(std::string, padding_mode) = "zeros";
};
using Conv1dOptions = ConvOptions<1>;
using Conv2dOptions = ConvOptions<2>;

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

// torch.nn.Conv1d: input [N, in_channels, L] (or [in_channels, L]) -> [N, out_channels, OL];
// weight [out_channels, in_channels / groups, k], bias [out_channels].
class Conv1d : public ConvNd {
 public:
  Conv1d(int64_t in_channels, int64_t out_channels, ExpandingArray kernel_size,
         ExpandingArray stride = 1, ConvPadding padding = 0, ExpandingArray dilation = 1,
         int64_t groups = 1, bool bias = true);
  explicit Conv1d(const Conv1dOptions& options);
  Conv1dOptions options;
};

// torch.nn.Conv2d: input [N, in_channels, H, W] (or unbatched) -> [N, out_channels, OH, OW];
// weight [out_channels, in_channels / groups, kH, kW], bias [out_channels].
class Conv2d : public ConvNd {
 public:
  Conv2d(int64_t in_channels, int64_t out_channels, ExpandingArray kernel_size,
         ExpandingArray stride = 1, ConvPadding padding = 0, ExpandingArray dilation = 1,
         int64_t groups = 1, bool bias = true);
  explicit Conv2d(const Conv2dOptions& options);
  Conv2dOptions options;
};

}  // namespace minidl::nn
