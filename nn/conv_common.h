// What the convolution modules (nn/conv.cpp: Conv1d / Conv2d, nn/conv_transpose.cpp:
// ConvTranspose1d / ConvTranspose2d) share: their constructor checks, their forward's input
// checks and their parameter init. Internal to nn/.
#pragma once

#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <string>
#include <utility>
#include <vector>

#include "core/tensor.h"

namespace minidl::nn::detail {

// in_channels and out_channels positive and divisible by groups > 0; per spatial dim,
// kernel_size, stride and dilation positive and each of `non_negative` (name, values) >= 0.
// Errors name the module `name`.
void check_conv_module_args(
    const char* name, int64_t in_channels, int64_t out_channels, int64_t groups,
    const std::vector<int64_t>& kernel_size, const std::vector<int64_t>& stride,
    const std::vector<int64_t>& dilation,
    std::initializer_list<std::pair<const char*, const std::vector<int64_t>*>> non_negative = {});

// padding_mode must be "zeros" (the only one minidl's convolutions implement). Errors name the
// module `name`.
void check_padding_mode(const char* name, const std::string& padding_mode);

// A forward input: (spatial + 1)-D (unbatched) or (spatial + 2)-D (batched), with in_channels
// channels and the weight's dtype. Errors name the module `name`.
void check_conv_module_input(const std::string& name, size_t spatial, const Tensor& input,
                             int64_t in_channels, const Tensor& weight);

// PyTorch's default init of a convolution's parameters: weight kaiming_uniform_(a = sqrt(5)),
// which is U(-1/sqrt(fan_in), 1/sqrt(fan_in)) with fan_in = weight.size(1) * prod(kernel), and
// the bias (if defined) from the same bound.
void reset_conv_parameters(Tensor& weight, Tensor& bias);

}  // namespace minidl::nn::detail
