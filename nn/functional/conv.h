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

// bias (undefined: none), stride 1, padding 0 (or "same" / "valid"), dilation 1, groups 1.
struct Conv1dFuncOptions {
  MINIDL_ARG(Tensor, bias) = Tensor();
  MINIDL_ARG(ExpandingArray, stride) = 1;
  MINIDL_ARG(ConvPadding, padding) = 0;
  MINIDL_ARG(ExpandingArray, dilation) = 1;
  MINIDL_ARG(int64_t, groups) = 1;
};
using Conv2dFuncOptions = Conv1dFuncOptions;

// input [N, C, L] (or [C, L]), weight [O, C / groups, k] -> [N, O, OL] (ops/conv.h).
inline Tensor conv1d(const Tensor& input, const Tensor& weight,
                     const Conv1dFuncOptions& options = {}) {
  return minidl::conv1d(input, weight, options.bias(), options.stride(), options.padding(),
                        options.dilation(), options.groups());
}

// input [N, C, H, W] (or [C, H, W]), weight [O, C / groups, kH, kW] -> [N, O, OH, OW].
inline Tensor conv2d(const Tensor& input, const Tensor& weight,
                     const Conv2dFuncOptions& options = {}) {
  return minidl::conv2d(input, weight, options.bias(), options.stride(), options.padding(),
                        options.dilation(), options.groups());
}

// bias (none), stride 1, padding 0, output_padding 0, groups 1, dilation 1.
struct ConvTranspose1dFuncOptions {
  MINIDL_ARG(Tensor, bias) = Tensor();
  MINIDL_ARG(ExpandingArray, stride) = 1;
  MINIDL_ARG(ExpandingArray, padding) = 0;
  MINIDL_ARG(ExpandingArray, output_padding) = 0;
  MINIDL_ARG(int64_t, groups) = 1;
  MINIDL_ARG(ExpandingArray, dilation) = 1;
};
using ConvTranspose2dFuncOptions = ConvTranspose1dFuncOptions;

// input [N, Cin, L], weight [Cin, Cout / groups, k] -> [N, Cout, OL] (ops/conv_transpose.h).
inline Tensor conv_transpose1d(const Tensor& input, const Tensor& weight,
                               const ConvTranspose1dFuncOptions& options = {}) {
  return minidl::conv_transpose1d(input, weight, options.bias(), options.stride(),
                                  options.padding(), options.output_padding(), options.groups(),
                                  options.dilation());
}

// input [N, Cin, H, W], weight [Cin, Cout / groups, kH, kW] -> [N, Cout, OH, OW].
inline Tensor conv_transpose2d(const Tensor& input, const Tensor& weight,
                               const ConvTranspose2dFuncOptions& options = {}) {
  return minidl::conv_transpose2d(input, weight, options.bias(), options.stride(),
                                  options.padding(), options.output_padding(), options.groups(),
                                  options.dilation());
}

}  // namespace minidl::nn::functional
