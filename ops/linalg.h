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

namespace detail {

// t itself if contiguous, else a contiguous copy that records nothing on the tape (the calling
// op records its own backward): how kernels that read raw pointers get their operands. An
// undefined t (an absent optional operand) is returned as it is.
Tensor dense(const Tensor& t);

// C = alpha op(A) op(B) + beta C in row-major storage, op(X) = X or Xᵀ as the flag says: every
// product of minidl goes through here (matmul, and the kernels that tile their own products on
// raw pointers: conv, recurrences, flash and sliding-window attention). OpenBLAS itself runs
// single-threaded (core/parallel.h); a product worth it is cut into blocks of C's rows or
// columns, one single-threaded BLAS call per block, on the thread pool; inside a parallel
// region it is one call. Sizes and leading dims must fit in an int.
void gemm(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, float alpha, const float* a,
          int64_t lda, const float* b, int64_t ldb, float beta, float* c, int64_t ldc);
void gemm(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, double alpha,
          const double* a, int64_t lda, const double* b, int64_t ldb, double beta, double* c,
          int64_t ldc);

}  // namespace detail

}  // namespace minidl
