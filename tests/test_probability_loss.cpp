// binary_cross_entropy (ops/probability_loss.h): PyTorch values and gradients (input and target)
// for every reduction with and without a weight, the log clamp at -100 and the gradient floor at
// exact 0s and 1s, gradchecks on non-contiguous and broadcast operands, and the error paths.
#include <cmath>
#include <limits>
#include <vector>

#include "tests/fixture.h"
#include "tests/test_util.h"

using namespace minidl;
using minidl::testing::allclose;
using minidl::testing::check_against_same_dtype;
using minidl::testing::check_gradients;
using minidl::testing::cos_upstream;
using minidl::testing::fixture_leaf;
using minidl::testing::Fixtures;

namespace {

const std::vector<std::pair<std::string, Reduction>> kReductions = {
    {"none", Reduction::None}, {"mean", Reduction::Mean}, {"sum", Reduction::Sum}};

// Probabilities in [0.1, 0.9] as non-contiguous float64 leaves: stored transposed, or every other
// column of a wider tensor.
Tensor transposed_probabilities(int64_t rows, int64_t cols) {
  return (rand({cols, rows}, kFloat64) * 0.8 + 0.1).t().detach().requires_grad_();
}
Tensor strided_probabilities(int64_t rows, int64_t cols) {
  return (rand({rows, 2 * cols}, kFloat64) * 0.8 + 0.1)
      .slice(1, 0, std::nullopt, 2)
      .detach()
      .requires_grad_();
}

}  // namespace

TEST_CASE("binary_cross_entropy matches PyTorch for every reduction and weight", "[bce]") {
  Fixtures fx("probability_loss.txt");
  for (const auto& [red_name, red] : kReductions) {
    {
      Tensor x = fixture_leaf(fx, "x"), t = fixture_leaf(fx, "t");
      check_against_same_dtype(fx, "bce_" + red_name, binary_cross_entropy(x, t, Tensor(), red),
                               {{"x", x}, {"t", t}});
    }
    {
      // a [4] weight broadcast over the rows, and a transposed input
      Tensor x = fx["x"].t().contiguous().t().requires_grad_(), t = fixture_leaf(fx, "t");
      check_against_same_dtype(fx, "bce_wc_" + red_name, binary_cross_entropy(x, t, fx["wc"], red),
                               {{"x", x}, {"t", t}});
    }
    {
      Tensor x = fixture_leaf(fx, "x"), t = fx["t"].t().contiguous().t().requires_grad_();
      check_against_same_dtype(fx, "bce_wf_" + red_name, binary_cross_entropy(x, t, fx["wf"], red),
                               {{"x", x}, {"t", t}});
    }
  }
  Tensor x32 = fx["x"].to(kFloat32).requires_grad_(), t32 = fx["t"].to(kFloat32).requires_grad_();
  Tensor loss = binary_cross_entropy(x32, t32, fx["wc"].to(kFloat32));  // Mean by default
  CHECK(loss.dim() == 0);
  check_against_same_dtype(fx, "bce32_wc_mean", loss, {{"x", x32}, {"t", t32}}, 1e-5);
}

TEST_CASE("binary_cross_entropy at exact 0 and 1: logs clamped at -100, gradients floored",
          "[bce]") {
  Fixtures fx("probability_loss.txt");
  Tensor x = fixture_leaf(fx, "xe"), t = fx["te"].clone().requires_grad_();
  Tensor loss = binary_cross_entropy(x, t, Tensor(), Reduction::None);
  // (x, t) = (0, 0) and (1, 1) cost nothing, (0, 1) and (1, 0) cost 100
  CHECK(loss.to_vector<double>()[0] == 0.0);
  CHECK(loss.to_vector<double>()[1] == 100.0);
  CHECK(allclose(loss, fx["bce_edges_out"], 1e-12, 1e-12));
  loss.backward(cos_upstream(loss.shape(), kFloat64));
  // dx = up (x - t) / 1e-12 there: PyTorch's values of size 1e12
  CHECK(allclose(x.grad(), fx["bce_edges_dx"], 1e-12, 1e-12));
  // dt = up (log(1 - x) - log x): +inf at x = 0 and -inf at x = 1 (times the upstream's sign)
  std::vector<double> dt = t.grad().to_vector<double>();
  std::vector<double> up = cos_upstream({6}, kFloat64).to_vector<double>();
  const std::vector<double> x_values = x.detach().to_vector<double>();
  for (size_t i = 0; i < dt.size(); ++i) {
    INFO("element " << i);
    CHECK(std::isinf(dt[i]));
    CHECK((dt[i] > 0) == ((x_values[i] == 0.0) == (up[i] > 0)));
  }
}

TEST_CASE("binary_cross_entropy gradients on non-contiguous and broadcast operands", "[bce]") {
  manual_seed(41);
  for (Reduction red : {Reduction::None, Reduction::Mean, Reduction::Sum}) {
    Tensor x = transposed_probabilities(3, 4), t = strided_probabilities(3, 4);
    REQUIRE_FALSE(x.is_contiguous());
    REQUIRE_FALSE(t.is_contiguous());
    Tensor w = (rand({4}, kFloat64) + 0.5).expand({3, 4});  // an expanded weight
    check_gradients(
        [red, w](const std::vector<Tensor>& v) { return binary_cross_entropy(v[0], v[1], w, red); },
        {x, t});
    // an input that is a slice of a wider tensor, no weight
    Tensor xs = strided_probabilities(2, 3), ts = strided_probabilities(2, 3);
    check_gradients(
        [red](const std::vector<Tensor>& v) {
          return binary_cross_entropy(v[0], v[1], Tensor(), red);
        },
        {xs, ts});
  }
}

TEST_CASE("binary_cross_entropy: weight is a constant, empty Mean is NaN, targets unchecked",
          "[bce]") {
  Tensor x = tensor<double>({0.25, 0.5}, kFloat64);
  Tensor t = tensor<double>({1.0, 2.0}, kFloat64);  // PyTorch does not check targets either
  Tensor l = binary_cross_entropy(x, t, Tensor(), Reduction::None);
  CHECK(allclose(l, tensor<double>({-std::log(0.25), -(2.0 - 1.0) * std::log(0.5)}, kFloat64),
                 1e-15, 1e-15));
  CHECK(std::isnan(binary_cross_entropy(zeros({0}), zeros({0})).item<double>()));
  CHECK(binary_cross_entropy(zeros({0}), zeros({0}), Tensor(), Reduction::Sum).item<double>() ==
        0.0);
  // a weight that requires grad is refused, unless nothing is recorded
  Tensor w = ones({2}, kFloat64).requires_grad_();
  CHECK_THROWS_WITH(binary_cross_entropy(x, t, w),
                    Catch::Contains("binary_cross_entropy") && Catch::Contains("weight"));
  NoGradGuard no_grad;
  CHECK(binary_cross_entropy(x, t, w, Reduction::Sum).item<double>() ==
        Approx(-std::log(0.25) - std::log(0.5)));
}

TEST_CASE("binary_cross_entropy errors name the op and the fault", "[bce]") {
  const char* op = "binary_cross_entropy";
  Tensor t = full({2, 2}, 0.5);
  const double nan = std::numeric_limits<double>::quiet_NaN();
  for (double bad : {1.5, -0.1, nan}) {
    INFO(bad);
    Tensor x = full({2, 2}, 0.5);
    x.select(0, 1).select(0, 0).fill_(bad);
    CHECK_THROWS_WITH(binary_cross_entropy(x, t), Catch::Contains(op) &&
                                                      Catch::Contains("between 0 and 1") &&
                                                      Catch::Contains("[1, 0]"));
  }
  CHECK_THROWS_WITH(binary_cross_entropy(full({2, 2}, 0.5), full({2}, 0.5)),
                    Catch::Contains(op) && Catch::Contains("[2]") && Catch::Contains("[2, 2]"));
  CHECK_THROWS_WITH(binary_cross_entropy(full({2}, 0.5), full({2}, 0.5, kFloat64)),
                    Catch::Contains(op) && Catch::Contains("float64"));
  CHECK_THROWS_WITH(binary_cross_entropy(full({2, 2}, 0.5), t, ones({3})),
                    Catch::Contains(op) && Catch::Contains("[3]"));
  CHECK_THROWS_WITH(binary_cross_entropy(full({2, 2}, 0.5), t, ones({2, 1, 1})),
                    Catch::Contains(op) && Catch::Contains("[2, 1, 1]"));
  CHECK_THROWS_WITH(binary_cross_entropy(full({2}, 0.5), full({2}, 0.5), ones({2}, kFloat64)),
                    Catch::Contains(op) && Catch::Contains("weight"));
  CHECK_THROWS_WITH(binary_cross_entropy(tensor<int64_t>({0, 1}), tensor<int64_t>({0, 1})),
                    Catch::Contains(op) && Catch::Contains("int64"));
  CHECK_THROWS_WITH(binary_cross_entropy(Tensor(), t),
                    Catch::Contains(op) && Catch::Contains("undefined"));
}
