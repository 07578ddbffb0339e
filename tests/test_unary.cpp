// Unary math and activations: gradients (float64 gradcheck, contiguous and non-contiguous,
// away from kinks), values and gradients against PyTorch (including large |x|), and errors.
#include <cmath>
#include <limits>

#include "ops/loops.h"
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

using Fn = std::function<Tensor(const Tensor&)>;

// Rewrites a leaf's values in place, keeping its layout.
Tensor positive(Tensor x) {
  NoGradGuard guard;
  x.copy_(x.abs() + 0.1);
  return x;
}
Tensor away_from_zero(Tensor x) {
  NoGradGuard guard;
  x.copy_(where(x >= 0.0, x.abs() + 0.05, -(x.abs() + 0.05)));
  return x;
}

struct UnaryCase {
  const char* name;  // the fixture is "un_<name>" (and "_grad")
  Fn fn;
  bool positive;
};

std::vector<UnaryCase> unary_cases() {
  return {
      {"neg", [](const Tensor& x) { return neg(x); }, false},
      {"abs", [](const Tensor& x) { return abs(x); }, false},
      {"exp", [](const Tensor& x) { return exp(x); }, false},
      {"log", [](const Tensor& x) { return log(x); }, true},
      {"log1p", [](const Tensor& x) { return log1p(x); }, true},
      {"sqrt", [](const Tensor& x) { return sqrt(x); }, true},
      {"rsqrt", [](const Tensor& x) { return rsqrt(x); }, true},
      {"sin", [](const Tensor& x) { return sin(x); }, false},
      {"cos", [](const Tensor& x) { return cos(x); }, false},
      {"tanh", [](const Tensor& x) { return tanh(x); }, false},
      {"sigmoid", [](const Tensor& x) { return sigmoid(x); }, false},
      {"relu", [](const Tensor& x) { return relu(x); }, false},
      {"leaky_relu", [](const Tensor& x) { return leaky_relu(x, 0.2); }, false},
      {"elu", [](const Tensor& x) { return elu(x, 1.5); }, false},
      {"gelu", [](const Tensor& x) { return gelu(x); }, false},
      {"gelu_tanh", [](const Tensor& x) { return gelu(x, "tanh"); }, false},
      {"softplus", [](const Tensor& x) { return softplus(x); }, false},
      {"softplus_b2_t5", [](const Tensor& x) { return softplus(x, 2.0, 5.0); }, false},
      {"clamp_min", [](const Tensor& x) { return clamp(x, -0.5, std::nullopt); }, false},
      {"clamp_max", [](const Tensor& x) { return clamp(x, std::nullopt, 0.5); }, false},
      {"clamp_both", [](const Tensor& x) { return clamp(x, -0.5, 0.8); }, false},
  };
}

// allclose, but +-inf must match exactly (allclose's |a - b| is NaN for two infinities).
bool close_with_inf(const Tensor& got, const Tensor& want, double rtol = 1e-5, double atol = 1e-6) {
  std::vector<double> g = got.to_vector<double>(), w = want.to_vector<double>();
  if (got.shape() != want.shape()) return false;
  for (size_t i = 0; i < g.size(); ++i) {
    if (std::isinf(w[i]) || std::isinf(g[i])) {
      if (g[i] != w[i]) {
        UNSCOPED_INFO("element " << i << ": " << g[i] << " vs " << w[i]);
        return false;
      }
      g[i] = w[i] = 0.0;
    }
  }
  return allclose(from_vector(g, got.shape()), from_vector(w, want.shape()), rtol, atol);
}

}  // namespace

TEST_CASE("unary ops: gradients on contiguous and non-contiguous inputs", "[elementwise]") {
  manual_seed(11);
  // Kinks (0 for abs/relu/leaky_relu/elu, the clamp bounds) are avoided by the random values:
  // none lies within the finite-difference step of one.
  std::vector<Tensor> inputs = {leaf({2, 3}, 2.0), transposed_leaf({3, 4}, 2.0),
                                strided_leaf({2, 3}, 2.0), leaf({}, 2.0)};
  for (const UnaryCase& c : unary_cases()) {
    for (Tensor x : inputs) {
      INFO(c.name << " on " << shape_str(x.shape())
                  << (x.is_contiguous() ? " contiguous" : " non-contiguous"));
      x = c.positive ? positive(x) : away_from_zero(x);
      check_gradients([&c](const std::vector<Tensor>& v) { return c.fn(v[0]); }, {x});
    }
  }
}

TEST_CASE("unary ops: method forms and composition gradients", "[elementwise]") {
  manual_seed(12);
  Tensor x = positive(transposed_leaf({3, 4}));
  check_gradients(
      [](const std::vector<Tensor>& v) {
        const Tensor& t = v[0];
        return t.neg().exp() + t.abs().log() + t.log1p() * t.sqrt() - t.rsqrt() +
               t.sin() * t.cos() + t.tanh() + t.sigmoid() + t.relu() + t.clamp(0.5, 1.5);
      },
      {x});
  // softplus above the threshold is the identity (gradient 1)
  Tensor big = (leaf({5}) + 30.0).detach().requires_grad_();
  check_gradients([](const std::vector<Tensor>& v) { return softplus(v[0]); }, {big});
  // a tighter threshold with beta, on both sides of it
  Tensor spread = (leaf({8}) * 3.0).detach().requires_grad_();
  check_gradients([](const std::vector<Tensor>& v) { return softplus(v[0], 2.0, 1.5); }, {spread});
}

TEST_CASE("unary ops: values and gradients match PyTorch", "[elementwise]") {
  const Fixtures& f = fx();
  for (const UnaryCase& c : unary_cases()) {
    INFO(c.name);
    Tensor x = (c.positive ? f["un_xp"] : f["un_x"]).clone().requires_grad_();
    Tensor y = c.fn(x);
    CHECK(y.dtype() == kFloat32);
    CHECK(allclose(y, f[std::string("un_") + c.name]));
    y.backward(f["un_g"]);
    CHECK(allclose(x.grad(), f[std::string("un_") + c.name + "_grad"], 1e-5, 1e-5));
  }
}

TEST_CASE("unary ops: large |x| stays finite where PyTorch's does", "[elementwise]") {
  const Fixtures& f = fx();
  std::vector<std::pair<const char*, Fn>> cases = {
      {"sigmoid", [](const Tensor& x) { return sigmoid(x); }},
      {"softplus", [](const Tensor& x) { return softplus(x); }},
      {"softplus_b2_t5", [](const Tensor& x) { return softplus(x, 2.0, 5.0); }},
      {"tanh", [](const Tensor& x) { return tanh(x); }},
      {"gelu", [](const Tensor& x) { return gelu(x); }},
      {"gelu_tanh", [](const Tensor& x) { return gelu(x, "tanh"); }},
      {"elu", [](const Tensor& x) { return elu(x, 1.5); }},
  };
  for (auto& [name, fn] : cases) {
    INFO(name);
    Tensor x = f["un_xbig"].clone().requires_grad_();
    Tensor y = fn(x);
    CHECK(close_with_inf(y, f[std::string("big_") + name]));
    y.backward(f["un_gbig"]);
    CHECK(close_with_inf(x.grad(), f[std::string("big_") + name + "_grad"]));
  }
  // float64 and a huge threshold: the stable forms never overflow
  Tensor xd = tensor({-1000.0, -50.0, 0.0, 50.0, 1000.0}, kFloat64).requires_grad_();
  Tensor s = sigmoid(xd);
  CHECK(allclose(s, tensor({0.0, std::exp(-50.0), 0.5, 1.0, 1.0}, kFloat64), 1e-12, 1e-30));
  Tensor sp = softplus(xd, 1.0, 1e9);
  CHECK(allclose(sp,
                 tensor({0.0, std::log1p(std::exp(-50.0)), std::log(2.0), 50.0, 1000.0}, kFloat64),
                 1e-12, 1e-30));
  sp.sum().backward();
  CHECK(allclose(xd.grad(), s.detach(), 1e-12, 1e-30));
}

TEST_CASE("exp_float matches libm's exp to about one ulp everywhere", "[elementwise]") {
  double worst = 0;
  for (float x = -103.0f; x < 88.7f; x += 0.0137f) {
    double want = std::exp(static_cast<double>(x));
    if (want < std::numeric_limits<float>::min()) continue;  // subnormal: absolute check below
    worst = std::max(worst, std::fabs(exp_float(x) - want) / want);
  }
  CHECK(worst < 2e-7);
  CHECK(std::fabs(exp_float(-100.0f) - std::exp(-100.0)) < 2e-45);  // subnormal result
  CHECK(exp_float(0.0f) == 1.0f);
  CHECK(exp_float(89.0f) == std::numeric_limits<float>::infinity());
  CHECK(exp_float(std::numeric_limits<float>::infinity()) ==
        std::numeric_limits<float>::infinity());
  CHECK(exp_float(-std::numeric_limits<float>::infinity()) == 0.0f);
  CHECK(exp_float(-200.0f) == 0.0f);
  CHECK(std::isnan(exp_float(std::nanf(""))));
  // and the op uses it on a large (parallel, vectorized) tensor
  Tensor x = linspace(-20.0, 20.0, 100001);
  CHECK(allclose(exp(x), exp(x.to(kFloat64)).to(kFloat32), 3e-7, 0.0));
}

TEST_CASE("tanh_float matches float64 std::tanh within 2e-7 everywhere", "[elementwise]") {
  const float inf = std::numeric_limits<float>::infinity();
  double worst = 0;
  auto check = [&](float x) {
    const double got = tanh_float(x), want = std::tanh(static_cast<double>(x));
    worst = std::max(worst, std::fabs(got - want));
  };
  for (float x = -12.0f; x < 12.0f; x += 0.000731f) check(x);  // every branch of n
  for (float x : {0.0f, -0.0f, 1e-30f, -1e-30f, 1e-45f, 1e-7f, -3e-5f, 0.3465f, 8.999f, 9.0f,
                  9.001f, 20.0f, -20.0f, 1e10f, -1e30f, 3.4e38f, -3.4e38f, inf, -inf})
    check(x);
  CHECK(worst < 2e-7);
  // tiny arguments keep their relative precision, the sign of zero is kept, saturation is exact
  CHECK(std::fabs(tanh_float(1e-30f) - 1e-30f) <= 1e-36f);
  CHECK(std::fabs(tanh_float(-3e-5f) - static_cast<float>(std::tanh(-3e-5))) <= 1e-11f);
  CHECK(std::signbit(tanh_float(-0.0f)));
  CHECK(tanh_float(inf) == 1.0f);
  CHECK(tanh_float(-inf) == -1.0f);
  CHECK(tanh_float(-1e30f) == -1.0f);
  CHECK(std::isnan(tanh_float(std::nanf(""))));
  CHECK(std::isnan(tanh_float(-std::nanf(""))));
  CHECK(tanh_vec(0.5) == std::tanh(0.5));  // float64 keeps libm
  // and the op uses it on a large (parallel, vectorized) tensor, NaN included
  Tensor x = linspace(-20.0, 20.0, 100001);
  CHECK(allclose(tanh(x), tanh(x.to(kFloat64)).to(kFloat32), 0.0, 2e-7));
  Tensor special = tensor({std::nanf(""), inf, -inf, 0.0f});
  Tensor t = tanh(special);
  CHECK(std::isnan(t.data_ptr<float>()[0]));
  CHECK(t.data_ptr<float>()[1] == 1.0f);
  CHECK(t.data_ptr<float>()[2] == -1.0f);
  CHECK(t.data_ptr<float>()[3] == 0.0f);
}

TEST_CASE("erf_float matches float64 std::erf within 2e-7 everywhere", "[elementwise]") {
  const float inf = std::numeric_limits<float>::infinity();
  double worst = 0, worst_relative_small = 0;
  for (float x = -7.0f; x < 7.0f; x += 0.000517f) {  // both ranges, the seam at 1, the clamp
    const double got = erf_float(x), want = std::erf(static_cast<double>(x));
    worst = std::max(worst, std::fabs(got - want));
    if (std::fabs(x) < 1.0f && x != 0.0f)
      worst_relative_small =
          std::max(worst_relative_small, std::fabs(got - want) / std::fabs(want));
  }
  CHECK(worst < 2e-7);
  CHECK(worst_relative_small < 3e-7);  // near 0 the series keeps relative precision
  CHECK(std::fabs(erf_float(1e-30f) - 1.12837916709551257 * 1e-30) <= 1e-37);
  CHECK(std::signbit(erf_float(-0.0f)));
  CHECK(erf_float(inf) == 1.0f);
  CHECK(erf_float(-inf) == -1.0f);
  CHECK(erf_float(3e38f) == 1.0f);
  CHECK(std::isnan(erf_float(std::nanf(""))));
  CHECK(erf_vec(0.5) == std::erf(0.5));  // float64 keeps libm
  // GELU (exact form) in float32 agrees with float64 through it, values and gradients
  Tensor x = linspace(-8.0, 8.0, 20001).requires_grad_(true);
  Tensor x64 = x.detach().to(kFloat64).requires_grad_(true);
  Tensor y = gelu(x, "none"), y64 = gelu(x64, "none");
  CHECK(allclose(y, y64.to(kFloat32), 2e-7, 4e-7));
  y.sum().backward();
  y64.sum().backward();
  CHECK(allclose(x.grad(), x64.grad().to(kFloat32), 0.0, 4e-7));
}

TEST_CASE("clamp: bounds, dtypes and NaN", "[elementwise]") {
  Tensor x = tensor({-2.0f, -0.5f, 0.0f, 0.7f, 3.0f, std::nanf("")});
  std::vector<float> both = clamp(x, -1.0, 1.0).to_vector<float>();
  CHECK(both[0] == -1.0f);
  CHECK(both[3] == 0.7f);
  CHECK(both[4] == 1.0f);
  CHECK(std::isnan(both[5]));
  // min > max: max wins everywhere (min is applied first), as in PyTorch
  CHECK(allclose(clamp(x.slice(0, 0, 5), 2.0, 1.0), full({5}, 1.0)));
  Tensor i = tensor({1, 5, 9});
  Tensor ci = clamp(i, 2.0, 6.0);
  CHECK(ci.dtype() == kInt64);
  CHECK(ci.to_vector<int64_t>() == std::vector<int64_t>{2, 5, 6});
  Tensor cf = i.clamp(1.5, std::nullopt);  // a fractional bound promotes to float32
  CHECK(cf.dtype() == kFloat32);
  CHECK(allclose(cf, tensor({1.5, 5.0, 9.0})));
  CHECK(clamp(i, -1e30, 1e30).to_vector<int64_t>() == std::vector<int64_t>{1, 5, 9});
  // gradient 1 inside the closed interval, 0 outside
  Tensor g = tensor({-2.0, -1.0, 0.0, 1.0, 2.0}, kFloat64).requires_grad_();
  clamp(g, -1.0, 1.0).sum().backward();
  CHECK(allclose(g.grad(), tensor({0.0, 1.0, 1.0, 1.0, 0.0}, kFloat64)));
}

TEST_CASE("unary ops: integer inputs", "[elementwise]") {
  Tensor i = tensor({-3, 0, 4});
  CHECK(neg(i).to_vector<int64_t>() == std::vector<int64_t>{3, 0, -4});
  CHECK(abs(i).to_vector<int64_t>() == std::vector<int64_t>{3, 0, 4});
  CHECK(abs(i).dtype() == kInt64);
}

TEST_CASE("unary ops: errors name the op and the offending input", "[elementwise]") {
  Tensor i = tensor({1, 2});
  for (auto& [name, fn] : std::vector<std::pair<std::string, Fn>>{
           {"exp", [](const Tensor& x) { return exp(x); }},
           {"log", [](const Tensor& x) { return log(x); }},
           {"sqrt", [](const Tensor& x) { return sqrt(x); }},
           {"sigmoid", [](const Tensor& x) { return sigmoid(x); }},
           {"tanh", [](const Tensor& x) { return tanh(x); }},
           {"relu", [](const Tensor& x) { return relu(x); }},
           {"gelu", [](const Tensor& x) { return gelu(x); }},
           {"softplus", [](const Tensor& x) { return softplus(x); }},
       }) {
    INFO(name);
    CHECK_THROWS_WITH(fn(i),
                      Catch::Contains(name) && Catch::Contains("int64") && Catch::Contains("[2]"));
  }
  Tensor x = ones({2, 3});
  // (A typed empty bound: two bare nullopts would also match clamp's tensor-bound overload.)
  CHECK_THROWS_WITH(clamp(x, std::optional<double>(), std::nullopt),
                    Catch::Contains("clamp") && Catch::Contains("min and max"));
  CHECK_THROWS_WITH(gelu(x, "fast"), Catch::Contains("gelu") && Catch::Contains("\"fast\""));
  CHECK_THROWS_WITH(softplus(x, 0.0), Catch::Contains("softplus") && Catch::Contains("beta"));
  CHECK_THROWS_WITH(neg(tensor({true})), Catch::Contains("neg") && Catch::Contains("bool"));
  CHECK_THROWS_WITH(clamp(tensor({true}), 0.0, 1.0),
                    Catch::Contains("clamp") && Catch::Contains("bool"));
  CHECK_THROWS_WITH(abs(tensor({true})), Catch::Contains("abs") && Catch::Contains("bool"));
}
