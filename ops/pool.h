// 2-d pooling with torch.nn.functional's semantics, differentiable: input [N, C, H, W] or
// unbatched [C, H, W]; every (sample, channel) plane is pooled on its own, planes in parallel.
//
// Output size per dim (H shown):
//   OH = floor_or_ceil((H + 2 pad - dil (k - 1) - 1) / stride) + 1
// and with ceil_mode the last window must start inside the input or the left padding
// (otherwise OH shrinks by one), as in PyTorch. Padding is at most half the kernel size.
#pragma once

#include <cstdint>
#include <utility>

#include "core/tensor.h"
#include "ops/conv.h"

namespace minidl {

// The max over each window (padding never wins). Ties: the first maximum in row-major window
// order is the one selected (and receives the gradient); NaN wins over every number.
// stride = {} means stride = kernel_size.
Tensor max_pool2d(const Tensor& input, ExpandingArray kernel_size, ExpandingArray stride = {},
                  ExpandingArray padding = 0, ExpandingArray dilation = 1, bool ceil_mode = false);

// max_pool2d's values and, as int64, the flat index h * W + w of each maximum within its input
// plane (torch's return_indices=True / max_pool2d_with_indices).
std::pair<Tensor, Tensor> max_pool2d_with_indices(const Tensor& input, ExpandingArray kernel_size,
                                                  ExpandingArray stride = {},
                                                  ExpandingArray padding = 0,
                                                  ExpandingArray dilation = 1,
                                                  bool ceil_mode = false);

// The mean over each window. The divisor is the window's size clipped to the padded input
// (count_include_pad, the default) or to the input itself (count_include_pad = false), or
// divisor_override when it is nonzero.
Tensor avg_pool2d(const Tensor& input, ExpandingArray kernel_size, ExpandingArray stride = {},
                  ExpandingArray padding = 0, bool ceil_mode = false, bool count_include_pad = true,
                  int64_t divisor_override = 0);

// The mean over output_size windows per dim: window i of n over a dim of size H covers
// [floor(i H / n), ceil((i + 1) H / n)).
Tensor adaptive_avg_pool2d(const Tensor& input, ExpandingArray output_size);

}  // namespace minidl
