// torch::nn::functional convolutions with libtorch's ConvFuncOptions (bias, stride = 1,
// padding = 0 -- or kSame / kValid --, dilation = 1, groups = 1) and ConvTransposeFuncOptions
// (bias, stride = 1, padding = 0, output_padding = 0, groups = 1, dilation = 1), forwarding to
// ops/conv.h and ops/conv_transpose.h:
//   F::conv2d(x, w, F::Conv2dFuncOptions().bias(b).stride(2).padding(1));
#pragma once

#include "core/arg.h"
#include "nn/functional/modes.h"
#include "ops/conv.h"
#include "ops/conv_transpose.h"

namespace minidl::nn::functional {

struct Conv1dFuncOptions {
  MINIDL_ARG(Tensor, bias) = Tensor();
  MINIDL_ARG(ExpandingArray, stride) = 1;
  MINIDL_ARG(ConvPadding, padding) = 0;
  MINIDL_ARG(ExpandingArray, dilation) = 1;
  MINIDL_ARG(int64_t, groups) = 1;
};
using Conv2dFuncOptions = Conv1dFuncOptions;

inline Tensor conv1d(const Tensor& input, const Tensor& weight,
                     const Conv1dFuncOptions& options = {}) {
  return minidl::conv1d(input, weight, options.bias(), options.stride(), options.padding(),
                        options.dilation(), options.groups());
}

inline Tensor conv2d(const Tensor& input, const Tensor& weight,
                     const Conv2dFuncOptions& options = {}) {
  return minidl::conv2d(input, weight, options.bias(), options.stride(), options.padding(),
                        options.dilation(), options.groups());
}

struct ConvTranspose1dFuncOptions {
  MINIDL_ARG(Tensor, bias) = Tensor();
  MINIDL_ARG(ExpandingArray, stride) = 1;
  MINIDL_ARG(ExpandingArray, padding) = 0;
  MINIDL_ARG(ExpandingArray, output_padding) = 0;
  MINIDL_ARG(int64_t, groups) = 1;
  MINIDL_ARG(ExpandingArray, dilation) = 1;
};
using ConvTranspose2dFuncOptions = ConvTranspose1dFuncOptions;

inline Tensor conv_transpose1d(const Tensor& input, const Tensor& weight,
                               const ConvTranspose1dFuncOptions& options = {}) {
  return minidl::conv_transpose1d(input, weight, options.bias(), options.stride(),
                                  options.padding(), options.output_padding(), options.groups(),
                                  options.dilation());
}

inline Tensor conv_transpose2d(const Tensor& input, const Tensor& weight,
                               const ConvTranspose2dFuncOptions& options = {}) {
  return minidl::conv_transpose2d(input, weight, options.bias(), options.stride(),
                                  options.padding(), options.output_padding(), options.groups(),
                                  options.dilation());
}

}  // namespace minidl::nn::functional
