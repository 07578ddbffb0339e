// The backward of the statistics reductions (ops/reduction_stats.cpp: max/min, var/std,
// logsumexp, norm) composed of recorded ops: what their tape entries run under create_graph.
// The first-order backward stays the fused loop. Internal to ops/.
//
// x is the input, out the output (either reshaped to x's rank with the reduced `dims` as 1),
// grad the output's gradient (the output's shape, keepdim or not).
#pragma once

#include <cstdint>

#include "core/tensor.h"
#include "ops/reduction.h"

namespace minidl::detail {

// dx = dout [x == out] / #{x == out} (NaN matching NaN); by_abs: |x| == out, times sign(x).
Tensor ties_grad(const Tensor& grad, const Tensor& x, const Tensor& out, const Dims& dims,
                 bool by_abs);

// dx = zeros of in_shape with dout at `indices` along dims[0] (max/min over one dim).
Tensor indices_grad(const Tensor& grad, const Tensor& indices, const Shape& in_shape,
                    const Dims& dims);

// var: dx = dout 2 (x - mean) / divisor ;  std: dx = dout (x - mean) / (divisor out), 0 where
// out = 0.
Tensor variance_grad(const Tensor& grad, const Tensor& x, const Tensor& out, const Dims& dims,
                     double divisor, bool take_sqrt);

// dx = dout exp(x - out), 0 in rows where out = -inf.
Tensor logsumexp_grad(const Tensor& grad, const Tensor& x, const Tensor& out, const Dims& dims);

// p-norm (p != 0; +-inf use ties_grad): p = 1: dout sign(x) ;  p = 2: dout x / out ;
// other p: dout sign(x) |x|^(p-1) / out^(p-1) ;  0 where out = 0 (and where x = 0).
Tensor norm_grad(const Tensor& grad, const Tensor& x, const Tensor& out, const Dims& dims,
                 double p);

}  // namespace minidl::detail
