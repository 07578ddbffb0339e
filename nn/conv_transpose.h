// ConvTranspose1d and ConvTranspose2d modules: torch.nn.ConvTranspose1d / ConvTranspose2d's
// arguments, parameters and init (the math is in ops/conv_transpose.h).
//
//   weight [in_channels, out_channels / groups, kernel...], bias [out_channels] (bias = true)
//   both U(-1/sqrt(fan_in), 1/sqrt(fan_in)) with fan_in = weight.size(1) * prod(kernel) =
//   out_channels / groups * prod(kernel): PyTorch's kaiming_uniform_(a = sqrt(5)) computes the
//   fan from the weight's dim 1, which for a transposed convolution holds the output channels.
// Zeros padding only; note the argument order of PyTorch: groups and bias come before dilation.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "core/arg.h"
#include "nn/module.h"
#include "ops/conv_transpose.h"

namespace minidl::nn {

// Builder-style constructor arguments, as libtorch's ConvTransposeOptions<D>:
//   ConvTranspose2dOptions(16, 3, 4).stride(2).padding(1)
// padding_mode: "zeros" only (others are an error at construction, naming the layer).
template <size_t D>
struct ConvTransposeOptions {
  ConvTransposeOptions(int64_t in_channels, int64_t out_channels, ExpandingArray kernel_size)
      : in_channels_(in_channels),
        out_channels_(out_channels),
        kernel_size_(std::move(kernel_size)) {}
  MINIDL_ARG(int64_t, in_channels);
  MINIDL_ARG(int64_t, out_channels);
  MINIDL_ARG(ExpandingArray, kernel_size);
  MINIDL_ARG(ExpandingArray, stride) = 1;
  MINIDL_ARG(ExpandingArray, padding) = 0;
  MINIDL_ARG(ExpandingArray, output_padding) = 0;
  MINIDL_ARG(int64_t, groups) = 1;
  MINIDL_ARG(bool, bias) = true;
  MINIDL_ARG(ExpandingArray, dilation) = 1;
  MINIDL_ARG(std::string, padding_mode) = "zeros";
};
using ConvTranspose1dOptions = ConvTransposeOptions<1>;
using ConvTranspose2dOptions = ConvTransposeOptions<2>;

// The shared body of ConvTranspose1d and ConvTranspose2d (spatial dims 1 or 2).
class ConvTransposeNd : public Module {
 public:
  Tensor forward(const Tensor& input) override;
  // The output_padding that gives this output size (its last `spatial` values are used, so the
  // full shape [N, C, H, W] works too), as PyTorch's forward(input, output_size): each size must
  // lie in [min, min + stride - 1], min being the size with no output_padding.
  Tensor forward(const Tensor& input, const std::vector<int64_t>& output_size);
  std::string extra_repr() const override;
  // Redraws weight and bias from PyTorch's default distributions.
  void reset_parameters();

  int64_t in_channels, out_channels, groups;
  std::vector<int64_t> kernel_size, stride, padding, output_padding, dilation;
  Tensor weight, bias;

 protected:
  ConvTransposeNd(const char* name, size_t spatial, int64_t in_channels, int64_t out_channels,
                  const ExpandingArray& kernel_size, const ExpandingArray& stride,
                  const ExpandingArray& padding, const ExpandingArray& output_padding,
                  int64_t groups, bool bias, const ExpandingArray& dilation);

 private:
  Tensor apply(const Tensor& input, const std::vector<int64_t>& output_padding);
  size_t spatial_;
};

// torch.nn.ConvTranspose1d: input [N, in_channels, L] -> [N, out_channels, OL];
// weight [in_channels, out_channels / groups, k], bias [out_channels].
class ConvTranspose1d : public ConvTransposeNd {
 public:
  ConvTranspose1d(int64_t in_channels, int64_t out_channels, ExpandingArray kernel_size,
                  ExpandingArray stride = 1, ExpandingArray padding = 0,
                  ExpandingArray output_padding = 0, int64_t groups = 1, bool bias = true,
                  ExpandingArray dilation = 1);
  explicit ConvTranspose1d(const ConvTranspose1dOptions& options);
  ConvTranspose1dOptions options;
};

// torch.nn.ConvTranspose2d: input [N, in_channels, H, W] -> [N, out_channels, OH, OW];
// weight [in_channels, out_channels / groups, kH, kW], bias [out_channels].
class ConvTranspose2d : public ConvTransposeNd {
 public:
  ConvTranspose2d(int64_t in_channels, int64_t out_channels, ExpandingArray kernel_size,
                  ExpandingArray stride = 1, ExpandingArray padding = 0,
                  ExpandingArray output_padding = 0, int64_t groups = 1, bool bias = true,
                  ExpandingArray dilation = 1);
  explicit ConvTranspose2d(const ConvTranspose2dOptions& options);
  ConvTranspose2dOptions options;
};

}  // namespace minidl::nn
