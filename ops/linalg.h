// Matrix products: matmul (torch.matmul's full semantics), mm, bmm and linear, differentiable.
//
// Every product is a call to cblas_sgemm / cblas_dgemm. An operand whose last or second-to-last
// dim has unit stride goes to BLAS as it is, with the matching transpose flag and leading
// dimension -- so x.t() or k.transpose(-2, -1) costs no copy; only other layouts are copied.
// Both operands must have the same floating dtype (float32 or float64); integer and bool
// tensors, and mixed float32/float64, are errors, as in PyTorch.
#pragma once

#include "core/tensor.h"

namespace minidl {

// torch.matmul:
//   [k] . [k]                 -> 0-d dot product
//   [n, k] @ [k, m]           -> [n, m]
//   [k] @ [..., k, m]         -> [..., m]       (a 1 prepended to a, then removed)
//   [..., n, k] @ [k]         -> [..., n]       (a 1 appended to b, then removed)
//   [..., n, k] @ [..., k, m] -> [..., n, m]    batch dims broadcast: [2, 1, 3, 4] @ [5, 4, 6]
//                                               -> [2, 5, 3, 6]
Tensor matmul(const Tensor& a, const Tensor& b);

// [n, k] @ [k, m] -> [n, m]; both operands exactly 2-D.
Tensor mm(const Tensor& a, const Tensor& b);

// [B, n, k] @ [B, k, m] -> [B, n, m]; both exactly 3-D with equal batch sizes (no broadcasting).
Tensor bmm(const Tensor& a, const Tensor& b);

// torch.nn.functional.linear: y = x W^T + b for x [..., in], weight [out, in], bias [out]
// (optional: pass an undefined Tensor) -> y [..., out].
Tensor linear(const Tensor& x, const Tensor& weight, const Tensor& bias = Tensor());

}  // namespace minidl
