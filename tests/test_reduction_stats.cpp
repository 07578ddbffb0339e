// Reductions of ops/reduction_stats.cpp: var, std, max/min, argmax/argmin, logsumexp, norm --
// PyTorch values and gradients on contiguous and non-contiguous layouts, gradchecks, and the
// NaN / inf / tie / empty cases PyTorch defines.
#include "tests/reduction_test_util.h"

using namespace minidl;
using namespace minidl::reduction_testing;

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
