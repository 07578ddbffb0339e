// Activations beyond ops/elementwise.h's, with PyTorch 1.13's names, arguments and semantics
// (torch.nn.functional.silu / hardtanh / relu6), differentiable, composed of existing ops.
#pragma once

#include "core/tensor.h"

namespace minidl {

// y = x sigmoid(x) ;  dx = dy s (1 + x (1 - s)),  s = sigmoid(x)
Tensor silu(const Tensor& x);

// y = min(max(x, min_val), max_val) ;  dx = dy where min_val < x < max_val (strictly, as
// PyTorch's hardtanh_backward), 0 elsewhere. min_val > max_val is an error (as in PyTorch).
Tensor hardtanh(const Tensor& x, double min_val = -1.0, double max_val = 1.0);

// hardtanh(x, 0, 6)
Tensor relu6(const Tensor& x);

}  // namespace minidl
