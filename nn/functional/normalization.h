// torch::nn::functional normalization with libtorch's options:
//   LayerNormFuncOptions(normalized_shape): weight, bias (optional), eps = 1e-5
//   BatchNormFuncOptions: weight, bias, training = false, momentum = 0.1, eps = 1e-5
//   NormalizeFuncOptions: p = 2, dim = 1, eps = 1e-12
// forwarding to ops/norm.h and ops/similarity.h.
#pragma once

#include <cstdint>
#include <optional>
#include <utility>
#include <vector>

#include "core/arg.h"
#include "ops/norm.h"
#include "ops/similarity.h"

namespace minidl::nn::functional {

// normalized_shape (required), weight / bias of that shape (optional), eps (1e-5).
struct LayerNormFuncOptions {
  LayerNormFuncOptions(std::vector<int64_t> normalized_shape)  // NOLINT: implicit, as libtorch's
      : normalized_shape_(std::move(normalized_shape)) {}
  MINIDL_ARG(std::vector<int64_t>, normalized_shape);
  MINIDL_ARG(Tensor, weight) = Tensor();
  MINIDL_ARG(Tensor, bias) = Tensor();
  MINIDL_ARG(double, eps) = 1e-5;
};

// input [*, normalized_shape] -> input's shape, normalized over the trailing normalized_shape.
inline Tensor layer_norm(const Tensor& input, const LayerNormFuncOptions& options) {
  return minidl::layer_norm(input, Shape(options.normalized_shape()), options.weight(),
                            options.bias(), options.eps());
}

// momentum = std::nullopt (torch's cumulative average) is an error here, as in libtorch's
// functional batch_norm, which needs a value; the BatchNorm modules handle that case.
struct BatchNormFuncOptions {
  MINIDL_ARG(Tensor, weight) = Tensor();
  MINIDL_ARG(Tensor, bias) = Tensor();
  MINIDL_ARG(bool, training) = false;
  MINIDL_ARG(std::optional<double>, momentum) = 0.1;
  MINIDL_ARG(double, eps) = 1e-5;
};

// input [N, C, *], running_mean / running_var [C] -> input's shape (ops/norm.h's batch_norm).
inline Tensor batch_norm(const Tensor& input, const Tensor& running_mean, const Tensor& running_var,
                         const BatchNormFuncOptions& options = {}) {
  MINIDL_CHECK(options.momentum().has_value(), "batch_norm",
               "momentum must have a value in the functional form (input shape "
                   << shape_str(input.shape()) << ")");
  return minidl::batch_norm(input, running_mean, running_var, options.weight(), options.bias(),
                            options.training(), *options.momentum(), options.eps());
}

// p (2), dim (1), eps (1e-12).
struct NormalizeFuncOptions {
  MINIDL_ARG(double, p) = 2.0;
  MINIDL_ARG(int64_t, dim) = 1;
  MINIDL_ARG(double, eps) = 1e-12;
};

// x / max(||x||_p, eps) along dim: x's shape.
inline Tensor normalize(const Tensor& input, const NormalizeFuncOptions& options = {}) {
  return minidl::normalize(input, options.p(), options.dim(), options.eps());
}

}  // namespace minidl::nn::functional
