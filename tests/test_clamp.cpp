// clamp with tensor bounds, clamp_min and clamp_max (ops/clamp.h): PyTorch values and gradients
// at ties (x == lo, x == hi, lo == hi, lo > hi) with broadcast bounds, gradchecks on contiguous
// and non-contiguous operands, dtype promotion, NaN, and the error paths.
#include <cmath>
#include <cstdint>
#include <limits>
#include <vector>

#include "tests/fixture.h"
#include "tests/test_util.h"

using namespace minidl;
using minidl::testing::allclose;
using minidl::testing::check_against;
using minidl::testing::check_gradients;
using minidl::testing::fixture_leaf;
using minidl::testing::Fixtures;
using minidl::testing::leaf;
using minidl::testing::strided_leaf;
using minidl::testing::transposed_leaf;

TEST_CASE("clamp with tensor bounds matches PyTorch at every kind of tie", "[clamp]") {
  Fixtures fx("clamp.txt");
  {
    Tensor x = fixture_leaf(fx, "x"), lo = fixture_leaf(fx, "lo"), hi = fixture_leaf(fx, "hi");
    check_against(fx, "clamp_both", clamp(x, lo, hi), {{"x", x}, {"lo", lo}, {"hi", hi}});
  }
  {
    // the same through the method form, with x stored transposed
    Tensor x = fx["x"].t().contiguous().t().requires_grad_();
    Tensor lo = fixture_leaf(fx, "lo");
    check_against(fx, "clamp_min_only", x.clamp(lo, std::nullopt), {{"x", x}, {"lo", lo}});
  }
  {
    Tensor x = fixture_leaf(fx, "x"), hi = fixture_leaf(fx, "hi");
    check_against(fx, "clamp_max_only", clamp(x, std::nullopt, hi), {{"x", x}, {"hi", hi}});
  }
  {
    // x [4] against bounds [3, 1]: the output is [3, 4] and x's gradient sums over rows
    Tensor xb = fixture_leaf(fx, "xb"), hi = fixture_leaf(fx, "hi");
    Tensor out = clamp(xb, hi, hi + 1.0);
    CHECK(out.shape() == Shape{3, 4});
    check_against(fx, "clamp_xb", out, {{"x", xb}, {"hi", hi}});
  }
  {
    Tensor x32 = fx["x"].to(kFloat32).requires_grad_(),
           lo32 = fx["lo"].to(kFloat32).requires_grad_();
    Tensor hi32 = fx["hi"].to(kFloat32).requires_grad_();
    Tensor out = clamp(x32, lo32, hi32);
    CHECK(out.dtype() == kFloat32);
    check_against(fx, "clamp32_both", out, {{"x", x32}, {"lo", lo32}, {"hi", hi32}}, 1e-6, 1e-6);
  }
}

TEST_CASE("clamp_min and clamp_max match PyTorch with tensor and scalar bounds", "[clamp]") {
  Fixtures fx("clamp.txt");
  {
    Tensor x = fixture_leaf(fx, "x"), lo = fixture_leaf(fx, "lo");
    check_against(fx, "clamp_min_t", clamp_min(x, lo), {{"x", x}, {"lo", lo}});
  }
  {
    Tensor x = fixture_leaf(fx, "x"), hi = fixture_leaf(fx, "hi");
    check_against(fx, "clamp_max_t", x.clamp_max(hi), {{"x", x}, {"hi", hi}});
  }
  {
    Tensor x = fixture_leaf(fx, "x");
    check_against(fx, "clamp_min_s", x.clamp_min(0.5), {{"x", x}});
  }
  {
    Tensor x = fixture_leaf(fx, "x");
    check_against(fx, "clamp_max_s", clamp_max(x, 0.5), {{"x", x}});
  }
}

TEST_CASE("clamp at ties by hand: x == bound passes the gradient to x", "[clamp]") {
  Tensor x = tensor<double>({1.0, 2.0, 3.0}, kFloat64).requires_grad_();
  Tensor lo = tensor<double>({1.0, 1.0, 4.0}, kFloat64).requires_grad_();
  clamp_min(x, lo).sum().backward();
  CHECK(x.grad().to_vector<double>() == std::vector<double>{1.0, 1.0, 0.0});
  CHECK(lo.grad().to_vector<double>() == std::vector<double>{0.0, 0.0, 1.0});
  // lo == hi above x: the output is the bound but neither bound gets the gradient
  Tensor y = tensor<double>({0.0}, kFloat64).requires_grad_();
  Tensor l = tensor<double>({1.0}, kFloat64).requires_grad_(),
         h = tensor<double>({1.0}, kFloat64).requires_grad_();
  Tensor out = clamp(y, l, h);
  out.sum().backward();
  CHECK(out.item<double>() == 1.0);
  CHECK(y.grad().item<double>() == 0.0);
  CHECK(l.grad().item<double>() == 0.0);
  CHECK(h.grad().item<double>() == 0.0);
}

TEST_CASE("clamp with tensor bounds: gradients on contiguous and non-contiguous operands",
          "[clamp]") {
  manual_seed(31);
  // Random values: no element lies within the finite-difference step of a bound.
  std::vector<std::pair<std::string, std::vector<Tensor>>> cases = {
      {"contiguous", {leaf({3, 4}), leaf({3, 4}) - 0.5, leaf({3, 4}) + 0.5}},
      {"transposed x, broadcast bounds",
       {transposed_leaf({3, 4}), leaf({4}) - 0.5, leaf({3, 1}) + 0.5}},
      {"sliced x and lo, 0-d hi", {strided_leaf({3, 4}), strided_leaf({3, 4}), leaf({}) + 0.5}},
      {"x broadcast against the bounds", {leaf({4}), leaf({2, 4}) - 0.5, leaf({2, 1}) + 0.5}},
  };
  for (auto& [name, operands] : cases) {
    INFO(name);
    for (Tensor& t : operands) t = t.detach().requires_grad_();
    check_gradients([](const std::vector<Tensor>& v) { return clamp(v[0], v[1], v[2]); }, operands);
    check_gradients([](const std::vector<Tensor>& v) { return clamp_min(v[0], v[1]); },
                    {operands[0], operands[1]});
    check_gradients([](const std::vector<Tensor>& v) { return clamp_max(v[0], v[1]); },
                    {operands[0], operands[2]});
    check_gradients(
        [](const std::vector<Tensor>& v) {
          return clamp(v[0], std::nullopt, v[1]).clamp_min(-0.3);
        },
        {operands[0], operands[2]});
  }
  // An expanded bound: its gradient sums over the expanded dim.
  Tensor x = leaf({3, 4}), lo_row = leaf({1, 4});
  check_gradients(
      [](const std::vector<Tensor>& v) {
        return clamp_min(v[0], v[1].expand({3, 4}));
      },
      {x, lo_row});
}

TEST_CASE("clamp with tensor bounds: dtypes, NaN, and lo > hi", "[clamp]") {
  // int64 with int64 bounds stays int64; a float bound promotes
  Tensor i = tensor<int64_t>({1, 5, 9});
  Tensor ci = clamp(i, tensor<int64_t>({2}), tensor<int64_t>({6}));
  CHECK(ci.dtype() == kInt64);
  CHECK(ci.to_vector<int64_t>() == std::vector<int64_t>{2, 5, 6});
  Tensor cf = clamp_min(i, tensor<double>({2.5}, kFloat64));
  CHECK(cf.dtype() == kFloat64);
  CHECK(cf.to_vector<double>() == std::vector<double>{2.5, 5.0, 9.0});
  CHECK(clamp_max(i, 4.0).to_vector<int64_t>() == std::vector<int64_t>{1, 4, 4});
  // NaN in x or in a bound gives NaN, as in PyTorch
  const double nan = std::numeric_limits<double>::quiet_NaN();
  Tensor x = tensor<double>({nan, 1.0, 1.0}, kFloat64);
  std::vector<double> c =
      clamp(x, tensor<double>({0.0, nan, 0.0}, kFloat64), tensor<double>({2.0, 2.0, nan}, kFloat64))
          .to_vector<double>();
  CHECK(std::isnan(c[0]));
  CHECK(std::isnan(c[1]));
  CHECK(std::isnan(c[2]));
  CHECK(std::isnan(
      clamp_min(tensor<double>({1.0}, kFloat64), tensor<double>({nan}, kFloat64)).item<double>()));
  // lo > hi gives hi (lo is applied first)
  Tensor both = clamp(tensor<double>({-5.0, 0.0, 5.0}, kFloat64), tensor<double>({2.0}, kFloat64),
                      tensor<double>({1.0}, kFloat64));
  CHECK(both.to_vector<double>() == std::vector<double>{1.0, 1.0, 1.0});
  // an undefined tensor in the optional counts as absent
  CHECK(clamp(x, Tensor(), tensor<double>({0.5}, kFloat64)).to_vector<double>()[1] == 0.5);
}

TEST_CASE("clamp with tensor bounds: errors name the op and the fault", "[clamp]") {
  Tensor x = zeros({2, 3});
  CHECK_THROWS_WITH(clamp(x, std::optional<Tensor>(), std::optional<Tensor>()),
                    Catch::Contains("clamp") && Catch::Contains("min and max"));
  CHECK_THROWS_WITH(clamp(x, Tensor(), Tensor()), Catch::Contains("clamp"));
  CHECK_THROWS_WITH(clamp_min(x, zeros({4})), Catch::Contains("clamp_min") &&
                                                  Catch::Contains("[2, 3]") &&
                                                  Catch::Contains("[4]"));
  CHECK_THROWS_WITH(clamp_max(x, Tensor()),
                    Catch::Contains("clamp_max") && Catch::Contains("undefined"));
  CHECK_THROWS_WITH(clamp_min(tensor<bool>({true}), zeros({1})),
                    Catch::Contains("clamp_min") && Catch::Contains("bool"));
  CHECK_THROWS_WITH(clamp_max(x, tensor<bool>({true})),
                    Catch::Contains("clamp_max") && Catch::Contains("bool"));
  CHECK_THROWS_WITH(clamp_min(tensor<bool>({true}), 0.0), Catch::Contains("clamp"));
}
