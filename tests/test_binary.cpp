// Binary arithmetic: add/sub (alpha), mul, div, pow, maximum, minimum, the scalar forms and the
// C++ operators -- gradients (float64 gradcheck over broadcasting and non-contiguous inputs),
// values and result dtypes against PyTorch, and errors.
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

const Fixtures& fx() {
  static const Fixtures fixtures("elementwise.txt");
  return fixtures;
}

// Rewrites a leaf's values in place (keeping its layout) so that |x| >= 0.5: for divisors and
// bases of pow, away from the poles.
Tensor away_from_zero(Tensor x) {
  NoGradGuard guard;
  x.copy_(where(x >= 0.0, x.abs() + 0.5, -(x.abs() + 0.5)));
  return x;
}
Tensor positive(Tensor x) {
  NoGradGuard guard;
  x.copy_(x.abs() + 0.5);
  return x;
}

using Fn = std::function<Tensor(const std::vector<Tensor>&)>;

// Every tensor-tensor op, each with a flag: does it need a positive first / nonzero second input.
struct BinaryCase {
  const char* name;
  Fn fn;
  bool positive_a;
  bool nonzero_b;
};

std::vector<BinaryCase> binary_cases() {
  return {
      {"add", [](const std::vector<Tensor>& v) { return add(v[0], v[1]); }, false, false},
      {"add alpha", [](const std::vector<Tensor>& v) { return add(v[0], v[1], 2.5); }, false,
       false},
      {"sub", [](const std::vector<Tensor>& v) { return sub(v[0], v[1]); }, false, false},
      {"sub alpha", [](const std::vector<Tensor>& v) { return sub(v[0], v[1], -0.75); }, false,
       false},
      {"mul", [](const std::vector<Tensor>& v) { return mul(v[0], v[1]); }, false, false},
      {"div", [](const std::vector<Tensor>& v) { return div(v[0], v[1]); }, false, true},
      {"pow", [](const std::vector<Tensor>& v) { return pow(v[0], v[1]); }, true, false},
      {"maximum", [](const std::vector<Tensor>& v) { return maximum(v[0], v[1]); }, false, false},
      {"minimum", [](const std::vector<Tensor>& v) { return minimum(v[0], v[1]); }, false, false},
      {"operator+", [](const std::vector<Tensor>& v) { return v[0] + v[1]; }, false, false},
      {"operator-", [](const std::vector<Tensor>& v) { return v[0] - v[1]; }, false, false},
      {"operator*", [](const std::vector<Tensor>& v) { return v[0] * v[1]; }, false, false},
      {"operator/", [](const std::vector<Tensor>& v) { return v[0] / v[1]; }, false, true},
      {"method sub", [](const std::vector<Tensor>& v) { return v[0].sub(v[1], 2.0); }, false,
       false},
      {"method pow", [](const std::vector<Tensor>& v) { return v[0].pow(v[1]); }, true, false},
  };
}

void check_binary_gradients(const Tensor& a_in, const Tensor& b_in) {
  for (const BinaryCase& c : binary_cases()) {
    INFO(c.name << " on " << shape_str(a_in.shape()) << " x " << shape_str(b_in.shape()));
    Tensor a = c.positive_a ? positive(a_in) : a_in;
    Tensor b = c.nonzero_b ? away_from_zero(b_in) : b_in;
    check_gradients(c.fn, {a, b});
    // Each argument on its own (the other a constant) takes the one-sided branches.
    check_gradients(c.fn, {a, b.detach()});
    check_gradients(c.fn, {a.detach(), b});
  }
}

}  // namespace

TEST_CASE("binary ops: gradients over broadcasting shapes", "[elementwise]") {
  manual_seed(1);
  SECTION("[3, 1] x [1, 4]") {
    check_binary_gradients(leaf({3, 1}), leaf({1, 4}));
  }
  SECTION("[2, 3, 4] x [4]") {
    check_binary_gradients(leaf({2, 3, 4}), leaf({4}));
  }
  SECTION("[4] x [2, 3, 4]") {
    check_binary_gradients(leaf({4}), leaf({2, 3, 4}));
  }
  SECTION("0-d x [2, 3]") {
    check_binary_gradients(leaf({}), leaf({2, 3}));
  }
  SECTION("[2, 3] x 0-d") {
    check_binary_gradients(leaf({2, 3}), leaf({}));
  }
  SECTION("[2, 1, 3] x [4, 1]") {
    check_binary_gradients(leaf({2, 1, 3}), leaf({4, 1}));
  }
}

TEST_CASE("binary ops: gradients of non-contiguous inputs", "[elementwise]") {
  manual_seed(2);
  SECTION("transposed x strided") {
    Tensor a = transposed_leaf({3, 4}), b = strided_leaf({3, 4});
    REQUIRE_FALSE(a.is_contiguous());
    REQUIRE_FALSE(b.is_contiguous());
    check_binary_gradients(a, b);
  }
  SECTION("strided x broadcast row") {
    check_binary_gradients(strided_leaf({3, 4}), leaf({4}));
  }
  SECTION("transposed column x transposed") {
    check_binary_gradients(transposed_leaf({2, 3, 1}), transposed_leaf({2, 3, 4}));
  }
}

TEST_CASE("binary ops: an input used as both operands gets both gradients", "[elementwise]") {
  manual_seed(3);
  Tensor x = positive(leaf({2, 3}));
  check_gradients([](const std::vector<Tensor>& v) { return v[0] * v[0]; }, {x});
  check_gradients([](const std::vector<Tensor>& v) { return v[0] / v[0].exp(); }, {x});
  check_gradients([](const std::vector<Tensor>& v) { return pow(v[0], v[0]); }, {x});
  check_gradients([](const std::vector<Tensor>& v) { return add(v[0], v[0], -3.0); }, {x});
}

TEST_CASE("scalar forms and operators: gradients", "[elementwise]") {
  manual_seed(4);
  Tensor x = transposed_leaf({3, 4});
  Tensor xp = positive(strided_leaf({3, 4}));
  Tensor xnz = away_from_zero(transposed_leaf({3, 4}));
  std::vector<std::pair<const char*, Fn>> any = {
      {"add", [](const std::vector<Tensor>& v) { return add(v[0], 1.5); }},
      {"sub", [](const std::vector<Tensor>& v) { return sub(v[0], 1.5); }},
      {"rsub", [](const std::vector<Tensor>& v) { return rsub(v[0], 1.5); }},
      {"mul", [](const std::vector<Tensor>& v) { return mul(v[0], -2.5); }},
      {"div", [](const std::vector<Tensor>& v) { return div(v[0], 4.0); }},
      {"pow 2", [](const std::vector<Tensor>& v) { return pow(v[0], 2.0); }},
      {"pow 3", [](const std::vector<Tensor>& v) { return pow(v[0], 3.0); }},
      {"pow 1", [](const std::vector<Tensor>& v) { return pow(v[0], 1.0); }},
      {"pow 0", [](const std::vector<Tensor>& v) { return pow(v[0], 0.0); }},
      {"2 ^ x", [](const std::vector<Tensor>& v) { return pow(2.0, v[0]); }},
      {"0.5 ^ x", [](const std::vector<Tensor>& v) { return pow(0.5, v[0]); }},
      {"x + s", [](const std::vector<Tensor>& v) { return v[0] + 2.0; }},
      {"s + x", [](const std::vector<Tensor>& v) { return 2.0 + v[0]; }},
      {"x - s", [](const std::vector<Tensor>& v) { return v[0] - 2.0; }},
      {"s - x", [](const std::vector<Tensor>& v) { return 2.0 - v[0]; }},
      {"x * s", [](const std::vector<Tensor>& v) { return v[0] * 3.0; }},
      {"s * x", [](const std::vector<Tensor>& v) { return 3.0 * v[0]; }},
      {"x / s", [](const std::vector<Tensor>& v) { return v[0] / 3.0; }},
      {"-x", [](const std::vector<Tensor>& v) { return -v[0]; }},
      {"method pow", [](const std::vector<Tensor>& v) { return v[0].pow(3.0); }},
  };
  for (auto& [name, fn] : any) {
    INFO(name);
    check_gradients(fn, {x});
  }
  std::vector<std::pair<const char*, Fn>> pos = {
      {"pow 0.5", [](const std::vector<Tensor>& v) { return pow(v[0], 0.5); }},
      {"pow -1.5", [](const std::vector<Tensor>& v) { return pow(v[0], -1.5); }},
      {"pow 2.7", [](const std::vector<Tensor>& v) { return pow(v[0], 2.7); }},
  };
  for (auto& [name, fn] : pos) {
    INFO(name);
    check_gradients(fn, {xp});
  }
  std::vector<std::pair<const char*, Fn>> nonzero = {
      {"rdiv", [](const std::vector<Tensor>& v) { return rdiv(v[0], 2.0); }},
      {"s / x", [](const std::vector<Tensor>& v) { return -3.0 / v[0]; }},
      {"pow -2", [](const std::vector<Tensor>& v) { return pow(v[0], -2.0); }},
  };
  for (auto& [name, fn] : nonzero) {
    INFO(name);
    check_gradients(fn, {xnz});
  }
}

TEST_CASE("binary ops: values match PyTorch with broadcasting", "[elementwise]") {
  const Fixtures& f = fx();
  Tensor x = f["bin_x31"], y = f["bin_y14"];
  CHECK(allclose(add(x, y, 2.5), f["bin_add_alpha"]));
  CHECK(allclose(x.add(y, 2.5), f["bin_add_alpha"]));
  CHECK(allclose(sub(x, y, 0.5), f["bin_sub_alpha"]));
  CHECK(allclose(x * y, f["bin_mul"]));
  CHECK(allclose(x / y, f["bin_div"]));
  CHECK(allclose(x.div(y), f["bin_div"]));
  CHECK(allclose(maximum(x, y), f["bin_maximum"]));
  CHECK(allclose(x.minimum(y), f["bin_minimum"]));
  CHECK(allclose(pow(f["bin_pow_base"], y), f["bin_pow"]));
  CHECK(allclose(f["bin_a234"] + f["bin_b4"], f["bin_add_234_4"]));
  CHECK(allclose(f["bin_a234"] / f["bin_b4"], f["bin_div_234_4"]));
  CHECK(allclose(scalar_tensor(1.75) - f["bin_m23"], f["bin_sub_0d_23"]));
  CHECK(allclose(f["bin_m23"] * scalar_tensor(1.75), f["bin_mul_23_0d"]));
  // The same on transposed copies of the inputs (the strided kernel path).
  Tensor a_t = f["bin_a234"].transpose(0, 2).contiguous().transpose(0, 2);
  REQUIRE_FALSE(a_t.is_contiguous());
  CHECK(allclose(a_t + f["bin_b4"], f["bin_add_234_4"]));
  CHECK(allclose(a_t / f["bin_b4"], f["bin_div_234_4"]));
}

TEST_CASE("scalar forms: values match PyTorch", "[elementwise]") {
  const Fixtures& f = fx();
  Tensor x = f["sc_x"], xp = f["sc_xpos"];
  CHECK(allclose(x + 1.5, f["sc_add"]));
  CHECK(allclose(add(x, 1.5), f["sc_add"]));
  CHECK(allclose(x - 0.25, f["sc_sub"]));
  CHECK(allclose(2.0 - x, f["sc_rsub"]));
  CHECK(allclose(rsub(x, 2.0), f["sc_rsub"]));
  CHECK(allclose(x * 3.0, f["sc_mul"]));
  CHECK(allclose(3.0 * x, f["sc_mul"]));
  CHECK(allclose(x / 4.0, f["sc_div"]));
  CHECK(allclose(2.0 / x, f["sc_rdiv"]));
  CHECK(allclose(rdiv(x, 2.0), f["sc_rdiv"]));
  CHECK(allclose(x.pow(3.0), f["sc_pow3"]));
  CHECK(allclose(pow(xp, 0.5), f["sc_pow_half"]));
  CHECK(allclose(pow(xp, -1.5), f["sc_pow_neg"]));
  CHECK(allclose(pow(2.0, x), f["sc_rpow"]));
  CHECK(allclose(-x, f["sc_neg"]));
  CHECK((x + 1.5).dtype() == kFloat32);
}

TEST_CASE("binary ops: result dtypes and values follow PyTorch's promotion", "[elementwise]") {
  const Fixtures& f = fx();
  Tensor i = f["pr_i"], j = f["pr_j"], fl = f["pr_f"], d = f["pr_d"];
  REQUIRE(i.dtype() == kInt64);
  struct Case {
    const char* name;
    Tensor got;
  };
  std::vector<Case> cases = {
      {"pr_i_add_f", i + fl},      {"pr_f_add_d", fl + d},
      {"pr_i_div_j", i / j},       {"pr_i_mul_2", i * 2.0},
      {"pr_i_mul_half", i * 0.5},  {"pr_i_add_3", i + 3.0},
      {"pr_i_sub_half", i - 1.5},  {"pr_10_sub_i", 10.0 - i},
      {"pr_7_div_i", 7.0 / i},     {"pr_i_div_2", i / 2.0},
      {"pr_i_pow_2", pow(i, 2.0)}, {"pr_i_max_f", maximum(i, fl)},
      {"pr_i_mul_d", i * d},       {"pr_i_sub_j_alpha", sub(i, j, 3.0)},
  };
  for (const Case& c : cases) {
    INFO(c.name << ": got " << c.got.dtype() << ", PyTorch " << f[c.name].dtype());
    CHECK(c.got.dtype() == f[c.name].dtype());
    CHECK(allclose(c.got, f[c.name]));
  }
  // int64 to int64 powers stay int64, but j holds a -4: PyTorch's pr_i_pow_j and pr_2_pow_j have
  // a silent 0 there (3^-4, 2^-4), which minidl refuses (a documented difference).
  CHECK_THROWS_WITH(pow(i, j), Catch::Contains("to a negative integer power"));
  CHECK_THROWS_WITH(pow(2.0, j), Catch::Contains("to a negative integer power"));
  Tensor j_nonneg = j.abs();
  CHECK(pow(i, j_nonneg).dtype() == kInt64);
  CHECK(pow(2.0, j_nonneg).to_vector<int64_t>() == std::vector<int64_t>{4, 8, 16, 2, 128, 32});
  CHECK(result_type(i, fl) == kFloat32);
  CHECK(result_type(fl, d) == kFloat64);
  // Arithmetic on bool computes in int64 (a documented difference from PyTorch).
  Tensor t = tensor({true, false, true});
  Tensor s = t + t;
  CHECK(s.dtype() == kInt64);
  CHECK(s.to_vector<int64_t>() == std::vector<int64_t>{2, 0, 2});
}

TEST_CASE("binary ops: mixed float32/float64 gradients come back in each input's dtype",
          "[elementwise]") {
  Tensor a = tensor({1.0, 2.0, 3.0}).requires_grad_();  // float32
  Tensor b = tensor({0.5, 0.25}, kFloat64).reshape({2, 1}).detach().requires_grad_();
  Tensor y = a * b;  // [2, 3] float64
  REQUIRE(y.dtype() == kFloat64);
  y.sum().backward();
  CHECK(a.grad().dtype() == kFloat32);
  CHECK(allclose(a.grad(), full({3}, 0.75)));
  CHECK(b.grad().dtype() == kFloat64);
  CHECK(allclose(b.grad(), full({2, 1}, 6.0, kFloat64)));
}

TEST_CASE("pow: gradients at a zero base match PyTorch", "[elementwise]") {
  const Fixtures& f = fx();
  Tensor a = f["pw_a"].clone().requires_grad_(), b = f["pw_b"].clone().requires_grad_();
  pow(a, b).sum().backward();
  CHECK(allclose(a.grad(), f["pw_da"]));
  CHECK(allclose(b.grad(), f["pw_db"]));
  // An int64 base with a float exponent: the exponent's gradient is out * log(base).
  manual_seed(6);
  Tensor ibase = tensor({1, 2, 3});
  check_gradients([ibase](const std::vector<Tensor>& v) { return pow(ibase, v[0]); }, {leaf({3})});
  // Scalar base 0: d(0^x)/dx is 0 where x >= 0.
  Tensor x = tensor({0.0, 1.0, 2.0}, kFloat64).requires_grad_();
  pow(0.0, x).sum().backward();
  CHECK(allclose(x.grad(), zeros({3}, kFloat64)));
  // Scalar exponent 0: the gradient is 0 even at a zero base.
  Tensor z = zeros({2}, kFloat64).requires_grad_();
  pow(z, 0.0).sum().backward();
  CHECK(allclose(z.grad(), zeros({2}, kFloat64)));
}

TEST_CASE("maximum/minimum: ties split the gradient, NaN propagates (as PyTorch)",
          "[elementwise]") {
  const Fixtures& f = fx();
  const double nan = std::nan("");
  Tensor a = tensor({1.0, 2.0, 3.0, nan, -1.0}, kFloat64).requires_grad_();
  Tensor b = f["mx_b"].clone().requires_grad_();
  Tensor out = maximum(a, b);
  CHECK(allclose(out, tensor({1.0, 3.0, 3.0, nan, -1.0}, kFloat64)));
  CHECK(std::isnan(maximum(b.detach(), a.detach()).to_vector<double>()[3]));
  out.backward(f["mx_g"]);
  CHECK(allclose(a.grad(), f["mx_da"]));
  CHECK(allclose(b.grad(), f["mx_db"]));
  a.zero_grad();
  b.zero_grad();
  out = minimum(a, b);
  CHECK(allclose(out, tensor({1.0, 2.0, 2.0, nan, -1.0}, kFloat64)));
  CHECK(std::isnan(minimum(b.detach(), a.detach()).to_vector<double>()[3]));
  out.backward(f["mx_g"]);
  CHECK(allclose(a.grad(), f["mn_da"]));
  CHECK(allclose(b.grad(), f["mn_db"]));
}

TEST_CASE("binary ops: large tensors take the parallel and broadcast paths correctly",
          "[elementwise]") {
  manual_seed(5);
  Tensor a = randn({300, 200}), b = randn({200}), c = randn({300, 1});
  Tensor sum = a + b, prod = a * c, quotient = a.t() / 2.0;
  std::vector<float> va = a.to_vector<float>(), vb = b.to_vector<float>(),
                     vc = c.to_vector<float>();
  std::vector<float> vs = sum.to_vector<float>(), vp = prod.to_vector<float>(),
                     vq = quotient.to_vector<float>();
  bool ok = true;
  for (int64_t r = 0; r < 300; ++r)
    for (int64_t k = 0; k < 200; ++k) {
      ok &= vs[r * 200 + k] == va[r * 200 + k] + vb[k];
      ok &= vp[r * 200 + k] == va[r * 200 + k] * vc[r];
      ok &= vq[k * 300 + r] == va[r * 200 + k] / 2.0f;
    }
  CHECK(ok);
  // Empty tensors broadcast to empty results.
  Tensor e = zeros({0, 3}) + ones({3});
  CHECK(e.shape() == Shape{0, 3});
}

// (a macro: Catch's combined matchers hold references to their parts)
#define SHAPES_MSG(op) Catch::Contains(op) && Catch::Contains("[2, 3]") && Catch::Contains("[4]")

TEST_CASE("binary ops: broadcasting errors name the op and both shapes", "[elementwise]") {
  Tensor a = ones({2, 3}), b = ones({4});
  CHECK_THROWS_WITH(add(a, b), SHAPES_MSG("add"));
  CHECK_THROWS_WITH(a + b, SHAPES_MSG("add"));
  CHECK_THROWS_WITH(sub(a, b), SHAPES_MSG("sub"));
  CHECK_THROWS_WITH(a - b, SHAPES_MSG("sub"));
  CHECK_THROWS_WITH(a * b, SHAPES_MSG("mul"));
  CHECK_THROWS_WITH(a / b, SHAPES_MSG("div"));
  CHECK_THROWS_WITH(pow(a, b), SHAPES_MSG("pow"));
  CHECK_THROWS_WITH(maximum(a, b), SHAPES_MSG("maximum"));
  CHECK_THROWS_WITH(minimum(a, b), SHAPES_MSG("minimum"));
  CHECK_THROWS_WITH(add(ones({2, 3}), ones({3, 2})),
                    Catch::Contains("add") && Catch::Contains("[3, 2]"));
}

TEST_CASE("binary ops: integral-only errors", "[elementwise]") {
  Tensor i = tensor({1, 2, 3});
  CHECK_THROWS_WITH(add(i, i, 0.5),
                    Catch::Contains("add") && Catch::Contains("alpha") && Catch::Contains("int64"));
  CHECK_THROWS_WITH(sub(i, i, 1.5), Catch::Contains("sub") && Catch::Contains("alpha"));
  CHECK_THROWS_WITH(pow(i, -1.0), Catch::Contains("pow") && Catch::Contains("negative"));
  CHECK(add(i, i, 2.0).to_vector<int64_t>() == std::vector<int64_t>{3, 6, 9});
  CHECK(allclose(add(i, i.to(kFloat32), 0.5), tensor({1.5, 3.0, 4.5})));
}

TEST_CASE("binary ops: integer edge cases", "[elementwise]") {
  Tensor i = tensor({1, 2, 3});
  // non-finite or huge scalars make the result float32 (never an undefined int conversion)
  Tensor inf_sum = i + std::numeric_limits<double>::infinity();
  CHECK(inf_sum.dtype() == kFloat32);
  CHECK(std::isinf(inf_sum.to_vector<float>()[0]));
  CHECK((i * 1e30).dtype() == kFloat32);
  CHECK(std::isnan((i - std::nan("")).to_vector<float>()[1]));
  // integer powers are exact and wrap around on overflow like PyTorch's
  Tensor two = tensor({2, 2, -3});
  CHECK(pow(two, tensor({62, 64, 3})).to_vector<int64_t>() ==
        std::vector<int64_t>{int64_t(1) << 62, 0, -27});
  CHECK(pow(two, 10.0).to_vector<int64_t>() == std::vector<int64_t>{1024, 1024, 59049});
  // 1 and -1 to negative powers are exact; any other integer base is refused, not truncated to 0
  CHECK(pow(tensor({1, -1, -1, 1}), tensor({-3, -3, -2, -1})).to_vector<int64_t>() ==
        std::vector<int64_t>{1, -1, 1, 1});
  CHECK_THROWS_WITH(pow(tensor({1, 5}), tensor({-3, -1})),
                    Catch::Contains("pow: an integer base other than 1 and -1 to a negative"));
  CHECK_THROWS_WITH(pow(tensor({2, 3}), scalar_tensor(-1, kInt64)),
                    Catch::Contains("convert the base"));
  CHECK_THROWS_WITH(pow(2.0, tensor({1, -1})), Catch::Contains("pow: the integer 2 to a negative"));
  CHECK(pow(-1.0, tensor({-1, -2})).to_vector<int64_t>() == std::vector<int64_t>{-1, 1});
  CHECK(pow(tensor({2.0f}), scalar_tensor(-1, kInt64)).to_vector<float>()[0] ==
        0.5f);  // float: fine
}

TEST_CASE("binary ops record named tape entries only when needed", "[elementwise]") {
  Tensor a = ones({2}).requires_grad_(), b = ones({2});
  CHECK(std::string((a + b).grad_fn()->name()) == "AddBackward0");
  CHECK(std::string((a - b).grad_fn()->name()) == "SubBackward0");
  CHECK(std::string((b * a).grad_fn()->name()) == "MulBackward0");
  CHECK(std::string(maximum(a, b).grad_fn()->name()) == "MaximumBackward0");
  CHECK_FALSE((b + b).requires_grad());
  NoGradGuard guard;
  CHECK_FALSE((a * b).requires_grad());
}
