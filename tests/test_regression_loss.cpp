// huber_loss and smooth_l1_loss (ops/regression_loss.h): PyTorch values and gradients for every
// reduction and several delta / beta (beta = 0 included) and a broadcast target, gradchecks on
// non-contiguous and broadcast operands, the pieces and boundaries by hand, and the error paths.
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

const std::vector<std::pair<std::string, Reduction>> kReductions = {
    {"none", Reduction::None}, {"mean", Reduction::Mean}, {"sum", Reduction::Sum}};

// The same values as a non-contiguous leaf (stored transposed).
Tensor transposed_copy(const Tensor& t) {
  return t.transpose(0, 1).contiguous().detach().transpose(0, 1).requires_grad_();
}

}  // namespace

TEST_CASE("huber_loss and smooth_l1_loss match PyTorch for every reduction, delta and beta",
          "[regression_loss]") {
  Fixtures fx("regression_loss.txt");
  for (const auto& [red_name, red] : kReductions) {
    for (const char* delta : {"1.0", "0.5", "2.0"}) {
      // A non-contiguous target: the kernel reads strided operands.
      Tensor x = fx["x"].clone().requires_grad_(), t = transposed_copy(fx["t"]);
      check_against(fx, "huber_" + red_name + "_" + delta, huber_loss(x, t, red, std::stod(delta)),
                    {{"x", x}, {"t", t}});
    }
    for (const char* beta : {"1.0", "0.5", "0.0"}) {
      Tensor x = transposed_copy(fx["x"]), t = fx["t"].clone().requires_grad_();
      check_against(fx, "smooth_l1_" + red_name + "_" + beta,
                    smooth_l1_loss(x, t, red, std::stod(beta)), {{"x", x}, {"t", t}});
    }
  }
}

TEST_CASE("a broadcast target gives PyTorch's values and gradients summed back to [3, 1]",
          "[regression_loss]") {
  Fixtures fx("regression_loss.txt");
  for (const auto& [red_name, red] : kReductions) {
    if (red == Reduction::Sum) continue;
    Tensor x = fx["x"].clone().requires_grad_(), t = fx["tb"].clone().requires_grad_();
    Tensor loss = huber_loss(x, t, red, 0.75);
    if (red == Reduction::None) CHECK(loss.shape() == Shape{3, 4});
    check_against(fx, "huber_broadcast_" + red_name, loss, {{"x", x}, {"t", t}});
    Tensor x2 = fx["x"].clone().requires_grad_(), t2 = fx["tb"].clone().requires_grad_();
    check_against(fx, "smooth_l1_broadcast_" + red_name, smooth_l1_loss(x2, t2, red, 0.75),
                  {{"x", x2}, {"t", t2}});
  }
}

TEST_CASE("gradcheck: huber_loss and smooth_l1_loss in input and target", "[regression_loss]") {
  manual_seed(21);
  GradcheckOptions options;
  for (const auto& [red_name, red] : kReductions) {
    INFO("reduction " << red_name);
    // Errors of scale 2 reach both pieces; finite differences step over no kink with
    // overwhelming probability (the kinks are at |d| = delta exactly).
    check_gradients(
        [red = red](const std::vector<Tensor>& in) { return huber_loss(in[0], in[1], red, 0.8); },
        {transposed_leaf({3, 4}, 2.0), strided_leaf({3, 4}, 2.0)}, options);
    check_gradients(
        [red = red](const std::vector<Tensor>& in) {
          return smooth_l1_loss(in[0], in[1], red, 1.3);
        },
        {strided_leaf({2, 5}, 2.0), leaf({2, 5}, 2.0)}, options);
    // Broadcast both ways: input [4, 1] against target [3] -> [4, 3].
    check_gradients(
        [red = red](const std::vector<Tensor>& in) { return huber_loss(in[0], in[1], red, 1.0); },
        {leaf({4, 1}, 2.0), strided_leaf({3}, 2.0)}, options);
    check_gradients(
        [red = red](const std::vector<Tensor>& in) {
          return smooth_l1_loss(in[0], in[1], red, 0.5);
        },
        {transposed_leaf({2, 3}, 2.0), leaf({1, 3}, 2.0)}, options);
  }
}

TEST_CASE("the pieces, the boundaries and the relations between the two losses",
          "[regression_loss]") {
  Tensor x = from_vector(std::vector<double>{0, 0.5, -1, 1, 3, -3}, {6}, kFloat64);
  Tensor t = zeros({6}, kFloat64);
  // huber, delta 1: 0.5 d^2 inside, |d| - 0.5 outside; continuous at |d| = 1.
  CHECK(allclose(huber_loss(x, t, Reduction::None),
                 from_vector(std::vector<double>{0, 0.125, 0.5, 0.5, 2.5, 2.5}, {6}, kFloat64)));
  // huber(delta) = delta * smooth_l1(beta = delta).
  for (double delta : {0.3, 1.0, 2.5})
    CHECK(allclose(huber_loss(x, t, Reduction::None, delta),
                   smooth_l1_loss(x, t, Reduction::None, delta) * delta));
  // smooth_l1 with beta 0 is l1_loss in value; its slope at d = 0 is -1 (PyTorch's d <= -beta).
  CHECK(allclose(smooth_l1_loss(x, t, Reduction::None, 0.0), l1_loss(x, t, Reduction::None)));
  Tensor xl = x.clone().requires_grad_();
  smooth_l1_loss(xl, t, Reduction::Sum, 0.0).backward();
  CHECK(allclose(xl.grad(), from_vector(std::vector<double>{-1, 1, -1, 1, 1, -1}, {6}, kFloat64)));
  // huber's slope is d inside and +-delta outside, the boundary giving delta.
  Tensor xh = x.clone().requires_grad_();
  huber_loss(xh, t, Reduction::Sum, 1.0).backward();
  CHECK(allclose(xh.grad(), from_vector(std::vector<double>{0, 0.5, -1, 1, 1, -1}, {6}, kFloat64)));
  // Mean over the broadcast shape; an empty mean is NaN; float32 works and stays float32.
  CHECK(huber_loss(zeros({2, 1}), ones({3}), Reduction::Mean).item<double>() == 0.5);
  CHECK(std::isnan(huber_loss(zeros({0}), zeros({0})).item<double>()));
  CHECK(std::isnan(smooth_l1_loss(zeros({0}), zeros({0})).item<double>()));
  CHECK(huber_loss(zeros({2}), ones({2}), Reduction::Sum).dtype() == kFloat32);
  // The tape entries are named after PyTorch's.
  Tensor r = x.clone().requires_grad_();
  CHECK(std::string(huber_loss(r, t).grad_fn()->name()) == "HuberLossBackward0");
  CHECK(std::string(smooth_l1_loss(r, t).grad_fn()->name()) == "SmoothL1LossBackward0");
}

TEST_CASE("huber_loss and smooth_l1_loss reject bad shapes, dtypes, delta and beta",
          "[regression_loss]") {
  CHECK_THROWS_WITH(huber_loss(zeros({2, 3}), zeros({3, 2})), Catch::Contains("huber_loss") &&
                                                                  Catch::Contains("[2, 3]") &&
                                                                  Catch::Contains("[3, 2]"));
  CHECK_THROWS_WITH(smooth_l1_loss(zeros({2, 3}), zeros({4})),
                    Catch::Contains("smooth_l1_loss") && Catch::Contains("[4]"));
  CHECK_THROWS_WITH(huber_loss(zeros({2}), zeros({2}, kFloat64)),
                    Catch::Contains("huber_loss") && Catch::Contains("float64"));
  CHECK_THROWS_WITH(smooth_l1_loss(zeros({2}, kInt64), zeros({2}, kInt64)),
                    Catch::Contains("smooth_l1_loss") && Catch::Contains("floating-point"));
  CHECK_THROWS_WITH(huber_loss(zeros({2}), zeros({2}), Reduction::Mean, 0.0),
                    Catch::Contains("huber_loss") && Catch::Contains("delta must be positive"));
  CHECK_THROWS_WITH(huber_loss(zeros({2}), zeros({2}), Reduction::Mean, -1.0),
                    Catch::Contains("delta must be positive, got -1"));
  CHECK_THROWS_WITH(
      smooth_l1_loss(zeros({2}), zeros({2}), Reduction::Mean, -0.5),
      Catch::Contains("smooth_l1_loss") && Catch::Contains("beta must be non-negative"));
  CHECK_THROWS_WITH(huber_loss(Tensor(), zeros({2})), Catch::Contains("input is undefined"));
  CHECK_THROWS_WITH(smooth_l1_loss(zeros({2}), Tensor()), Catch::Contains("target is undefined"));
}
