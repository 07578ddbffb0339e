// Products beyond matmul/linear: the bilinear form (torch.nn.functional.bilinear).
#pragma once

#include "core/tensor.h"

namespace minidl {

// torch.nn.functional.bilinear: y[..., o] = sum_ij x1[..., i] W[o, i, j] x2[..., j] + b[o]
// for x1 [..., in1], x2 [..., in2] (the same leading dims), weight [out, in1, in2] and bias
// [out] (optional: pass an undefined Tensor) -> y [..., out]. All floating, one dtype.
Tensor bilinear(const Tensor& x1, const Tensor& x2, const Tensor& weight,
                const Tensor& bias = Tensor());

}  // namespace minidl
