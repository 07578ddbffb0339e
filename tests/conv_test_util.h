// Helpers shared by the convolution tests (tests/test_conv.cpp, tests/test_conv_transpose.cpp).
#pragma once

#include <cmath>
#include <cstdint>
#include <functional>

#include "tests/test_util.h"

namespace minidl::conv_testing {

using minidl::testing::allclose;

// A convolution module's parameters: "weight" then "bias", of these shapes, drawn as PyTorch
// does from U(-bound, bound): inside the bound, the largest beyond `fill` * bound, and the
// weight's standard deviation that of the uniform distribution, bound / sqrt(3).
inline void check_conv_parameters(const nn::Module& conv, const Tensor& weight, const Tensor& bias,
                                  const Shape& weight_shape, const Shape& bias_shape, double bound,
                                  double fill) {
  auto params = conv.named_parameters();
  REQUIRE(params.size() == 2);
  CHECK(params[0].first == "weight");
  CHECK(params[1].first == "bias");
  CHECK(weight.shape() == weight_shape);
  CHECK(bias.shape() == bias_shape);
  for (const Tensor& p : {weight, bias}) {
    CHECK(p.abs().max().item() <= bound);
    CHECK(p.abs().max().item() > fill * bound);
  }
  CHECK(weight.std().item() == Approx(bound / std::sqrt(3.0)).epsilon(0.1));
}

// x, w and b hold the gradients of a batched conv(x, w, b) under the upstream `up`; checks that
// accumulating conv one sample of x at a time (the serial path) gives the same gradients.
inline void check_per_sample_gradients(
    const std::function<Tensor(const Tensor&, const Tensor&, const Tensor&)>& conv, const Tensor& x,
    const Tensor& w, const Tensor& b, const Tensor& up) {
  Tensor x1 = x.detach().clone().requires_grad_();
  Tensor w1 = w.detach().clone().requires_grad_();
  Tensor b1 = b.detach().clone().requires_grad_();
  for (int64_t n = 0; n < x.size(0); ++n)
    conv(x1.narrow(0, n, 1), w1, b1).backward(up.narrow(0, n, 1));
  CHECK(allclose(x.grad(), x1.grad(), 1e-5, 1e-5));
  CHECK(allclose(w.grad(), w1.grad(), 1e-4, 1e-4));
  CHECK(allclose(b.grad(), b1.grad(), 1e-4, 1e-4));
}

}  // namespace minidl::conv_testing
