// max_pool2d, avg_pool2d, adaptive_avg_pool2d (ops/pool.cpp) and their modules (nn/pooling.cpp):
// PyTorch values, indices and gradients (ceil_mode, padding, dilation, overlapping windows,
// ties), gradchecks on non-contiguous inputs, the parallel path, and every error.
#include <limits>

#include "nn/pooling.h"
#include "ops/pool.h"
#include "tests/fixture.h"
#include "tests/test_util.h"

using namespace minidl;
using minidl::testing::allclose;
using minidl::testing::check_against;
using minidl::testing::check_gradients;
using minidl::testing::Fixtures;
using minidl::testing::leaf;
using minidl::testing::strided_leaf;
using minidl::testing::transposed_leaf;

namespace {

struct MaxCase {
  std::string name;
  ExpandingArray kernel, stride, padding, dilation;
  bool ceil_mode;
};

}  // namespace

TEST_CASE("max_pool2d matches PyTorch's values, indices and gradients", "[conv]") {
  Fixtures fx("conv.txt");
  const std::vector<MaxCase> cases = {
      {"mp_k2", 2, {}, 0, 1, false},
      {"mp_ceil_pad", 3, 2, 1, 1, true},
      {"mp_dilation", {3, 2}, {1, 2}, 1, {2, 1}, false},
      {"mp_unbatched", {2, 3}, 1, 0, 1, false},
      {"mp_ties", 3, 1, 0, 1, false},  // integer values: many ties in overlapping windows
  };
  for (const MaxCase& c : cases) {
    Tensor x = fixture_leaf(fx, c.name + "_x");
    auto [out, index] =
        max_pool2d_with_indices(x, c.kernel, c.stride, c.padding, c.dilation, c.ceil_mode);
    CHECK(index.dtype() == kInt64);
    CHECK(allclose(index, fx[c.name + "_index"], 0, 0));
    CHECK(allclose(max_pool2d(x.detach(), c.kernel, c.stride, c.padding, c.dilation, c.ceil_mode),
                   out, 0, 0));
    check_against(fx, c.name, out, {{"x", x}}, 1e-6, 1e-9);
  }
}

TEST_CASE("avg_pool2d and adaptive_avg_pool2d match PyTorch", "[conv]") {
  Fixtures fx("conv.txt");
  {
    Tensor x = fixture_leaf(fx, "ap_ceil_pad_x");
    check_against(fx, "ap_ceil_pad", avg_pool2d(x, 3, 2, 1, true), {{"x", x}}, 1e-6, 1e-9);
  }
  {
    Tensor x = fixture_leaf(fx, "ap_no_pad_count_x");
    check_against(fx, "ap_no_pad_count", avg_pool2d(x, 3, 2, 1, true, false), {{"x", x}}, 1e-6,
                  1e-9);
  }
  {
    Tensor x = fixture_leaf(fx, "ap_pairs_x");
    check_against(fx, "ap_pairs", avg_pool2d(x, {2, 3}, {1, 2}), {{"x", x}}, 1e-6, 1e-9);
  }
  {
    Tensor x = fixture_leaf(fx, "ap_divisor_x");
    check_against(fx, "ap_divisor", avg_pool2d(x, 2, {}, 1, false, true, 3), {{"x", x}}, 1e-6,
                  1e-9);
  }
  {
    Tensor x = fixture_leaf(fx, "aap_down_x");
    check_against(fx, "aap_down", adaptive_avg_pool2d(x, {3, 4}), {{"x", x}}, 1e-6, 1e-9);
  }
  {
    Tensor x = fixture_leaf(fx, "aap_up_x");
    check_against(fx, "aap_up", adaptive_avg_pool2d(x, 5), {{"x", x}}, 1e-6, 1e-9);
  }
}

TEST_CASE("pooling gradients pass gradcheck on non-contiguous inputs", "[conv]") {
  manual_seed(11);
  // Distinct values keep max pooling differentiable under the finite-difference steps.
  check_gradients(
      [](const std::vector<Tensor>& in) {
        return max_pool2d(in[0], {3, 2}, {2, 1}, 1, 1, true);
      },
      {transposed_leaf({2, 2, 5, 6})});
  check_gradients([](const std::vector<Tensor>& in) { return max_pool2d(in[0], 2, 1, 1, 2); },
                  {strided_leaf({2, 5, 4})});
  check_gradients(
      [](const std::vector<Tensor>& in) { return avg_pool2d(in[0], 3, 2, 1, true, false); },
      {transposed_leaf({1, 2, 6, 5})});
  check_gradients(
      [](const std::vector<Tensor>& in) {
        return avg_pool2d(in[0], {2, 3});
      },
      {strided_leaf({2, 4, 6})});
  check_gradients(
      [](const std::vector<Tensor>& in) {
        return adaptive_avg_pool2d(in[0], {2, 3});
      },
      {transposed_leaf({1, 2, 5, 4})});
}

TEST_CASE("pooling: NaN wins a max, -inf windows, the parallel path", "[conv]") {
  const double nan = std::numeric_limits<double>::quiet_NaN();
  const double inf = std::numeric_limits<double>::infinity();
  Tensor x = from_vector(std::vector<double>{1, nan, 3, 4}, {1, 1, 2, 2});
  CHECK(std::isnan(max_pool2d(x, 2).item()));
  Tensor y = full({1, 1, 3, 3}, -inf, kFloat64);
  auto [values, index] = max_pool2d_with_indices(y, 3, 1, 1);
  CHECK(values.to_vector<double>() == std::vector<double>(9, -inf));
  CHECK(index.to_vector<int64_t>()[0] == 0);

  // Many planes: split across threads; must equal the per-plane (serial) results.
  manual_seed(12);
  Tensor big = randn({8, 32, 14, 14}).requires_grad_();
  Tensor pooled = max_pool2d(big, 2);
  Tensor up = randn(pooled.shape());
  pooled.backward(up);
  for (int64_t n : {0, 7}) {
    Tensor xn = big.detach().narrow(0, n, 1).clone().requires_grad_();
    Tensor pn = max_pool2d(xn, 2);
    CHECK(allclose(pn, pooled.narrow(0, n, 1), 0, 0));
    pn.backward(up.narrow(0, n, 1));
    CHECK(allclose(xn.grad(), big.grad().narrow(0, n, 1), 0, 0));
  }
  // avg and adaptive avg of one whole plane agree with the mean.
  Tensor plane_means = big.detach().mean({2, 3}, true);
  CHECK(allclose(adaptive_avg_pool2d(big.detach(), 1), plane_means, 1e-5, 1e-6));
  CHECK(allclose(avg_pool2d(big.detach(), 14), plane_means, 1e-5, 1e-6));
  CHECK(avg_pool2d(big.detach(), 2).dtype() == kFloat32);
}

TEST_CASE("pooling errors name the op and the shapes", "[conv]") {
  using Catch::Contains;
  Tensor x = zeros({1, 2, 5, 5});
  CHECK_THROWS_WITH(max_pool2d(zeros({5, 5}), 2), Contains("max_pool2d") && Contains("[5, 5]"));
  CHECK_THROWS_WITH(avg_pool2d(zeros({1, 1, 1, 5, 5}), 2),
                    Contains("avg_pool2d") && Contains("[1, 1, 1, 5, 5]"));
  CHECK_THROWS_WITH(adaptive_avg_pool2d(zeros({2, 0, 4}), 2),
                    Contains("adaptive_avg_pool2d") && Contains("[2, 0, 4]"));
  CHECK_THROWS_WITH(max_pool2d(zeros({1, 2, 5, 5}, kInt64), 2),
                    Contains("max_pool2d") && Contains("floating"));
  CHECK_THROWS_WITH(max_pool2d(x, 3, 1, 2), Contains("max_pool2d") && Contains("half of kernel"));
  CHECK_THROWS_WITH(avg_pool2d(x, 0), Contains("avg_pool2d") && Contains("kernel_size"));
  CHECK_THROWS_WITH(max_pool2d(x, 2, 0), Contains("stride must be positive"));
  CHECK_THROWS_WITH(max_pool2d(x, 2, 2, 0, 0), Contains("dilation must be positive"));
  CHECK_THROWS_WITH(max_pool2d(x, {2, 2, 2}), Contains("kernel_size must be an int or 2"));
  CHECK_THROWS_WITH(max_pool2d(x, 6),
                    Contains("max_pool2d") && Contains("[1, 2, 5, 5]") && Contains("too small"));
  CHECK_THROWS_WITH(max_pool2d(x, 3, 1, 0, 3), Contains("too small"));
  CHECK_THROWS_WITH(avg_pool2d(x, 2, 2, 0, false, true, -1), Contains("divisor_override"));
  CHECK_THROWS_WITH(adaptive_avg_pool2d(x, {0, 2}), Contains("output_size must be positive"));
}

TEST_CASE("pooling modules: forward, indices, extra_repr", "[conv]") {
  using Catch::Contains;
  manual_seed(13);
  Tensor x = randn({2, 3, 6, 7});
  nn::MaxPool2d max_pool(2);
  CHECK(allclose(max_pool(x), max_pool2d(x, 2), 0, 0));
  CHECK(max_pool.extra_repr() == "kernel_size=2, stride=2, padding=0, dilation=1, ceil_mode=False");
  nn::MaxPool2d max_pool_pairs({3, 2}, {2, 1}, 1, 1, true, true);
  auto [values, index] = max_pool_pairs.forward_with_indices(x);
  CHECK(allclose(values, max_pool2d(x, {3, 2}, {2, 1}, 1, 1, true), 0, 0));
  CHECK(index.dtype() == kInt64);
  CHECK(max_pool_pairs.extra_repr() ==
        "kernel_size=(3, 2), stride=(2, 1), padding=1, dilation=1, ceil_mode=True");
  nn::AvgPool2d avg_pool(3, 2, 1, false, false);
  CHECK(allclose(avg_pool(x), avg_pool2d(x, 3, 2, 1, false, false), 0, 0));
  CHECK(avg_pool.extra_repr() == "kernel_size=3, stride=2, padding=1");
  CHECK(nn::AvgPool2d(2).extra_repr() == "kernel_size=2, stride=2, padding=0");
  nn::AdaptiveAvgPool2d adaptive({2, 3});
  CHECK(adaptive(x).shape() == Shape{2, 3, 2, 3});
  CHECK(adaptive.extra_repr() == "output_size=(2, 3)");
  CHECK(nn::AdaptiveAvgPool2d(1).extra_repr() == "output_size=1");
  CHECK(max_pool.parameters().empty());
  CHECK(max_pool.to_string() ==
        "MaxPool2d(kernel_size=2, stride=2, padding=0, dilation=1, ceil_mode=False)");
  CHECK_THROWS_WITH(nn::MaxPool2d(ExpandingArray{2, 2, 2}),
                    Contains("MaxPool2d") && Contains("kernel_size"));
  CHECK_THROWS_WITH(max_pool(zeros({4})), Contains("max_pool2d") && Contains("[4]"));
}
