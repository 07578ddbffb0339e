// Transposed convolutions: conv_transpose1d and conv_transpose2d with torch.nn.functional's
// semantics, differentiable.
//
//   conv_transpose2d: input [N, Cin, H, W] (or unbatched [Cin, H, W]),
//                     weight [Cin, Cout / groups, kH, kW], bias [Cout] (optional)
//                     -> [N, Cout, OH, OW],
//                     OH = (H - 1) stride - 2 pad + dil (kH - 1) + output_padding + 1
//   conv_transpose1d: the same with one spatial dim: [N, Cin, L], weight [Cin, Cout / groups, k].
//
// The adjoint of conv2d with the same weight, stride, padding, dilation and groups (a
// "fractionally strided" convolution): each input pixel scatters weight * value into the
// output. output_padding adds rows/columns at the bottom/right (it picks one of the output sizes
// that conv2d maps back to the input size) and must be smaller than stride or dilation.
// Computed as GEMM + col2im, the kernels of conv2d's input gradient (ops/conv_kernels.h).
#pragma once

#include <cstdint>

#include "core/tensor.h"
#include "ops/conv.h"

namespace minidl {

// y = col2im(w_g^T @ x_ng) + b
Tensor conv_transpose2d(const Tensor& input, const Tensor& weight, const Tensor& bias = Tensor(),
                        ExpandingArray stride = 1, ExpandingArray padding = 0,
                        ExpandingArray output_padding = 0, int64_t groups = 1,
                        ExpandingArray dilation = 1);

// input [N, Cin, L] (or [Cin, L]), weight [Cin, Cout / groups, k], bias [Cout] -> [N, Cout, OL].
Tensor conv_transpose1d(const Tensor& input, const Tensor& weight, const Tensor& bias = Tensor(),
                        ExpandingArray stride = 1, ExpandingArray padding = 0,
                        ExpandingArray output_padding = 0, int64_t groups = 1,
                        ExpandingArray dilation = 1);

}  // namespace minidl
