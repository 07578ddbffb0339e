// Parameter initialization, as torch.nn.init: the same names, defaults and formulas.
//
// Every function fills `tensor` in place (through the handle, so a module's parameter is
// changed where it lives) under NoGradGuard, drawing from the default generator, and returns the
// same handle. Fans follow torch's _calculate_fan_in_and_fan_out: for a weight [out, in, k...],
// fan_in = in * prod(k), fan_out = out * prod(k).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>

#include "core/tensor.h"

namespace minidl::nn::init {

// The recommended gain for a nonlinearity: 1 for "linear", "conv1d/2d/3d", "conv_transpose1d/
// 2d/3d" and "sigmoid"; 5/3 for "tanh"; sqrt(2) for "relu"; sqrt(2 / (1 + slope^2)) for
// "leaky_relu" (slope = param, default 0.01); 3/4 for "selu".
double calculate_gain(const std::string& nonlinearity, std::optional<double> param = std::nullopt);

// {fan_in, fan_out} of a tensor with at least 2 dims.
std::pair<int64_t, int64_t> calculate_fan_in_and_fan_out(const Tensor& tensor);

Tensor uniform_(Tensor tensor, double a = 0.0, double b = 1.0);  // U(a, b)
Tensor normal_(Tensor tensor, double mean = 0.0, double std = 1.0);
Tensor constant_(Tensor tensor, double val);
Tensor zeros_(Tensor tensor);
Tensor ones_(Tensor tensor);

// U(-a, a) with a = gain * sqrt(6 / (fan_in + fan_out)).
Tensor xavier_uniform_(Tensor tensor, double gain = 1.0);
// N(0, std^2) with std = gain * sqrt(2 / (fan_in + fan_out)).
Tensor xavier_normal_(Tensor tensor, double gain = 1.0);

// U(-bound, bound) with bound = gain * sqrt(3 / fan), gain = calculate_gain(nonlinearity, a),
// fan = fan_in or fan_out as `mode` says ("fan_in" preserves the forward variance, "fan_out"
// the backward one).
Tensor kaiming_uniform_(Tensor tensor, double a = 0.0, const std::string& mode = "fan_in",
                        const std::string& nonlinearity = "leaky_relu");
// N(0, std^2) with std = gain / sqrt(fan).
Tensor kaiming_normal_(Tensor tensor, double a = 0.0, const std::string& mode = "fan_in",
                       const std::string& nonlinearity = "leaky_relu");

// A (semi-)orthogonal matrix times gain: the tensor is viewed as [size(0), numel / size(0)],
// filled from the QR decomposition (Householder) of a standard normal matrix, with Q's columns
// sign-corrected so that R has a positive diagonal (as torch.nn.init.orthogonal_). Rows are
// orthonormal when rows <= cols, columns otherwise.
Tensor orthogonal_(Tensor tensor, double gain = 1.0);

}  // namespace minidl::nn::init
