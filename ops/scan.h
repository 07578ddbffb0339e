// Inclusive scans along one dim, as torch.cumsum and torch.cumprod.
//
// Along `dim` every line x_0, x_1, ..., x_{n-1} (all other indices fixed) becomes
//   cumsum:   y_k = x_0 + x_1 + ... + x_k
//   cumprod:  y_k = x_0 * x_1 * ... * x_k
// Shapes: y has x's shape (any number of dims; a 0-d tensor takes dim 0 or -1 and is copied).
// dim wraps as in PyTorch (-1 is the last dim); out of range is a minidl::Error naming the op.
// dtypes as PyTorch: float32 / float64 are kept (accumulated in double along the line, as
// PyTorch's CPU kernel does), int64 and bool give int64.
//
// Gradients (floating inputs):
//   cumsum:   dx_i = sum_{k >= i} dy_k                      (a reversed cumsum of dy)
//   cumprod:  dx_i = sum_{k >= i} dy_k prod_{j <= k, j != i} x_j
//                  = y_{i-1} S_i  with  S_i = dy_i + x_{i+1} S_{i+1},  S_{n-1} = dy_{n-1},
//                  y_{-1} = 1
// The cumprod form never divides by x, so it is exact where x has zeros (one, or several in a
// row), as PyTorch's is.
#pragma once

#include <cstdint>

#include "core/tensor.h"

namespace minidl {

// x [...] -> y of x's shape, scanned along dim (wrapped); int64 / bool give int64.
Tensor cumsum(const Tensor& x, int64_t dim);
Tensor cumprod(const Tensor& x, int64_t dim);

}  // namespace minidl
