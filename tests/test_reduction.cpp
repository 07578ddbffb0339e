// Reductions of ops/reduction.cpp: sum, mean, sum_to -- PyTorch values and gradients on
// contiguous and non-contiguous layouts, the parallel and [outer, R, inner] paths, empty and 0-d
// inputs -- and the checks every reduction shares: gradchecks over several shapes, error paths.
// var, std, max/min, argmax/argmin, logsumexp and norm are in tests/test_reduction_stats.cpp.
#include "tests/reduction_test_util.h"

using namespace minidl;
using namespace minidl::reduction_testing;

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
  // Empty, with a reduced dim near 2^62: nothing is read, so its strides times sizes (which
  // overflow) must not be computed either (found by fuzz_shapes).
  Tensor wide = zeros({1, 0, 8}).expand({int64_t(5) << 60, 0, 8});
  CHECK(wide.sum({0}).shape() == Shape{0, 8});
  CHECK(wide.mean({0, 2}).shape() == Shape{0});
  Tensor wider = zeros({0, 1, 1}).expand({0, int64_t(1) << 40, int64_t(1) << 40});  // 2^80
  CHECK(wider.sum({1, 2}).shape() == Shape{0});
  CHECK(zeros({int64_t(1) << 40, int64_t(1) << 40, 0}).sum({0, 1}).shape() == Shape{0});
  // (Summing the other way round is legitimate: 2^40 zeros, which no memory holds.)
  CHECK_THROWS_WITH(zeros({int64_t(1) << 40, int64_t(1) << 40, 0}).sum({0, 2}),
                    Catch::Contains("cannot allocate"));
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

TEST_CASE("all / any: bool results over everything or one dim, no gradient", "[reduction]") {
  Tensor x = tensor({{1.0, 0.0, 2.0}, {3.0, 4.0, 5.0}}).requires_grad_();
  CHECK_FALSE(x.all().item<bool>());
  CHECK(x.any().item<bool>());
  CHECK(x.all().dtype() == kBool);
  CHECK_FALSE(x.all().requires_grad());
  CHECK(x.all(1).to_vector<bool>() == std::vector<bool>{false, true});
  CHECK(x.all(0, /*keepdim=*/true).shape() == Shape{1, 3});
  CHECK(x.all(0).to_vector<bool>() == std::vector<bool>{true, false, true});
  CHECK(zeros({2, 2}).any(0).to_vector<bool>() == std::vector<bool>{false, false});
  CHECK(tensor({true, true}).all().item<bool>());
  CHECK(tensor<int64_t>({0, 0, 7}).any().item<bool>());
  CHECK(zeros({0}).all().item<bool>());  // vacuous truth, as PyTorch
  CHECK_FALSE(zeros({0}).any().item<bool>());
  CHECK(x.norm(2, 1).shape() == Shape{2});  // an integer dim
  CHECK_THROWS_WITH(x.all(2), Catch::Contains("2"));
}

TEST_CASE("compound assignment: x += y is add_, through views too", "[reduction]") {
  Tensor w = zeros({2, 2});
  w[0][1] += 3.0;
  w[1] -= ones({2});
  w *= 2.0;
  w /= tensor({1.0, 2.0});
  CHECK(w.to_vector<float>() == std::vector<float>{0.0f, 3.0f, -2.0f, -1.0f});
  Tensor leaf = ones({2}).requires_grad_();
  Tensor y = leaf * 1.0;
  y += leaf;  // differentiable, as add_
  y.sum().backward();
  CHECK(leaf.grad().to_vector<float>() == std::vector<float>{2.0f, 2.0f});
}
