// Elementwise arithmetic and math with NumPy/PyTorch broadcasting, differentiable.
//
// Result dtypes follow PyTorch's promotion for float32/float64/int64 (int64 with float32 gives
// float32; float32 with float64 gives float64; true division of integers gives float32; int64 ^
// int64 stays int64). A scalar is a double, and counts as an integer when it is a whole number
// (int64 * 2.0 stays int64 like PyTorch's int64 * 2; int64 * 0.5 is float32). Where minidl
// differs: arithmetic on bool tensors computes in int64, and math functions (exp, log, ...)
// require floating-point inputs rather than silently promoting integers.
#pragma once

#include <optional>
#include <string>

#include "core/tensor.h"

namespace minidl {

// ---- binary, broadcasting
Tensor add(const Tensor& a, const Tensor& b, double alpha = 1.0);  // a + alpha * b
Tensor sub(const Tensor& a, const Tensor& b, double alpha = 1.0);  // a - alpha * b
Tensor mul(const Tensor& a, const Tensor& b);
Tensor div(const Tensor& a, const Tensor& b);
// d/dbase is 0 where exponent == 0; d/dexponent is 0 where base == 0 and exponent >= 0 (the
// limits, as PyTorch takes them). Integer powers with a negative exponent give 0 (unless
// |base| == 1).
Tensor pow(const Tensor& base, const Tensor& exponent);
// NaN propagates; ties split the gradient evenly (as PyTorch, an input gets the whole gradient
// unless it loses, so both do where a NaN is involved).
Tensor maximum(const Tensor& a, const Tensor& b);
Tensor minimum(const Tensor& a, const Tensor& b);

// ---- with a scalar (no broadcasting machinery, no second tensor: the cheapest ops)
Tensor add(const Tensor& a, double b);
Tensor sub(const Tensor& a, double b);
Tensor rsub(const Tensor& a, double b);  // b - a
Tensor mul(const Tensor& a, double b);
Tensor div(const Tensor& a, double b);
Tensor rdiv(const Tensor& a, double b);           // b / a
Tensor pow(const Tensor& base, double exponent);  // int64 base: exponent must be >= 0
Tensor pow(double base, const Tensor& exponent);

Tensor operator+(const Tensor& a, const Tensor& b);
Tensor operator-(const Tensor& a, const Tensor& b);
Tensor operator*(const Tensor& a, const Tensor& b);
Tensor operator/(const Tensor& a, const Tensor& b);
Tensor operator+(const Tensor& a, double b);
Tensor operator-(const Tensor& a, double b);
Tensor operator*(const Tensor& a, double b);
Tensor operator/(const Tensor& a, double b);
Tensor operator+(double a, const Tensor& b);
Tensor operator-(double a, const Tensor& b);
Tensor operator*(double a, const Tensor& b);
Tensor operator/(double a, const Tensor& b);
Tensor operator-(const Tensor& a);

// ---- unary math (floating point)
Tensor neg(const Tensor& x);
Tensor abs(const Tensor& x);  // d|x|/dx = sign(x), 0 at 0
Tensor exp(const Tensor& x);
Tensor log(const Tensor& x);
Tensor log1p(const Tensor& x);
Tensor sqrt(const Tensor& x);
Tensor rsqrt(const Tensor& x);
Tensor sin(const Tensor& x);
Tensor cos(const Tensor& x);
Tensor tanh(const Tensor& x);
Tensor sigmoid(const Tensor& x);

// ---- activations
Tensor relu(const Tensor& x);
Tensor leaky_relu(const Tensor& x, double negative_slope = 0.01);
Tensor elu(const Tensor& x, double alpha = 1.0);
// approximate = "none" (exact, with erf) or "tanh", as torch.nn.functional.gelu.
Tensor gelu(const Tensor& x, const std::string& approximate = "none");
// log(1 + exp(beta x)) / beta, linear above `threshold` (as torch.nn.functional.softplus).
Tensor softplus(const Tensor& x, double beta = 1.0, double threshold = 20.0);
// Gradient 1 inside [min, max] (inclusive), 0 outside. min is applied first (min > max gives
// max everywhere); NaN stays NaN; an int64 input with a fractional bound gives float32.
Tensor clamp(const Tensor& x, std::optional<double> min, std::optional<double> max);

// The dtype of a binary op's result on these operands (exposed for kernels of other ops).
DType result_type(const Tensor& a, const Tensor& b);

}  // namespace minidl
