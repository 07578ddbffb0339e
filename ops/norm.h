// Normalization layers in functional form (torch.nn.functional.layer_norm / batch_norm): fused
// kernels that compute the statistics and normalize in one sweep, and fused backward kernels
// beside them.
//
// Statistics are accumulated in double for every input dtype and saved for backward (one mean
// and one reciprocal standard deviation per row / channel), so backward never recomputes them.
#pragma once

#include <optional>

#include "core/tensor.h"

namespace minidl {

// Normalizes over the trailing dims given by normalized_shape (input [*, normalized_shape]):
// each of the M = numel / N rows of N = prod(normalized_shape) elements gets its own mean and
// biased variance. weight and bias (optional, of shape normalized_shape) scale and shift.
// y = (x - mean) * rstd * w + b,  rstd = 1 / sqrt(var + eps),  xhat = (x - mean) * rstd ;
// dx = rstd * (dy*w - mean(dy*w) - xhat * mean(dy*w*xhat)) ,  dw = sum_rows(dy * xhat) ,
// db = sum_rows(dy)
Tensor layer_norm(const Tensor& input, const Shape& normalized_shape,
                  const Tensor& weight = Tensor(), const Tensor& bias = Tensor(),
                  double eps = 1e-5);

// Normalizes each channel of input [N, C], [N, C, L] or [N, C, H, W] (any [N, C, *]).
// training: the batch's statistics over N and the trailing dims normalize (biased variance);
//   defined running_mean / running_var ([C]) are updated in place, outside the tape:
//   running = (1 - momentum) * running + momentum * batch (unbiased variance for running_var).
//   More than one value per channel is required.
// not training: running_mean / running_var (required) normalize.
// weight and bias ([C], optional) scale and shift. All tensors share input's dtype.
// momentum here is the averaging factor itself; a cumulative average (torch's momentum=None)
// passes 1 / num_batches_tracked, as the BatchNorm modules do.
// y = (x - mean) * invstd * w + b,  invstd = 1 / sqrt(var + eps),  xhat = (x - mean) * invstd ;
// training: dx = w * invstd * (dy - mean_c(dy) - xhat * mean_c(dy * xhat))
// eval:     dx = w * invstd * dy ;   both: dw = sum_c(dy * xhat) ,  db = sum_c(dy)
Tensor batch_norm(const Tensor& input, const Tensor& running_mean, const Tensor& running_var,
                  const Tensor& weight = Tensor(), const Tensor& bias = Tensor(),
                  bool training = false, double momentum = 0.1, double eps = 1e-5);

}  // namespace minidl
