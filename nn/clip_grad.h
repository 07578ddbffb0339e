// Gradient clipping, as torch.nn.utils.clip_grad_norm_ / clip_grad_value_ (libtorch's
// torch::nn::utils): call between backward() and the optimizer's step().
//
//   loss.backward();
//   nn::utils::clip_grad_norm_(model->parameters(), /*max_norm=*/1.0);
//   optimizer.step();
//
// Parameters whose .grad is undefined are skipped. The gradients are modified in place.
#pragma once

#include <vector>

#include "core/tensor.h"

namespace minidl::nn::utils {

// Scales all gradients together by min(1, max_norm / (total_norm + 1e-6)), where total_norm is
// the norm_type-norm of all gradients concatenated into one vector (norm_type may be
// INFINITY: the largest |g|). Returns total_norm as a 0-d tensor (of the gradients' dtype; 0
// in float32 when no parameter has a gradient). error_if_nonfinite: throw instead of scaling when
// total_norm is NaN or infinite.
Tensor clip_grad_norm_(const std::vector<Tensor>& parameters, double max_norm,
                       double norm_type = 2.0, bool error_if_nonfinite = false);
Tensor clip_grad_norm_(const Tensor& parameter, double max_norm, double norm_type = 2.0,
                       bool error_if_nonfinite = false);

// Clamps every gradient element into [-clip_value, clip_value].
void clip_grad_value_(const std::vector<Tensor>& parameters, double clip_value);
void clip_grad_value_(const Tensor& parameter, double clip_value);

}  // namespace minidl::nn::utils
