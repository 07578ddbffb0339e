// The backward of layer_norm and batch_norm (ops/norm.cpp) composed of recorded ops: what their
// tape entries run under create_graph (gradient penalties, Hessian-vector products through
// normalized networks). The statistics are recomputed from the input with recorded ops, so their
// dependence on the input is differentiated too. The first-order backward stays the fused kernel.
// Internal to ops/.
#pragma once

#include <cstdint>

#include "core/tensor.h"

namespace minidl::detail {

// layer_norm over the last `normalized_dims` dims of input; weight undefined means 1.
// {dx, dw, db}, each only when asked for (dw, db of the weight's shape).
std::vector<Tensor> layer_norm_grad(const Tensor& grad, const Tensor& input, const Tensor& weight,
                                    int64_t normalized_dims, double eps, bool need_dx, bool need_dw,
                                    bool need_db);

// batch_norm of input [N, C, *] over every dim but 1; weight undefined means 1. Training: the
// batch's statistics (recomputed, biased variance); eval: `mean` and `invstd` ([C], constants
// from the running statistics). {dx, dw, db}, each only when asked for.
std::vector<Tensor> batch_norm_grad(const Tensor& grad, const Tensor& input, const Tensor& weight,
                                    bool training, double eps, const Tensor& mean,
                                    const Tensor& invstd, bool need_dx, bool need_dw, bool need_db);

}  // namespace minidl::detail
