// amax and amin (ops/amax.h): PyTorch values and gradients over lists of dims with many ties
// (the gradient split evenly among tied extrema, unlike max(dim)) and with a NaN, gradchecks on
// contiguous and non-contiguous inputs, int64 / bool / 0-d / empty inputs, and the error paths.
#include <cmath>
#include <cstdint>
#include <vector>

#include "tests/fixture.h"
#include "tests/test_util.h"

using namespace minidl;
using minidl::testing::allclose;
using minidl::testing::check_against_same_dtype;
using minidl::testing::check_gradients;
using minidl::testing::fixture_leaf;
using minidl::testing::Fixtures;
using minidl::testing::leaf;
using minidl::testing::strided_leaf;
using minidl::testing::transposed_leaf;

namespace {

struct DimsCase {
  std::string tag;
  std::vector<int64_t> dims;
  bool keepdim;
};

}  // namespace

TEST_CASE("amax and amin match PyTorch with ties split evenly, keepdim and negative dims",
          "[amax]") {
  Fixtures fx("amax.txt");
  const std::vector<DimsCase> cases = {{"all", {}, false},       {"d1", {1}, false},
                                       {"d02", {0, 2}, false},   {"m1k", {-1}, true},
                                       {"d0m1k", {0, -1}, true}, {"d012", {0, 1, 2}, false}};
  for (const DimsCase& c : cases) {
    Tensor x = fixture_leaf(fx, "x");
    check_against_same_dtype(fx, "amax_" + c.tag, amax(x, c.dims, c.keepdim), {{"x", x}});
    // a transposed copy of the same values: the rows are walked through strides
    Tensor xt = fx["x"].transpose(0, 2).contiguous().transpose(0, 2).requires_grad_();
    check_against_same_dtype(fx, "amin_" + c.tag, amin(xt, c.dims, c.keepdim), {{"x", xt}});
  }
  Tensor x32 = fx["x"].to(kFloat32).requires_grad_();
  check_against_same_dtype(fx, "amax32_d02", x32.amax({0, 2}), {{"x", x32}}, 1e-6);
  Tensor y32 = fx["x"].to(kFloat32).requires_grad_();
  check_against_same_dtype(fx, "amin32_m1k", y32.amin({-1}, true), {{"x", y32}}, 1e-6);
}

TEST_CASE("amax's gradient is shared among ties; max(dim)'s goes to one index", "[amax]") {
  Tensor x =
      tensor<double>({{1.0, 3.0, 3.0, 3.0}, {2.0, 0.0, 2.0, 1.0}}, kFloat64).requires_grad_();
  amax(x, {1}).sum().backward();
  const std::vector<double> third = {0.0, 1.0 / 3, 1.0 / 3, 1.0 / 3, 0.5, 0.0, 0.5, 0.0};
  CHECK(allclose(x.grad(), from_vector(third, {2, 4}, kFloat64), 1e-15, 1e-15));
  Tensor y = x.detach().requires_grad_();
  max(y, 1).first.sum().backward();
  CHECK(y.grad().to_vector<double>() ==
        std::vector<double>{0.0, 1.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0});
  // amin over everything: the single minimum (the 0) gets the whole gradient
  Tensor z = x.detach().requires_grad_();
  amin(z).backward();
  CHECK(z.grad().sum().item<double>() == 1.0);
  CHECK(z.grad().to_vector<double>()[5] == 1.0);
}

TEST_CASE("amax and amin with a NaN: the result is NaN and so is that group's gradient", "[amax]") {
  Fixtures fx("amax.txt");
  Tensor xn = fixture_leaf(fx, "xn");
  Tensor out = amax(xn, {1});
  CHECK(std::isnan(out.to_vector<double>()[1]));
  check_against_same_dtype(fx, "amax_nan", out, {{"x", xn}});
  Tensor yn = fixture_leaf(fx, "xn");
  check_against_same_dtype(fx, "amin_nan", amin(yn, {1}), {{"x", yn}});
}

TEST_CASE("amax and amin gradients on contiguous and non-contiguous inputs", "[amax]") {
  manual_seed(21);
  // Random values have no ties, so finite differences see a smooth function.
  Tensor row = leaf({5});
  std::vector<std::pair<std::string, Tensor>> inputs = {{"contiguous", leaf({3, 4, 5})},
                                                        {"transposed", transposed_leaf({3, 5, 4})},
                                                        {"sliced", strided_leaf({3, 4, 5})}};
  for (const auto& [name, x] : inputs) {
    for (const std::vector<int64_t>& dims : {std::vector<int64_t>{}, {1}, {0, 2}, {-1}}) {
      INFO(name << " over " << dims.size() << " dims");
      check_gradients([dims](const std::vector<Tensor>& v) { return amax(v[0], dims); }, {x});
      check_gradients([dims](const std::vector<Tensor>& v) { return amin(v[0], dims, true); }, {x});
    }
  }
  // Expanded: over dim 0 the 3 copies of each element tie and share the gradient, which sums
  // back to the whole of it on the row.
  INFO("expanded");
  check_gradients(
      [](const std::vector<Tensor>& v) {
        return amax(v[0].expand({3, 5}), {1});
      },
      {row});
  check_gradients(
      [](const std::vector<Tensor>& v) {
        return amin(v[0].expand({3, 5}), {0});
      },
      {row});
  Tensor s = leaf({});
  check_gradients([](const std::vector<Tensor>& v) { return amax(v[0], {0}); }, {s});
}

TEST_CASE("amax and amin on int64, bool, 0-d and empty tensors", "[amax]") {
  Tensor i = tensor<int64_t>({{1, 7, 3}, {9, -2, 4}});
  CHECK(amax(i).dtype() == kInt64);
  CHECK(amax(i).item<int64_t>() == 9);
  CHECK(amin(i, {1}).to_vector<int64_t>() == std::vector<int64_t>{1, -2});
  CHECK(amax(i, {0}, true).shape() == Shape{1, 3});
  Tensor b = tensor<bool>({false, true, false});
  CHECK(amax(b).dtype() == kBool);
  CHECK(amax(b).item<bool>());
  CHECK_FALSE(amin(b).item<bool>());
  Tensor s = scalar_tensor(3.5, kFloat64);
  CHECK(amax(s).dim() == 0);
  CHECK(amin(s, {-1}, true).item<double>() == 3.5);
  // an empty tensor reduced over a non-empty dim: an empty result
  CHECK(amax(zeros({0, 3}), {1}).shape() == Shape{0});
  CHECK(i.amax({-1}).to_vector<int64_t>() == std::vector<int64_t>{7, 9});
}

TEST_CASE("amax and amin errors name the op and the fault", "[amax]") {
  Tensor x = zeros({2, 3});
  CHECK_THROWS_WITH(amax(zeros({0, 3}), {0}), Catch::Contains("amax") &&
                                                  Catch::Contains("size 0") &&
                                                  Catch::Contains("[0, 3]"));
  CHECK_THROWS_WITH(amin(zeros({2, 0})), Catch::Contains("amin") && Catch::Contains("size 0"));
  CHECK_THROWS_WITH(amax(x, {2}), Catch::Contains("amax") && Catch::Contains("dim 2") &&
                                      Catch::Contains("[2, 3]"));
  CHECK_THROWS_WITH(amin(x, {0, -2}), Catch::Contains("amin") && Catch::Contains("twice"));
  CHECK_THROWS_WITH(amax(Tensor()), Catch::Contains("amax") && Catch::Contains("undefined"));
}
