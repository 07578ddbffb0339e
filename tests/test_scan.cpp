// cumsum and cumprod (ops/scan.h): PyTorch values and gradients along every dim (cumprod with one
// zero, two zeros in a row and separated zeros in a line), gradchecks on contiguous, transposed,
// sliced and expanded inputs, integer and bool dtypes, 0-d and empty tensors, the parallel path
// against a single thread, and the error paths.
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

// The same values as a non-contiguous leaf: stored with dims 0 and 1 swapped.
Tensor transposed_copy(const Tensor& t) {
  return t.transpose(0, 1).contiguous().detach().transpose(0, 1).requires_grad_();
}

// A float64 leaf whose lines along the last dim hold zeros: row 0 one zero, row 1 two in a row,
// row 2 zeros first and last; row 3 (if any) none.
Tensor leaf_with_zeros(const Shape& shape) {
  Tensor t = randn(shape, kFloat64);
  NoGradGuard no_grad;
  const int64_t last = shape.back() - 1;
  t.select(0, 0).select(-1, 2).fill_(0.0);
  t.select(0, 1).select(-1, 1).fill_(0.0);
  t.select(0, 1).select(-1, 2).fill_(0.0);
  t.select(0, 2).select(-1, 0).fill_(0.0);
  t.select(0, 2).select(-1, last).fill_(0.0);
  return t.requires_grad_();
}

}  // namespace

TEST_CASE("cumsum matches PyTorch along every dim, negative dims included", "[scan]") {
  Fixtures fx("scan.txt");
  for (int64_t dim : {0, 1, 2, -1, -3}) {
    Tensor x = dim == 1 ? transposed_copy(fx["x"]) : fixture_leaf(fx, "x");
    check_against_same_dtype(fx, "cumsum_d" + std::to_string(dim), cumsum(x, dim), {{"x", x}});
  }
  Tensor x32 = fx["x"].to(kFloat32).requires_grad_();
  check_against_same_dtype(fx, "cumsum32_d1", x32.cumsum(1), {{"x", x32}}, 1e-6);
}

TEST_CASE("cumprod matches PyTorch where lines hold one zero, zeros in a row, or none", "[scan]") {
  Fixtures fx("scan.txt");
  for (int64_t dim : {1, 0, -1}) {
    Tensor z = dim == 0 ? transposed_copy(fx["z"]) : fixture_leaf(fx, "z");
    check_against_same_dtype(fx, "cumprod_d" + std::to_string(dim), cumprod(z, dim), {{"x", z}});
  }
  Tensor z3 = fixture_leaf(fx, "z3");
  check_against_same_dtype(fx, "cumprod3_d1", cumprod(z3, 1), {{"x", z3}});
  Tensor z32 = fx["z"].to(kFloat32).requires_grad_();
  check_against_same_dtype(fx, "cumprod32_d1", z32.cumprod(1), {{"x", z32}}, 1e-6);
}

TEST_CASE("cumsum and cumprod gradients on contiguous and non-contiguous inputs", "[scan]") {
  manual_seed(13);
  // Expanded: a [4] row repeated over 3 rows (the gradient sums over the repeats).
  Tensor row = leaf({4});
  std::vector<std::pair<std::string, Tensor>> inputs = {
      {"contiguous", leaf({3, 4, 5})},
      {"transposed", transposed_leaf({3, 5, 4})},
      {"sliced", strided_leaf({3, 4, 5})},
      {"0-d", leaf({})},
  };
  for (const auto& [name, x] : inputs) {
    for (int64_t dim : {0, -1, 1}) {
      if (x.dim() == 0 && dim == 1) continue;
      INFO(name << " dim " << dim);
      check_gradients([dim = dim](const std::vector<Tensor>& v) { return cumsum(v[0], dim); }, {x});
      check_gradients([dim = dim](const std::vector<Tensor>& v) { return cumprod(v[0], dim); },
                      {x});
    }
  }
  INFO("expanded");
  for (int64_t dim : {0, 1}) {
    check_gradients(
        [dim](const std::vector<Tensor>& v) {
          return cumsum(v[0].expand({3, 4}), dim);
        },
        {row});
    check_gradients(
        [dim](const std::vector<Tensor>& v) {
          return cumprod(v[0].expand({3, 4}), dim);
        },
        {row});
  }
}

TEST_CASE("cumprod's gradient is exact at zeros (no division by x)", "[scan]") {
  manual_seed(14);
  Tensor z = leaf_with_zeros({4, 6});
  check_gradients([](const std::vector<Tensor>& v) { return cumprod(v[0], -1); }, {z});
  check_gradients([](const std::vector<Tensor>& v) { return cumprod(v[0].t(), 0); }, {z});
  // The single-zero line by hand: x = (2, 0, 3), y = (2, 0, 0), dy = 1:
  // dx_0 = 1 + x_1 + x_1 x_2 = 1, dx_1 = x_0 + x_0 x_2 = 8, dx_2 = x_0 x_1 = 0.
  Tensor x = tensor<double>({2.0, 0.0, 3.0}, kFloat64).requires_grad_();
  cumprod(x, 0).sum().backward();
  CHECK(x.grad().to_vector<double>() == std::vector<double>{1.0, 8.0, 0.0});
  // Two zeros in a row: x = (2, 0, 0, 5): dx_1 = x_0 = 2, everything else 0 but dx_0 = 1.
  Tensor x2 = tensor<double>({2.0, 0.0, 0.0, 5.0}, kFloat64).requires_grad_();
  cumprod(x2, 0).sum().backward();
  CHECK(x2.grad().to_vector<double>() == std::vector<double>{1.0, 2.0, 0.0, 0.0});
}

TEST_CASE("cumsum's gradient is a reversed cumsum of the upstream gradient", "[scan]") {
  Tensor x = tensor<double>({1.0, 2.0, 3.0, 4.0}, kFloat64).requires_grad_();
  Tensor up = tensor<double>({1.0, 10.0, 100.0, 1000.0}, kFloat64);
  cumsum(x, 0).backward(up);
  CHECK(x.grad().to_vector<double>() == std::vector<double>{1111.0, 1110.0, 1100.0, 1000.0});
  // along dim 0 of a [2, 2]: each column on its own
  Tensor m = tensor<double>({{1.0, 2.0}, {3.0, 4.0}}, kFloat64).requires_grad_();
  cumsum(m, 0).backward(tensor<double>({{1.0, 2.0}, {10.0, 20.0}}, kFloat64));
  CHECK(m.grad().to_vector<double>() == std::vector<double>{11.0, 22.0, 10.0, 20.0});
}

TEST_CASE("cumsum and cumprod on int64, bool, 0-d and empty tensors", "[scan]") {
  Tensor i = tensor<int64_t>({{1, 2, 3}, {4, 5, 6}});
  Tensor si = cumsum(i, 1);
  CHECK(si.dtype() == kInt64);
  CHECK(si.to_vector<int64_t>() == std::vector<int64_t>{1, 3, 6, 4, 9, 15});
  CHECK(cumprod(i, 0).to_vector<int64_t>() == std::vector<int64_t>{1, 2, 3, 4, 10, 18});
  // bool counts as int64, as in PyTorch
  Tensor b = tensor<bool>({true, false, true, true});
  CHECK(cumsum(b, 0).dtype() == kInt64);
  CHECK(cumsum(b, 0).to_vector<int64_t>() == std::vector<int64_t>{1, 1, 2, 3});
  CHECK(cumprod(b, 0).to_vector<int64_t>() == std::vector<int64_t>{1, 0, 0, 0});
  // a 0-d tensor takes dim 0 or -1 and comes back unchanged
  Tensor s = scalar_tensor(2.5, kFloat64);
  CHECK(cumsum(s, 0).dim() == 0);
  CHECK(cumprod(s, -1).item<double>() == 2.5);
  // empty: along the empty dim, and along a full dim of an empty tensor
  CHECK(cumsum(zeros({0, 3}), 0).shape() == Shape{0, 3});
  CHECK(cumprod(zeros({2, 0}), 0).shape() == Shape{2, 0});
  // float32 stays float32
  CHECK(cumsum(ones({3}), 0).dtype() == kFloat32);
  CHECK(cumsum(ones({3}), 0).to_vector<float>() == std::vector<float>{1, 2, 3});
}

TEST_CASE("cumsum and cumprod run their lines in parallel with the serial result", "[scan]") {
  manual_seed(15);
  // Long lines with inner stride 3, many short lines, and many lines of a wide inner block.
  const std::vector<std::pair<Shape, int64_t>> cases = {
      {{4, 4000, 3}, 1}, {{6000, 20}, 1}, {{50, 300}, 0}};
  for (const auto& [shape, dim] : cases) {
    INFO(shape_str(shape) << " dim " << dim);
    Tensor x = (rand(shape, kFloat64) * 0.2 + 0.9).requires_grad_();
    Tensor up = randn(shape, kFloat64);
    Tensor s = cumsum(x, dim), p = cumprod(x, dim);
    (s * up).sum().backward();
    Tensor ds = x.grad().clone();
    x.zero_grad();
    (p * up).sum().backward();
    Tensor dp = x.grad().clone();
    x.zero_grad();
    const int threads = get_num_threads();
    set_num_threads(1);
    Tensor s1 = cumsum(x, dim), p1 = cumprod(x, dim);
    (s1 * up).sum().backward();
    Tensor ds1 = x.grad().clone();
    x.zero_grad();
    (p1 * up).sum().backward();
    Tensor dp1 = x.grad().clone();
    set_num_threads(threads);
    CHECK(s.to_vector<double>() == s1.to_vector<double>());
    CHECK(p.to_vector<double>() == p1.to_vector<double>());
    CHECK(ds.to_vector<double>() == ds1.to_vector<double>());
    CHECK(dp.to_vector<double>() == dp1.to_vector<double>());
    // and the last element of every line is the line's sum
    CHECK(allclose(s.narrow(dim, shape[dim] - 1, 1).squeeze(dim), x.sum({dim}), 1e-10, 1e-10));
  }
}

TEST_CASE("cumsum and cumprod errors name the op, the dim and the shape", "[scan]") {
  Tensor x = zeros({2, 3});
  CHECK_THROWS_WITH(cumsum(x, 2), Catch::Contains("cumsum") && Catch::Contains("dim 2") &&
                                      Catch::Contains("[2, 3]"));
  CHECK_THROWS_WITH(cumprod(x, -3), Catch::Contains("cumprod") && Catch::Contains("dim -3") &&
                                        Catch::Contains("[2, 3]"));
  CHECK_THROWS_WITH(cumsum(scalar_tensor(1.0), 1), Catch::Contains("cumsum"));
  CHECK_THROWS_WITH(cumprod(Tensor(), 0),
                    Catch::Contains("cumprod") && Catch::Contains("undefined"));
}
