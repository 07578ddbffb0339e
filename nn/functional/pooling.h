// torch::nn::functional 2-d pooling with libtorch's options, forwarding to ops/pool.h:
//   MaxPool2dFuncOptions(kernel_size): stride = kernel_size, padding = 0, dilation = 1,
//     ceil_mode = false
//   AvgPool2dFuncOptions(kernel_size): stride = kernel_size, padding = 0, ceil_mode = false,
//     count_include_pad = true, divisor_override = none
//   AdaptiveAvgPool2dFuncOptions(output_size)
//   F::max_pool2d(x, F::MaxPool2dFuncOptions(2).stride(2));
#pragma once

#include <optional>
#include <utility>

#include "core/arg.h"
#include "ops/pool.h"

namespace minidl::nn::functional {

// kernel_size (required), stride (kernel_size), padding 0, dilation 1, ceil_mode false.
struct MaxPool2dFuncOptions {
  MaxPool2dFuncOptions(ExpandingArray kernel_size)  // NOLINT: implicit, as libtorch's
      : kernel_size_(kernel_size), stride_(std::move(kernel_size)) {}
  MINIDL_ARG(ExpandingArray, kernel_size);
  MINIDL_ARG(ExpandingArray, stride);
  MINIDL_ARG(ExpandingArray, padding) = 0;
  MINIDL_ARG(ExpandingArray, dilation) = 1;
  MINIDL_ARG(bool, ceil_mode) = false;
};

// input [N, C, H, W] (or [C, H, W]) -> [N, C, OH, OW] (ops/pool.h's output size).
inline Tensor max_pool2d(const Tensor& input, const MaxPool2dFuncOptions& options) {
  return minidl::max_pool2d(input, options.kernel_size(), options.stride(), options.padding(),
                            options.dilation(), options.ceil_mode());
}

// The values and the int64 flat index h * W + w of each maximum within its input plane.
inline std::pair<Tensor, Tensor> max_pool2d_with_indices(const Tensor& input,
                                                         const MaxPool2dFuncOptions& options) {
  return minidl::max_pool2d_with_indices(input, options.kernel_size(), options.stride(),
                                         options.padding(), options.dilation(),
                                         options.ceil_mode());
}

// kernel_size (required), stride (kernel_size), padding 0, ceil_mode false, count_include_pad
// true, divisor_override none.
struct AvgPool2dFuncOptions {
  AvgPool2dFuncOptions(ExpandingArray kernel_size)  // NOLINT: implicit, as libtorch's
      : kernel_size_(kernel_size), stride_(std::move(kernel_size)) {}
  MINIDL_ARG(ExpandingArray, kernel_size);
  MINIDL_ARG(ExpandingArray, stride);
  MINIDL_ARG(ExpandingArray, padding) = 0;
  MINIDL_ARG(bool, ceil_mode) = false;
  MINIDL_ARG(bool, count_include_pad) = true;
  MINIDL_ARG(std::optional<int64_t>, divisor_override) = std::nullopt;
};

// input [N, C, H, W] (or [C, H, W]) -> [N, C, OH, OW]; divisor_override 0 is an error.
inline Tensor avg_pool2d(const Tensor& input, const AvgPool2dFuncOptions& options) {
  // ops/pool.h reads a divisor_override of 0 as "none"; 0 itself is an error there as in torch.
  MINIDL_CHECK(!options.divisor_override() || *options.divisor_override() != 0, "avg_pool2d",
               "divisor_override must be nonzero");
  return minidl::avg_pool2d(input, options.kernel_size(), options.stride(), options.padding(),
                            options.ceil_mode(), options.count_include_pad(),
                            options.divisor_override().value_or(0));
}

// output_size: one value or (OH, OW).
struct AdaptiveAvgPool2dFuncOptions {
  AdaptiveAvgPool2dFuncOptions(ExpandingArray output_size)  // NOLINT: implicit, as libtorch's
      : output_size_(std::move(output_size)) {}
  MINIDL_ARG(ExpandingArray, output_size);
};

// input [N, C, H, W] (or [C, H, W]) -> [N, C, OH, OW].
inline Tensor adaptive_avg_pool2d(const Tensor& input,
                                  const AdaptiveAvgPool2dFuncOptions& options) {
  return minidl::adaptive_avg_pool2d(input, options.output_size());
}

}  // namespace minidl::nn::functional
