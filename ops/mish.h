// Mish (Misra 2019), with PyTorch 1.13's name and semantics (torch.nn.functional.mish):
//   mish(x) = x tanh(softplus(x)),  softplus(x) = ln(1 + e^x).
// Differentiable (node name "MishBackward0") and twice differentiable; float32 and float64.
#pragma once

#include "core/tensor.h"

namespace minidl {

// y = x tanh(ln(1 + e^x)) ;  dx = dy (t + x (1 - t^2) sigmoid(x)),  t = tanh(softplus(x)).
// An integer or bool input is an error naming "mish".
Tensor mish(const Tensor& x);

}  // namespace minidl
