// torch::nn::functional::linear: y = x W^T + b (ops/linalg.h's linear; bias optional).
#pragma once

#include "ops/linalg.h"

namespace minidl::nn::functional {

// x [..., in], weight [out, in], bias [out] (optional) -> [..., out].
inline Tensor linear(const Tensor& input, const Tensor& weight, const Tensor& bias = {}) {
  return minidl::linear(input, weight, bias);
}

}  // namespace minidl::nn::functional
