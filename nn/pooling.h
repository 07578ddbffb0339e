// Pooling modules: torch.nn.MaxPool2d, AvgPool2d and AdaptiveAvgPool2d (no parameters; the math
// is in ops/pool.h). Arguments keep the form they were given in (an int or a pair), which is how
// PyTorch prints them: MaxPool2d(kernel_size=2, stride=2, padding=0, dilation=1, ceil_mode=False).
#pragma once

#include <cstdint>
#include <optional>
#include <utility>

#include "core/arg.h"
#include "nn/module.h"
#include "ops/pool.h"

namespace minidl::nn {

// Builder-style constructor arguments, as libtorch's: MaxPool2dOptions(3).stride(2). An
// ExpandingArray is an int or one int per spatial dim ({2, 1}); stride defaults to kernel_size.
struct MaxPool2dOptions {
  MaxPool2dOptions(ExpandingArray kernel_size)  // NOLINT: implicit, as in libtorch
      : kernel_size_(kernel_size), stride_(kernel_size) {}
  MINIDL_ARG(ExpandingArray, kernel_size);
  MINIDL_ARG(ExpandingArray, stride);
  MINIDL_ARG(ExpandingArray, padding) = 0;
  MINIDL_ARG(ExpandingArray, dilation) = 1;
  MINIDL_ARG(bool, ceil_mode) = false;
};

// kernel_size (required), stride (kernel_size), padding 0, ceil_mode false, count_include_pad
// true, divisor_override none.
struct AvgPool2dOptions {
  AvgPool2dOptions(ExpandingArray kernel_size)  // NOLINT: implicit, as in libtorch
      : kernel_size_(kernel_size), stride_(kernel_size) {}
  MINIDL_ARG(ExpandingArray, kernel_size);
  MINIDL_ARG(ExpandingArray, stride);
  MINIDL_ARG(ExpandingArray, padding) = 0;
  MINIDL_ARG(bool, ceil_mode) = false;
  MINIDL_ARG(bool, count_include_pad) = true;
  MINIDL_ARG(std::optional<int64_t>, divisor_override) = std::nullopt;
};

// output_size: one value or (OH, OW).
struct AdaptiveAvgPool2dOptions {
  AdaptiveAvgPool2dOptions(ExpandingArray output_size)  // NOLINT: implicit, as in libtorch
      : output_size_(std::move(output_size)) {}
  MINIDL_ARG(ExpandingArray, output_size);
};

// The max over each window: input [N, C, H, W] (or [C, H, W]) -> [N, C, OH, OW] (ops/pool.h).
class MaxPool2d : public Module {
 public:
  // stride = {} means stride = kernel_size. With return_indices, forward_with_indices() is the
  // forward to call (forward() returns the values only).
  MaxPool2d(ExpandingArray kernel_size, ExpandingArray stride = {}, ExpandingArray padding = 0,
            ExpandingArray dilation = 1, bool return_indices = false, bool ceil_mode = false);
  explicit MaxPool2d(const MaxPool2dOptions& options);
  Tensor forward(const Tensor& input) override;
  // The values and the int64 flat indices of the maxima within their planes.
  std::pair<Tensor, Tensor> forward_with_indices(const Tensor& input);
  std::string extra_repr() const override;

  MaxPool2dOptions options;
  ExpandingArray kernel_size, stride, padding, dilation;
  bool return_indices, ceil_mode;
};

// The mean over each window: input [N, C, H, W] (or [C, H, W]) -> [N, C, OH, OW] (ops/pool.h).
class AvgPool2d : public Module {
 public:
  AvgPool2d(ExpandingArray kernel_size, ExpandingArray stride = {}, ExpandingArray padding = 0,
            bool ceil_mode = false, bool count_include_pad = true, int64_t divisor_override = 0);
  explicit AvgPool2d(const AvgPool2dOptions& options);
  Tensor forward(const Tensor& input) override;
  std::string extra_repr() const override;

  AvgPool2dOptions options;
  ExpandingArray kernel_size, stride, padding;
  bool ceil_mode, count_include_pad;
  int64_t divisor_override;  // 0: none
};

// Means over output_size windows: input [N, C, H, W] (or [C, H, W]) -> [N, C, OH, OW].
class AdaptiveAvgPool2d : public Module {
 public:
  explicit AdaptiveAvgPool2d(ExpandingArray output_size);
  explicit AdaptiveAvgPool2d(const AdaptiveAvgPool2dOptions& options)
      : AdaptiveAvgPool2d(options.output_size()) {}
  Tensor forward(const Tensor& input) override;
  std::string extra_repr() const override;

  AdaptiveAvgPool2dOptions options;
  ExpandingArray output_size;
};

}  // namespace minidl::nn
