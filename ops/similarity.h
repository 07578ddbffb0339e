// Vector normalization and cosine similarity with PyTorch 1.13's names, arguments and semantics
// (torch.nn.functional.normalize and torch.nn.functional.cosine_similarity), differentiable.
//
// normalize: every vector along `dim` divided by its p-norm, kept away from zero by eps:
//   y = x / d,  d = max(||x||_p, eps)  (||x||_p along dim, broadcast back over it) ;
//   dx = dy / d - (sum(dy x, dim) / d^2) d||x||_p/dx  where ||x||_p > eps, else dx = dy / eps
// so a zero vector maps to zero, with gradient dy / eps, as in PyTorch.
//
// cosine_similarity: x1 and x2 broadcast to a common shape, then
//   out = sum(x1 / max(||x1||_2, eps) * x2 / max(||x2||_2, eps), dim)
// (each norm clamped on its own, as PyTorch 1.13 does: two vectors shorter than eps still give
// their true cosine, a zero vector gives 0). The dim is reduced away. Gradients are those of
// this formula (normalize's, then the product and the sum).
#pragma once

#include <cstdint>

#include "core/tensor.h"

namespace minidl {

// x: any floating shape with at least one dim (dim may be negative) -> x's shape.
// p may be any value torch's norm accepts (ops/reduction.h's norm); eps >= 0.
Tensor normalize(const Tensor& x, double p = 2.0, int64_t dim = 1, double eps = 1e-12);

// x1, x2: broadcastable floating tensors of one dtype -> the broadcast shape without `dim`.
Tensor cosine_similarity(const Tensor& x1, const Tensor& x2, int64_t dim = 1, double eps = 1e-8);

}  // namespace minidl
