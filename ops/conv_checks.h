// The argument checks that conv1d / conv2d (ops/conv.cpp) and conv_transpose1d /
// conv_transpose2d (ops/conv_transpose.cpp) share. Internal to ops/: each op still checks what
// is its own (channel counts against groups, padding forms, output sizes).
#pragma once

#include <cstddef>
#include <cstdint>

#include "core/tensor.h"

namespace minidl::detail {

// Input and weight defined; input (spatial + 1)-D (unbatched) or (spatial + 2)-D (batched);
// weight (spatial + 2)-D, laid out as `weight_layout` (named in the error, e.g.
// "[out_channels, in_channels / groups, kernel...]"), and not empty; one floating dtype for
// both; groups > 0. Errors name `op`. Returns whether the input is batched.
bool check_conv_operands(const char* op, size_t spatial, const Tensor& input, const Tensor& weight,
                         const char* weight_layout, int64_t groups);

// Bias undefined, or [channels] with the weight's dtype.
void check_conv_bias(const char* op, const Tensor& bias, const Tensor& weight, int64_t channels);

}  // namespace minidl::detail
