// torch::nn::functional::dropout / dropout2d with libtorch's DropoutFuncOptions (p = 0.5,
// training = true, inplace = false), forwarding to ops/dropout.h:
//   F::dropout(x, F::DropoutFuncOptions().p(0.2).training(is_training()));
#pragma once

#include "core/arg.h"
#include "nn/functional/activation.h"
#include "ops/dropout.h"

namespace minidl::nn::functional {

// p (0.5), training (true), inplace (false).
struct DropoutFuncOptions {
  MINIDL_ARG(double, p) = 0.5;
  MINIDL_ARG(bool, training) = true;
  MINIDL_ARG(bool, inplace) = false;
};
// Elementwise dropout: x's shape; p outside [0, 1] is an error; returns x when not training.
inline Tensor dropout(const Tensor& input, const DropoutFuncOptions& options = {}) {
  return detail::write_back(input, minidl::dropout(input, options.p(), options.training()),
                            options.inplace());
}

// p (0.5), training (true), inplace (false).
struct Dropout2dFuncOptions {
  MINIDL_ARG(double, p) = 0.5;
  MINIDL_ARG(bool, training) = true;
  MINIDL_ARG(bool, inplace) = false;
};
// Channel dropout of x [N, C, H, W] or [C, H, W] -> x's shape; other ranks are an error.
inline Tensor dropout2d(const Tensor& input, const Dropout2dFuncOptions& options = {}) {
  return detail::write_back(input, minidl::dropout2d(input, options.p(), options.training()),
                            options.inplace());
}

}  // namespace minidl::nn::functional
