// Reductions: sum, mean, sum_to (ops/reduction.cpp) and var, std, max/min, argmax/argmin,
// logsumexp, norm (ops/reduction_stats.cpp). PyTorch values and gradients on contiguous and
// non-contiguous layouts, gradchecks over several dim sets, the NaN / inf / empty cases PyTorch
// defines, the parallel paths of large inputs, and every error path.
#include <cmath>
#include <limits>

#include "tests/fixture.h"
#include "tests/test_util.h"

using namespace minidl;
using minidl::testing::allclose;
using minidl::testing::check_gradients;
using minidl::testing::Fixtures;
using minidl::testing::leaf;
using minidl::testing::strided_leaf;
using minidl::testing::transposed_leaf;

namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

// The upstream gradient the fixtures used: cos(0, 1, 2, ...) in `shape`.
Tensor cos_upstream(const Shape& shape) {
  return arange(static_cast<double>(shape_numel(shape)), kFloat64).cos().reshape(shape);
}

// The same values in three layouts: contiguous, stored with the dims reversed (a permuted
// view), and every other element of a wider tensor along the last dim.
std::vector<Tensor> layouts(const Tensor& t) {
  std::vector<int64_t> reversed;
  for (int64_t d = t.dim() - 1; d >= 0; --d) reversed.push_back(d);
  Tensor permuted = t.permute(reversed).contiguous().permute(reversed);
  Shape wide = t.shape();
  wide.back() *= 2;
  Tensor strided = zeros(wide, t.dtype());
  strided.slice(-1, 0, std::nullopt, 2).copy_(t);
  strided = strided.slice(-1, 0, std::nullopt, 2);
  CHECK_FALSE(permuted.is_contiguous());
  CHECK_FALSE(strided.is_contiguous());
  return {t.clone(), permuted, strided};
}

// Checks f(x) and d<r, f(x)>/dx against fixture `name` (_out, and _dx unless absent) for x in
// every layout.
void check_against_fixture(const Fixtures& fx, const std::string& name, const Tensor& x,
                           const std::function<Tensor(const Tensor&)>& f, bool with_grad = true) {
  INFO(name);
  for (const Tensor& stored : layouts(x)) {
    Tensor input = stored.detach().requires_grad_();
    Tensor out = f(input);
    CHECK(allclose(out, fx[name + "_out"], 1e-6, 1e-9));
    if (!with_grad) continue;
    out.backward(cos_upstream(out.shape()));
    CHECK(allclose(input.grad(), fx[name + "_dx"], 1e-6, 1e-9));
  }
}

// f over inputs (gradcheck in float64) for x contiguous, transposed and strided.
void check_gradients_all_layouts(const Shape& shape,
                                 const std::function<Tensor(const Tensor&)>& f) {
  for (const Tensor& x : {leaf(shape), transposed_leaf(shape), strided_leaf(shape)})
    check_gradients([&](const std::vector<Tensor>& in) { return f(in[0]); }, {x});
}

// The dim sets the gradchecks sweep for a 3-d input.
const std::vector<std::vector<int64_t>> kDimSets = {{}, {0}, {-1}, {1}, {0, 2}, {-1, -2}};

bool is_nan(const Tensor& t) {
  return std::isnan(t.item());
}

}  // namespace

// ---------------------------------------------------------------- sum, mean, sum_to

TEST_CASE("sum and mean over dims, negative dims and keepdim match PyTorch", "[reduction]") {
  Fixtures fx("reduction.txt");
  const Tensor& x = fx["x"];
  check_against_fixture(
      fx, "sum_d02", x,
      [](const Tensor& t) {
        return t.sum({0, 2});
      },
      false);
  check_against_fixture(
      fx, "sum_m1k", x, [](const Tensor& t) { return t.sum({-1}, true); }, false);
  check_against_fixture(
      fx, "mean_d1", x, [](const Tensor& t) { return t.mean({1}); }, false);
  check_against_fixture(
      fx, "mean_all", x, [](const Tensor& t) { return t.mean(); }, false);
  CHECK(x.sum({0, 2}, true).shape() == Shape{1, 3, 1});
  CHECK(x.sum({2, 0}).shape() == Shape{3});  // order does not matter
  CHECK(x.mean({-3, -1}).shape() == Shape{3});
}

TEST_CASE("sum and mean gradients pass gradcheck on non-contiguous inputs", "[reduction]") {
  manual_seed(1);
  for (const auto& dims : kDimSets) {
    INFO("dims " << shape_str(dims));
    for (bool keepdim : {false, true}) {
      check_gradients_all_layouts({3, 4, 5}, [&](const Tensor& x) { return x.sum(dims, keepdim); });
      check_gradients_all_layouts({3, 4, 5},
                                  [&](const Tensor& x) { return x.mean(dims, keepdim); });
    }
  }
  // A broadcast (stride-0) input inside the function.
  Tensor row = leaf({1, 5});
  check_gradients(
      [](const std::vector<Tensor>& in) {
        return in[0].expand({4, 5}).sum({0});
      },
      {row});
}

TEST_CASE("sum of int64 and bool tensors is int64; mean needs floating point", "[reduction]") {
  Fixtures fx("reduction.txt");
  const Tensor& xi = fx["xi"];
  for (const Tensor& t : layouts(xi)) {
    Tensor s = t.sum({1});
    CHECK(s.dtype() == kInt64);
    CHECK(s.to_vector<int64_t>() == fx["xi_sum_d1"].to_vector<int64_t>());
    CHECK(t.sum().item<int64_t>() == fx["xi_sum_all"].item<int64_t>());
  }
  Tensor mask = tensor({1.0, 0.0, 2.0, 0.0}).ne(zeros({4}));
  CHECK(mask.sum().dtype() == kInt64);
  CHECK(mask.sum().item<int64_t>() == 2);
  CHECK_THROWS_WITH(
      xi.mean(), Catch::Contains("mean") && Catch::Contains("int64") && Catch::Contains("[3, 4]"));
}

TEST_CASE("sums of empty tensors are 0 and means are NaN", "[reduction]") {
  Tensor e = zeros({0, 3}, kFloat64);
  CHECK(e.sum().item() == 0.0);
  CHECK(allclose(e.sum({0}), zeros({3}, kFloat64)));
  CHECK(e.sum({1}).shape() == Shape{0});
  CHECK(e.sum({1}, true).shape() == Shape{0, 1});
  CHECK(is_nan(e.mean()));
  Tensor m = e.mean({0});
  CHECK(m.shape() == Shape{3});
  for (double v : m.to_vector<double>()) CHECK(std::isnan(v));
  CHECK(zeros({0}, kInt64).sum().item<int64_t>() == 0);
  // The gradient of a sum over nothing is an empty tensor of the input's shape.
  Tensor el = zeros({0, 3}, kFloat64).requires_grad_();
  el.sum().backward();
  CHECK(el.grad().shape() == Shape{0, 3});
}

TEST_CASE("a 0-d tensor reduces over dim 0 / -1 to itself", "[reduction]") {
  Tensor s = scalar_tensor(2.5, kFloat64);
  CHECK(s.sum().item() == 2.5);
  CHECK(s.sum({0}).dim() == 0);
  CHECK(s.mean({-1}).item() == 2.5);
  CHECK(s.max(0).first.item() == 2.5);
  CHECK(s.max(0).second.item<int64_t>() == 0);
  CHECK(s.argmax().item<int64_t>() == 0);
  CHECK(s.norm().item() == 2.5);
  CHECK(s.logsumexp({0}).item() == Approx(2.5));
}

TEST_CASE("sum_to sums a broadcast gradient back to the input's shape", "[reduction]") {
  manual_seed(2);
  Tensor g = randn({2, 3, 4}, kFloat64);
  CHECK(allclose(sum_to(g, {3, 4}), g.sum({0})));
  CHECK(allclose(sum_to(g, {3, 1}), g.sum({0, 2}).reshape({3, 1})));
  CHECK(allclose(sum_to(g, {1, 1, 4}), g.sum({0, 1}, true)));
  CHECK(allclose(sum_to(g, {}), g.sum()));
  CHECK(sum_to(g, {2, 3, 4}).is_same(g));  // nothing to sum: the same tensor
  CHECK(allclose(sum_to(g.transpose(0, 2), {4, 1, 1}), g.sum({0, 1}).reshape({4, 1, 1})));
  CHECK_THROWS_WITH(sum_to(g, {5, 2, 3, 4}), Catch::Contains("sum_to") &&
                                                 Catch::Contains("[2, 3, 4]") &&
                                                 Catch::Contains("[5, 2, 3, 4]"));
  CHECK_THROWS_WITH(sum_to(g, {2, 4}), Catch::Contains("sum_to") && Catch::Contains("[2, 3, 4]") &&
                                           Catch::Contains("[2, 4]"));
  // Differentiable: the gradient of sum_to is the broadcast back.
  for (const Tensor& x : {leaf({2, 3}), transposed_leaf({2, 3})})
    check_gradients([](const std::vector<Tensor>& in) { return sum_to(in[0], {1, 3}); }, {x});
}

TEST_CASE("large sums take the parallel and vectorized paths and agree", "[reduction]") {
  manual_seed(3);
  Tensor x = randn({300, 257}, kFloat64);
  std::vector<double> v = x.to_vector<double>();
  double total = 0;
  std::vector<double> rows(300, 0.0), cols(257, 0.0);
  for (int64_t i = 0; i < 300; ++i)
    for (int64_t j = 0; j < 257; ++j) {
      total += v[i * 257 + j];
      rows[i] += v[i * 257 + j];
      cols[j] += v[i * 257 + j];
    }
  Tensor rows_t = from_vector(rows, {300}, kFloat64), cols_t = from_vector(cols, {257}, kFloat64);
  CHECK(x.sum().item() == Approx(total).epsilon(1e-12));
  CHECK(allclose(x.sum({1}), rows_t, 1e-12, 1e-12));  // trailing dims
  CHECK(allclose(x.sum({0}), cols_t, 1e-12, 1e-12));  // leading dims
  Tensor xt = x.t();                                  // the same sums through strides
  CHECK(allclose(xt.sum({0}), rows_t, 1e-12, 1e-12));
  CHECK(allclose(xt.sum({1}), cols_t, 1e-12, 1e-12));
  CHECK(xt.sum().item() == Approx(total).epsilon(1e-12));
  // float32 accumulates in double: a million ones sum exactly.
  CHECK(ones({1000, 1000}).sum().item() == 1e6);
  CHECK(ones({1000, 1000}).t().sum({0}).to_vector<float>() == std::vector<float>(1000, 1000.0f));
}

TEST_CASE("sums over middle dims ([outer, R, inner] rows) match loops", "[reduction]") {
  manual_seed(4);
  // x [A, B, C, D] reduced over the adjacent dims {first..last}, against plain loops.
  auto check = [](const Tensor& x, const Dims& dims) {
    const Shape& s = x.shape();
    const std::vector<double> v = x.to(kFloat64).to_vector<double>();
    int64_t outer = 1, r = 1, inner = 1;
    for (int64_t d = 0; d < 4; ++d)
      (d < dims.front() ? outer : d > dims.back() ? inner : r) *= s[d];
    std::vector<double> want(outer * inner, 0.0);
    for (int64_t o = 0; o < outer; ++o)
      for (int64_t k = 0; k < r; ++k)
        for (int64_t i = 0; i < inner; ++i) want[o * inner + i] += v[(o * r + k) * inner + i];
    Shape out_shape;
    for (int64_t d = 0; d < 4; ++d)
      if (d < dims.front() || d > dims.back()) out_shape.push_back(s[d]);
    const Tensor got = x.sum(dims).to(kFloat64);
    CHECK(got.shape() == out_shape);
    CHECK(allclose(got, from_vector(want, out_shape, kFloat64), 1e-6, 1e-6));
    const Tensor kept = x.is_floating_point() ? x.mean(dims, true) : Tensor();
    if (kept.defined()) {
      Shape keep_shape = s;
      for (int64_t d : dims) keep_shape[d] = 1;
      CHECK(kept.shape() == keep_shape);
      CHECK(allclose(kept.to(kFloat64).reshape(out_shape),
                     from_vector(want, out_shape, kFloat64) * (1.0 / static_cast<double>(r)), 1e-6,
                     1e-6));
    }
  };
  check(randn({3, 5, 7, 70}, kFloat64), {1});       // inner 490: vectorized rows
  check(randn({3, 5, 7, 70}, kFloat64), {1, 2});    // two adjacent reduced dims
  check(randn({4, 6, 1, 3}, kFloat64), {1, 2});     // short rows (inner 3)
  check(randn({1, 9, 33, 2}, kFloat64), {1});       // outer 1 (a leading reduction)
  check(randn({8, 8, 64, 64}), {1});                // float32, parallel, partial blocks
  check(randint(-50, 50, {2, 3, 4, 100}), {1, 2});  // int64 accumulates exactly
  check(randn({2, 4, 5, 6}, kFloat64).permute({0, 2, 1, 3}), {1});  // strided: the other path
}

// ---------------------------------------------------------------- var / std

TEST_CASE("var and std with correction and keepdim match PyTorch", "[reduction]") {
  Fixtures fx("reduction.txt");
  const Tensor& x = fx["x"];
  check_against_fixture(fx, "var_d1", x, [](const Tensor& t) { return t.var({1}); });
  check_against_fixture(fx, "var_d02_c0_k", x, [](const Tensor& t) {
    return var(t, {0, 2}, 0, true);
  });
  check_against_fixture(fx, "std_m1", x, [](const Tensor& t) { return t.std({-1}); });
  check_against_fixture(fx, "std_all", x, [](const Tensor& t) { return t.std(); });
  check_against_fixture(fx, "std_d01_c0", x, [](const Tensor& t) { return t.std({0, 1}, 0); });
}

TEST_CASE("var and std gradients pass gradcheck", "[reduction]") {
  manual_seed(4);
  for (const auto& dims : kDimSets) {
    INFO("dims " << shape_str(dims));
    for (int64_t correction : {0, 1}) {
      check_gradients_all_layouts(
          {3, 4, 5}, [&](const Tensor& x) { return x.var(dims, correction, correction == 0); });
      check_gradients_all_layouts({3, 4, 5},
                                  [&](const Tensor& x) { return x.std(dims, correction); });
    }
  }
}

TEST_CASE("var is computed stably in float32 with a large offset", "[reduction]") {
  Fixtures fx("reduction.txt");
  const Tensor& x32 = fx["x32"];  // 1e4 + randn: E[x^2] - E[x]^2 would lose every digit
  for (const Tensor& t : layouts(x32)) {
    CHECK(allclose(t.var({1}), fx["x32_var_d1"], 1e-5, 1e-6));
    CHECK(allclose(t.std(), fx["x32_std_all"], 1e-5, 1e-6));
  }
}

TEST_CASE("var and std edge cases: constant rows, one element, empty", "[reduction]") {
  // A constant row: std = 0, and its gradient is 0 there rather than NaN.
  Tensor x = tensor({{2.0, 2.0, 2.0}, {1.0, 2.0, 4.0}}, kFloat64).requires_grad_();
  Tensor s = x.std({1});
  CHECK(s.to_vector<double>()[0] == 0.0);
  s.sum().backward();
  std::vector<double> dx = x.grad().to_vector<double>();
  for (int i = 0; i < 3; ++i) CHECK(dx[i] == 0.0);
  for (int i = 3; i < 6; ++i) CHECK(std::isfinite(dx[i]));
  // One element: the unbiased divisor is 0 (NaN); correction 0 gives 0. A correction beyond
  // the count clamps the divisor to 0 (inf), as PyTorch.
  CHECK(is_nan(tensor({3.0}).var()));
  CHECK(tensor({3.0}).var({}, 0).item() == 0.0);
  CHECK(tensor({1.0, 2.0}).var({0}, 3).item() == kInf);
  // Empty: NaN.
  CHECK(is_nan(zeros({0}).var()));
  CHECK(zeros({0, 3}).std({0}).shape() == Shape{3});
  CHECK(std::isnan(zeros({0, 3}).std({0}).to_vector<float>()[1]));
}

// ---------------------------------------------------------------- max / min / argmax / argmin

TEST_CASE("max and min over everything and over a dim match PyTorch", "[reduction]") {
  Fixtures fx("reduction.txt");
  const Tensor& x = fx["x"];
  check_against_fixture(fx, "max_all", x, [](const Tensor& t) { return t.max(); });
  check_against_fixture(fx, "min_all", x, [](const Tensor& t) { return t.min(); });
  check_against_fixture(fx, "max_d1", x, [](const Tensor& t) { return t.max(1).first; });
  check_against_fixture(fx, "min_m1k", x, [](const Tensor& t) { return t.min(-1, true).first; });
  for (const Tensor& t : layouts(x)) {
    auto [values, indices] = t.max(1);
    CHECK(indices.dtype() == kInt64);
    CHECK(indices.to_vector<int64_t>() == fx["max_d1_idx"].to_vector<int64_t>());
    CHECK(values.shape() == Shape{2, 4});
    auto min_k = min(t, -1, true);
    CHECK(min_k.second.shape() == Shape{2, 3, 1});
    CHECK(min_k.second.to_vector<int64_t>() == fx["min_m1k_idx"].to_vector<int64_t>());
    CHECK_FALSE(min_k.second.requires_grad());
  }
}

TEST_CASE("max and min gradients pass gradcheck", "[reduction]") {
  manual_seed(5);
  check_gradients_all_layouts({3, 4, 5}, [](const Tensor& x) { return x.max(); });
  check_gradients_all_layouts({3, 4, 5}, [](const Tensor& x) { return x.min(); });
  for (int64_t dim : {0, 1, 2, -1}) {
    INFO("dim " << dim);
    for (bool keepdim : {false, true}) {
      check_gradients_all_layouts({3, 4, 5},
                                  [&](const Tensor& x) { return x.max(dim, keepdim).first; });
      check_gradients_all_layouts({3, 4, 5},
                                  [&](const Tensor& x) { return x.min(dim, keepdim).first; });
    }
  }
}

TEST_CASE("ties: first index wins, the full max splits its gradient evenly", "[reduction]") {
  Fixtures fx("reduction.txt");
  const Tensor& ties = fx["ties"];  // [[1, 3, 3], [2, -3, 0]]
  check_against_fixture(fx, "ties_max_all", ties, [](const Tensor& t) { return t.max(); });
  check_against_fixture(fx, "ties_min_all", ties, [](const Tensor& t) { return t.min(); });
  CHECK(ties.max(1).second.to_vector<int64_t>() == fx["ties_max_d1_idx"].to_vector<int64_t>());
  CHECK(ties.argmax().item<int64_t>() == fx["ties_argmax_all"].item<int64_t>());
  // max over a dim sends the whole gradient to the returned (first) index.
  Tensor x = ties.clone().requires_grad_();
  x.max(1).first.sum().backward();
  CHECK(allclose(x.grad(), tensor({{0.0, 1.0, 0.0}, {1.0, 0.0, 0.0}}, kFloat64)));
}

TEST_CASE("argmax and argmin match PyTorch, flattened or over a dim", "[reduction]") {
  Fixtures fx("reduction.txt");
  const Tensor& x = fx["x"];
  for (const Tensor& t : layouts(x)) {
    CHECK(t.argmax().dim() == 0);
    CHECK(t.argmax().item<int64_t>() == fx["argmax_all"].item<int64_t>());
    CHECK(t.argmax(2).to_vector<int64_t>() == fx["argmax_d2"].to_vector<int64_t>());
    Tensor a = argmin(t, 0, true);
    CHECK(a.shape() == Shape{1, 3, 4});
    CHECK(a.to_vector<int64_t>() == fx["argmin_d0k"].to_vector<int64_t>());
  }
  // keepdim without a dim keeps every dim as size 1 (as torch.argmax(x, keepdim=True)).
  CHECK(x.argmax(std::nullopt, true).shape() == Shape{1, 1, 1});
  CHECK_FALSE(x.clone().requires_grad_().argmax().requires_grad());
}

TEST_CASE("max, min and argmax work on int64 tensors", "[reduction]") {
  Fixtures fx("reduction.txt");
  const Tensor& xi = fx["xi"];
  for (const Tensor& t : layouts(xi)) {
    auto [values, indices] = t.max(0);
    CHECK(values.dtype() == kInt64);
    CHECK(values.to_vector<int64_t>() == fx["xi_max_d0"].to_vector<int64_t>());
    CHECK(indices.to_vector<int64_t>() == fx["xi_max_d0_idx"].to_vector<int64_t>());
    CHECK(t.min().item<int64_t>() == fx["xi_min_all"].item<int64_t>());
    CHECK(t.argmin().item<int64_t>() == fx["xi_argmin_all"].item<int64_t>());
    CHECK(t.argmax(1).to_vector<int64_t>() == fx["xi_argmax_d1"].to_vector<int64_t>());
  }
  Tensor mask = tensor({0.0, 1.0, 1.0}).gt(zeros({3}));
  CHECK(mask.max().item<bool>());
  CHECK(mask.argmax().item<int64_t>() == 1);
}

TEST_CASE("NaN is the max and the min, at its first position", "[reduction]") {
  Tensor x = tensor({1.0, kNaN, 3.0, kNaN}, kFloat64);
  CHECK(is_nan(x.max()));
  CHECK(is_nan(x.min()));
  CHECK(x.max(0).second.item<int64_t>() == 1);
  CHECK(x.min(0).second.item<int64_t>() == 1);
  CHECK(is_nan(x.max(0).first));
  CHECK(x.argmax().item<int64_t>() == 1);
  CHECK(x.argmin().item<int64_t>() == 1);
  // Rows without NaN are unaffected.
  Tensor m = tensor({{1.0, kNaN}, {4.0, 2.0}}, kFloat64);
  CHECK(m.argmax(1).to_vector<int64_t>() == std::vector<int64_t>{1, 0});
  // The full max's gradient goes to the NaNs (they all "equal" the NaN result), as PyTorch.
  Tensor xg = x.clone().requires_grad_();
  xg.max().backward();
  std::vector<double> dx = xg.grad().to_vector<double>();
  CHECK(dx == std::vector<double>{0.0, 0.5, 0.0, 0.5});
}

TEST_CASE("max over a large tensor splits the scan and keeps the first occurrence", "[reduction]") {
  const int64_t n = 200003;
  Tensor x = zeros({n}, kFloat64);
  std::vector<double> v(n, 0.0);
  v[150001] = 5.0;
  v[190000] = 5.0;
  v[7] = -2.0;
  v[100000] = -2.0;
  x = from_vector(v, {n}, kFloat64);
  CHECK(x.max().item() == 5.0);
  CHECK(x.argmax().item<int64_t>() == 150001);
  CHECK(x.argmin().item<int64_t>() == 7);
  CHECK(x.max(0).second.item<int64_t>() == 150001);
  v[180000] = kNaN;
  Tensor with_nan = from_vector(v, {n}, kFloat64);
  CHECK(with_nan.argmax().item<int64_t>() == 180000);
  CHECK(is_nan(with_nan.max()));
  // Many rows: parallel over outputs, through strides.
  manual_seed(6);
  Tensor big = randn({400, 300}, kFloat64);
  Tensor by_rows = big.t().contiguous().t();  // the same values, column-major
  CHECK(big.argmax(1).to_vector<int64_t>() == by_rows.argmax(1).to_vector<int64_t>());
  CHECK(allclose(big.max(0).first, by_rows.max(0).first, 0, 0));
  CHECK(allclose(big.var({0}), by_rows.var({0}), 1e-12, 1e-12));
  CHECK(allclose(big.logsumexp({1}), by_rows.logsumexp({1}), 1e-12, 1e-12));
  CHECK(allclose(big.norm(2.0, {1}), by_rows.norm(2.0, {1}), 1e-12, 1e-12));
  CHECK(big.var().item() == Approx(by_rows.var().item()).epsilon(1e-12));
}

// ---------------------------------------------------------------- logsumexp

TEST_CASE("logsumexp matches PyTorch", "[reduction]") {
  Fixtures fx("reduction.txt");
  const Tensor& x = fx["x"];
  check_against_fixture(fx, "logsumexp_d12", x, [](const Tensor& t) {
    return t.logsumexp({1, 2});
  });
  check_against_fixture(fx, "logsumexp_m1k", x,
                        [](const Tensor& t) { return logsumexp(t, {-1}, true); });
}

TEST_CASE("logsumexp gradients pass gradcheck", "[reduction]") {
  manual_seed(7);
  for (const auto& dims : kDimSets) {
    INFO("dims " << shape_str(dims));
    check_gradients_all_layouts({3, 4, 5}, [&](const Tensor& x) { return x.logsumexp(dims); });
    check_gradients_all_layouts({3, 4, 5},
                                [&](const Tensor& x) { return x.logsumexp(dims, true); });
  }
}

TEST_CASE("logsumexp is stable: large values, -inf rows, +inf", "[reduction]") {
  Tensor x = tensor({{1000.0, 1000.0, -5.0}, {-kInf, -kInf, -kInf}, {-kInf, 0.0, 0.0}}, kFloat64)
                 .requires_grad_();
  Tensor out = x.logsumexp({1});
  std::vector<double> o = out.to_vector<double>();
  CHECK(o[0] == Approx(1000.0 + std::log(2.0)));
  CHECK(o[1] == -kInf);
  CHECK(o[2] == Approx(std::log(2.0)));
  out.sum().backward();
  std::vector<double> dx = x.grad().to_vector<double>();
  CHECK(dx[0] == Approx(0.5));
  CHECK(dx[2] == Approx(0.0).margin(1e-200));
  for (int i = 3; i < 6; ++i) CHECK(dx[i] == 0.0);  // a row of -inf: zero gradient, no NaN
  CHECK(dx[6] == 0.0);
  CHECK(dx[7] == Approx(0.5));
  CHECK(tensor({kInf, 1.0}).logsumexp({0}).item() == kInf);
  CHECK(is_nan(tensor({kNaN, 1.0}).logsumexp({0})));
  // Empty: log(0) = -inf, as PyTorch.
  Tensor e = zeros({0, 2}).logsumexp({0});
  CHECK(e.to_vector<float>() == std::vector<float>(2, -std::numeric_limits<float>::infinity()));
  // float32 of large values does not overflow.
  CHECK(tensor({100.0, 100.0}).logsumexp({0}).item<float>() == Approx(100.0 + std::log(2.0)));
}

// ---------------------------------------------------------------- norm

TEST_CASE("norm for p = 2, 1, inf, -inf, 3, 0.5 and 0 matches PyTorch", "[reduction]") {
  Fixtures fx("reduction.txt");
  const Tensor& x = fx["x"];  // has zeros, where the p < 1 and sign gradients are 0
  struct Case {
    double p;
    const char* tag;
  };
  for (Case c : {Case{2, "2"}, Case{1, "1"}, Case{kInf, "inf"}, Case{-kInf, "ninf"}, Case{3, "3"},
                 Case{0.5, "0p5"}}) {
    check_against_fixture(fx, std::string("norm_p") + c.tag + "_d1", x,
                          [&](const Tensor& t) { return t.norm(c.p, {1}); });
  }
  check_against_fixture(
      fx, "norm_p0_d1", x, [](const Tensor& t) { return t.norm(0, {1}); }, false);
  check_against_fixture(fx, "norm_p2_all", x, [](const Tensor& t) { return t.norm(); });
  check_against_fixture(fx, "norm_pinf_d02_k", x, [](const Tensor& t) {
    return norm(t, kInf, {0, 2}, true);
  });
  const Tensor& ties = fx["ties"];  // |x| = 3 three times: the inf-norm gradient is split
  check_against_fixture(fx, "ties_norm_pinf", ties, [](const Tensor& t) { return t.norm(kInf); });
  check_against_fixture(fx, "ties_norm_pinf_d1", ties,
                        [](const Tensor& t) { return t.norm(kInf, {1}); });
}

TEST_CASE("norm gradients pass gradcheck for every differentiable p", "[reduction]") {
  manual_seed(8);
  for (double p : {2.0, 1.0, 3.0, 1.5, 0.5, kInf, -kInf}) {
    for (const auto& dims : std::vector<std::vector<int64_t>>{{}, {1}, {0, -1}}) {
      INFO("p " << p << " dims " << shape_str(dims));
      check_gradients_all_layouts({3, 4, 5},
                                  [&](const Tensor& x) { return x.norm(p, dims, !dims.empty()); });
    }
  }
}

TEST_CASE("norm edge cases: zero rows, p = 0, empty", "[reduction]") {
  // A zero row: norm 0 and gradient 0 (not NaN) for p = 2 and p = 3.
  for (double p : {2.0, 3.0}) {
    Tensor x = tensor({{0.0, 0.0}, {3.0, -4.0}}, kFloat64).requires_grad_();
    Tensor n = x.norm(p, {1});
    CHECK(n.to_vector<double>()[0] == 0.0);
    n.sum().backward();
    std::vector<double> dx = x.grad().to_vector<double>();
    CHECK(dx[0] == 0.0);
    CHECK(dx[1] == 0.0);
    if (p == 2.0) CHECK(allclose(x.grad(), tensor({{0.0, 0.0}, {0.6, -0.8}}, kFloat64)));
  }
  // p = 0 counts nonzeros and sends no gradient.
  Tensor x = tensor({1.0, 0.0, -2.0}, kFloat64).requires_grad_();
  Tensor count = x.norm(0);
  CHECK(count.item() == 2.0);
  count.backward();
  CHECK_FALSE(x.grad().defined());
  // Empty tensors: 0 for every p, as torch.norm.
  for (double p : {2.0, 1.0, kInf, -kInf, 0.0, 3.0}) CHECK(zeros({0}).norm(p).item() == 0.0);
  // Negative p: (sum |x|^p)^(1/p), 0 when some |x| is 0 (as PyTorch).
  CHECK(tensor({1.0, -2.0, 0.0}).norm(-1).item() == 0.0);
  CHECK(tensor({1.0, -2.0}).norm(-1).item<float>() == Approx(2.0 / 3.0));
  // float32 of large values accumulates in double.
  CHECK(tensor({3e20, 4e20}).norm().item<float>() == Approx(5e20));
}

// ---------------------------------------------------------------- other shapes

TEST_CASE("every reduction passes gradcheck on 1-d, 4-d and size-1-dim shapes", "[reduction]") {
  manual_seed(9);
  struct Case {
    Shape shape;
    std::vector<int64_t> dims;
  };
  // {1, 3} of a 4-d tensor are not adjacent: rows are walked by StridedIter.
  for (const Case& c : {Case{{7}, {0}}, Case{{2, 3, 4, 3}, {1, 3}}, Case{{2, 3, 4, 3}, {0, -1, 2}},
                        Case{{5, 1, 3}, {1}}, Case{{5, 1, 3}, {0, 1}}}) {
    INFO("shape " << shape_str(c.shape) << " dims " << shape_str(c.dims));
    const auto& dims = c.dims;
    std::vector<std::function<Tensor(const Tensor&)>> fns = {
        [&](const Tensor& x) { return x.sum(dims); },
        [&](const Tensor& x) { return x.mean(dims, true); },
        [&](const Tensor& x) { return x.var(dims, 0); },  // (unbiased: NaN over a size-1 dim)
        [&](const Tensor& x) { return x.std(dims, 0, true); },
        [&](const Tensor& x) { return x.logsumexp(dims); },
        [&](const Tensor& x) { return x.norm(2.0, dims); },
        [&](const Tensor& x) { return x.norm(3.0, dims, true); },
        [&](const Tensor& x) { return x.norm(kInf, dims); },
        [&](const Tensor& x) { return x.max(); },
        [&](const Tensor& x) { return x.min(dims.back()).first; },
    };
    for (const auto& f : fns) {
      std::vector<Tensor> inputs = {leaf(c.shape)};
      if (c.shape.size() >= 2) {
        inputs.push_back(transposed_leaf(c.shape));
        inputs.push_back(strided_leaf(c.shape));
      }
      for (const Tensor& x : inputs)
        check_gradients([&](const std::vector<Tensor>& in) { return f(in[0]); }, {x});
    }
  }
}

// ---------------------------------------------------------------- errors

TEST_CASE("reductions name the op and the shape on bad dims", "[reduction]") {
  Tensor x = zeros({2, 3});
  using Fn = std::function<void()>;
  const std::vector<std::pair<std::string, Fn>> out_of_range = {
      {"sum", [&] { x.sum({2}); }},
      {"mean", [&] { x.mean({-3}); }},
      {"var", [&] { x.var({5}); }},
      {"std", [&] { x.std({2}); }},
      {"max", [&] { x.max(2); }},
      {"min", [&] { x.min(-3); }},
      {"argmax", [&] { x.argmax(2); }},
      {"argmin", [&] { x.argmin(7); }},
      {"logsumexp", [&] { x.logsumexp({2}); }},
      {"norm", [&] { x.norm(2, {3}); }},
  };
  for (const auto& [op, fn] : out_of_range) {
    INFO(op);
    CHECK_THROWS_WITH(fn(), Catch::StartsWith(op + ":") && Catch::Contains("out of range") &&
                                Catch::Contains("[2, 3]"));
  }
  const std::vector<std::pair<std::string, Fn>> repeated = {
      {"sum", [&] { x.sum({0, 0}); }},       {"mean", [&] { x.mean({1, -1}); }},
      {"var", [&] { x.var({0, -2}); }},      {"logsumexp", [&] { x.logsumexp({1, 1}); }},
      {"norm", [&] { x.norm(1, {-1, 1}); }},
  };
  for (const auto& [op, fn] : repeated) {
    INFO(op);
    CHECK_THROWS_WITH(
        fn(), Catch::StartsWith(op + ":") && Catch::Contains("twice") && Catch::Contains("[2, 3]"));
  }
}

TEST_CASE("floating-only reductions reject integer tensors", "[reduction]") {
  Tensor xi = zeros({2, 3}, kInt64);
  using Fn = std::function<void()>;
  const std::vector<std::pair<std::string, Fn>> cases = {
      {"mean", [&] { xi.mean(); }},  {"var", [&] { xi.var(); }},
      {"std", [&] { xi.std({0}); }}, {"logsumexp", [&] { xi.logsumexp({1}); }},
      {"norm", [&] { xi.norm(); }},
  };
  for (const auto& [op, fn] : cases) {
    INFO(op);
    CHECK_THROWS_WITH(fn(), Catch::StartsWith(op + ":") && Catch::Contains("floating") &&
                                Catch::Contains("int64") && Catch::Contains("[2, 3]"));
  }
  CHECK_THROWS_WITH(zeros({2}).norm(kNaN, {}),
                    Catch::StartsWith("norm:") && Catch::Contains("NaN"));
}

TEST_CASE("max, min, argmax and argmin of nothing are errors", "[reduction]") {
  Tensor e = zeros({0, 3});
  CHECK_THROWS_WITH(
      e.max(), Catch::StartsWith("max:") && Catch::Contains("empty") && Catch::Contains("[0, 3]"));
  CHECK_THROWS_WITH(e.min(), Catch::StartsWith("min:") && Catch::Contains("[0, 3]"));
  CHECK_THROWS_WITH(e.argmax(), Catch::StartsWith("argmax:") && Catch::Contains("[0, 3]"));
  CHECK_THROWS_WITH(e.argmin(), Catch::StartsWith("argmin:") && Catch::Contains("[0, 3]"));
  CHECK_THROWS_WITH(e.max(0), Catch::StartsWith("max:") && Catch::Contains("size 0") &&
                                  Catch::Contains("[0, 3]"));
  CHECK_THROWS_WITH(e.argmin(-2), Catch::StartsWith("argmin:") && Catch::Contains("size 0") &&
                                      Catch::Contains("[0, 3]"));
  // Reducing a nonempty dim of an empty tensor is fine: an empty result.
  auto [values, indices] = e.max(1);
  CHECK(values.shape() == Shape{0});
  CHECK(indices.shape() == Shape{0});
  CHECK(e.argmax(1, true).shape() == Shape{0, 1});
}

TEST_CASE("an in-place change of a saved input is caught at backward", "[reduction]") {
  Tensor x = tensor({1.0, 2.0, 4.0}, kFloat64).requires_grad_();
  Tensor h = x * 1.0;
  Tensor v = h.var();
  h.mul_(2.0);
  CHECK_THROWS_WITH(v.backward(), Catch::Contains("modified") || Catch::Contains("version"));
}
