// torch::nn::functional activations: each forwards to minidl's op (ops/elementwise.h,
// ops/activation_extra.h, ops/mish.h, ops/softmax.h) with libtorch's XxxFuncOptions and their
// defaults.
//
//   namespace F = minidl::nn::functional;
//   F::leaky_relu(x, F::LeakyReLUFuncOptions().negative_slope(0.2));
//   F::softmax(x, F::SoftmaxFuncOptions(1));
//
// inplace(true) writes the result into the input and returns the input (Tensor::copy_'s rules:
// refused on a leaf that requires grad or on a view while recording the tape).
#pragma once

#include <optional>
#include <string>

#include "core/arg.h"
#include "core/tensor.h"
#include "ops/activation_extra.h"
#include "ops/elementwise.h"
#include "ops/mish.h"
#include "ops/softmax.h"

namespace minidl::nn::functional {

namespace detail {
// result itself, or (inplace) result copied into input and input returned. An op that returned
// its input unchanged (dropout in eval mode) needs no copy.
inline Tensor write_back(Tensor input, const Tensor& result, bool inplace) {
  if (!inplace || result.is_same(input)) return result;
  input.copy_(result);
  return input;
}
}  // namespace detail

// inplace (false): write the result into the input.
struct ReLUFuncOptions {
  ReLUFuncOptions(bool inplace = false) : inplace_(inplace) {}  // NOLINT: implicit, as libtorch's
  MINIDL_ARG(bool, inplace);
};
// max(0, x): x's shape, floating dtypes (int is an error).
inline Tensor relu(const Tensor& input, const ReLUFuncOptions& options = {}) {
  return detail::write_back(input, minidl::relu(input), options.inplace());
}

// inplace (false).
struct ReLU6FuncOptions {
  ReLU6FuncOptions(bool inplace = false) : inplace_(inplace) {}  // NOLINT
  MINIDL_ARG(bool, inplace);
};
// min(max(x, 0), 6): x's shape, floating dtypes.
inline Tensor relu6(const Tensor& input, const ReLU6FuncOptions& options = {}) {
  return detail::write_back(input, minidl::relu6(input), options.inplace());
}

// negative_slope (0.01), inplace (false).
struct LeakyReLUFuncOptions {
  MINIDL_ARG(double, negative_slope) = 1e-2;
  MINIDL_ARG(bool, inplace) = false;
};
// max(0, x) + negative_slope * min(0, x): x's shape, floating dtypes.
inline Tensor leaky_relu(const Tensor& input, const LeakyReLUFuncOptions& options = {}) {
  return detail::write_back(input, minidl::leaky_relu(input, options.negative_slope()),
                            options.inplace());
}

// alpha (1), inplace (false).
struct ELUFuncOptions {
  MINIDL_ARG(double, alpha) = 1.0;
  MINIDL_ARG(bool, inplace) = false;
};
// x for x > 0, alpha (exp(x) - 1) otherwise: x's shape, floating dtypes.
inline Tensor elu(const Tensor& input, const ELUFuncOptions& options = {}) {
  return detail::write_back(input, minidl::elu(input, options.alpha()), options.inplace());
}

// approximate: "none" (exact, with erf) or "tanh", as libtorch 1.13's GELUOptions.
struct GELUFuncOptions {
  MINIDL_ARG(std::string, approximate) = "none";
};
// x * Phi(x) (or its tanh approximation): x's shape, floating dtypes.
inline Tensor gelu(const Tensor& input, const GELUFuncOptions& options = {}) {
  return minidl::gelu(input, options.approximate());
}

// x * sigmoid(x): x's shape, floating dtypes.
inline Tensor silu(const Tensor& input) {
  return minidl::silu(input);
}

// x * tanh(softplus(x)): x's shape, floating dtypes.
inline Tensor mish(const Tensor& input) {
  return minidl::mish(input);
}

// beta (1), threshold (20: linear where beta x > threshold).
struct SoftplusFuncOptions {
  MINIDL_ARG(double, beta) = 1.0;
  MINIDL_ARG(double, threshold) = 20.0;
};
// log(1 + exp(beta x)) / beta: x's shape, floating dtypes.
inline Tensor softplus(const Tensor& input, const SoftplusFuncOptions& options = {}) {
  return minidl::softplus(input, options.beta(), options.threshold());
}

// min_val (-1), max_val (1), inplace (false).
struct HardtanhFuncOptions {
  MINIDL_ARG(double, min_val) = -1.0;
  MINIDL_ARG(double, max_val) = 1.0;
  MINIDL_ARG(bool, inplace) = false;
};
// min(max(x, min_val), max_val): x's shape, floating dtypes.
inline Tensor hardtanh(const Tensor& input, const HardtanhFuncOptions& options = {}) {
  return detail::write_back(input, minidl::hardtanh(input, options.min_val(), options.max_val()),
                            options.inplace());
}

// dim is required (libtorch's SoftmaxFuncOptions(dim)); dtype, when set, converts the input
// first (as torch's dtype argument does).
struct SoftmaxFuncOptions {
  SoftmaxFuncOptions(int64_t dim) : dim_(dim) {}  // NOLINT: implicit, as libtorch's
  MINIDL_ARG(int64_t, dim);
  MINIDL_ARG(std::optional<DType>, dtype) = std::nullopt;
};
// Softmax along options.dim() (wrapped; out of range is an error): x's shape.
inline Tensor softmax(const Tensor& input, const SoftmaxFuncOptions& options) {
  const Tensor& x = options.dtype() ? input.to(*options.dtype()) : input;
  return minidl::softmax(x, options.dim());
}

// dim (required), dtype (convert the input first).
struct LogSoftmaxFuncOptions {
  LogSoftmaxFuncOptions(int64_t dim) : dim_(dim) {}  // NOLINT
  MINIDL_ARG(int64_t, dim);
  MINIDL_ARG(std::optional<DType>, dtype) = std::nullopt;
};
// log(softmax(x)) along options.dim(), computed stably: x's shape.
inline Tensor log_softmax(const Tensor& input, const LogSoftmaxFuncOptions& options) {
  const Tensor& x = options.dtype() ? input.to(*options.dtype()) : input;
  return minidl::log_softmax(x, options.dim());
}

}  // namespace minidl::nn::functional
