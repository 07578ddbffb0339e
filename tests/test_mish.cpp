// mish (ops/mish.h), nn::Mish and F::mish: the worked example of docs/internals.md's "Writing a new
// op". PyTorch's values and gradients (tests/fixtures/mish.txt, from tools/fixtures/gen_mish.py)
// in float64 and float32, its second derivative, gradcheck on contiguous, transposed, sliced and
// expanded inputs, gradgradcheck, the node name, the errors and the module's printing.
#include "compat/torch/torch.h"
#include "tests/fixture.h"
#include "tests/test_util.h"

using namespace minidl;
using minidl::testing::allclose;
using minidl::testing::check_against;
using minidl::testing::check_gradients;
using minidl::testing::cos_upstream;
using minidl::testing::Fixtures;
using minidl::testing::fresh;
using minidl::testing::leaf;
using minidl::testing::strided_leaf;
using minidl::testing::transposed_leaf;

TEST_CASE("mish matches PyTorch: values and gradient, both tails and zero", "[mish]") {
  Fixtures fx("mish.txt");
  Tensor x = fresh(fx["x"]);
  Tensor y = mish(x);
  CHECK(std::string(y.grad_fn()->name()) == "MishBackward0");
  check_against(fx, "mish", y, {{"x", x}});
}

TEST_CASE("mish in float32 matches PyTorch's float32", "[mish]") {
  Fixtures fx("mish.txt");
  Tensor x = fresh(fx["x"].to(kFloat32));
  Tensor y = mish(x);
  CHECK(y.dtype() == kFloat32);
  check_against(fx, "mish32", y, {{"x", x}}, 1e-6, 1e-6);
  CHECK(x.grad().dtype() == kFloat32);
}

TEST_CASE("mish's second derivative matches PyTorch (create_graph)", "[mish]") {
  Fixtures fx("mish.txt");
  Tensor x = fresh(fx["x"]);
  Tensor y = mish(x);
  Tensor dx = grad({y}, {x}, {cos_upstream(y.shape())}, true, true)[0];
  REQUIRE(dx.requires_grad());  // the create_graph backward recorded its own tape
  Tensor v = arange(static_cast<double>(x.numel()), kFloat64).sin().reshape(x.shape());
  Tensor ddx = grad({dx}, {x}, {v})[0];
  CHECK(allclose(ddx, fx["mish_ddx"], 1e-10, 1e-12));
}

TEST_CASE("gradcheck: mish on contiguous, transposed, sliced and expanded inputs", "[mish]") {
  manual_seed(14);
  auto f = [](const std::vector<Tensor>& in) { return mish(in[0]); };
  check_gradients(f, {leaf({3, 4}, 3.0)});
  check_gradients(f, {transposed_leaf({3, 4}, 3.0)});  // strides (1, 3)
  check_gradients(f, {strided_leaf({3, 4}, 3.0)});     // every other column of a (3, 8)
  // Expanded: a stride-0 view inside the function, so mish reads each element three times and
  // the gradient of the (1, 4) leaf sums the three rows (the expand's backward).
  check_gradients(
      [](const std::vector<Tensor>& in) {
        return mish(in[0].expand({3, 4}));
      },
      {leaf({1, 4}, 3.0)});
  // A slice taken inside the function: mish sees a view with an offset and a step.
  check_gradients(
      [](const std::vector<Tensor>& in) { return mish(in[0].slice(1, 1, std::nullopt, 2)); },
      {leaf({3, 7}, 3.0)});
}

TEST_CASE("gradgradcheck: mish is twice differentiable", "[mish]") {
  manual_seed(15);
  auto f = [](const std::vector<Tensor>& in) { return mish(in[0]); };
  for (const Tensor& x : {leaf({3, 4}, 3.0), transposed_leaf({2, 5}, 2.0)}) {
    GradcheckResult result = gradgradcheck(f, {x});
    INFO(result.message);
    CHECK(result.ok);
  }
  // The recorded-ops backward (create_graph) and the fused one give the same first derivative.
  Tensor x = leaf({4, 3}, 4.0);
  Tensor r = randn({4, 3}, kFloat64);
  Tensor composed = grad({mish(x)}, {x}, {r}, true, true)[0];
  Tensor fused = grad({mish(x)}, {x}, {r})[0];
  CHECK(allclose(composed, fused, 1e-12, 1e-12));
}

TEST_CASE("mish: errors name the op", "[mish]") {
  CHECK_THROWS_WITH(mish(zeros({2, 3}, kInt64)), Catch::Contains("mish") &&
                                                     Catch::Contains("floating-point") &&
                                                     Catch::Contains("int64"));
  CHECK_THROWS_WITH(mish(zeros({2}, kBool)), Catch::Contains("mish"));
  CHECK_THROWS_WITH(mish(Tensor()), Catch::Contains("mish") && Catch::Contains("undefined"));
  CHECK_THROWS_WITH(nn::Mish()(zeros({2}, kInt64)), Catch::Contains("Mish"));
  // x changed in place between forward and backward: the saved x is stale.
  Tensor a = leaf({3});
  Tensor x = a * 1.0;
  Tensor y = mish(x);
  x.mul_(2.0);
  CHECK_THROWS_WITH(y.sum().backward(),
                    Catch::Contains("MishBackward0") && Catch::Contains("modified by an in-place"));
}

TEST_CASE("nn::Mish, F::mish and torch::nn::Mish: values and printing", "[mish]") {
  Tensor x = tensor({-3.0, -0.5, 0.0, 2.0, 7.0});
  CHECK(allclose(nn::Mish()(x), mish(x), 0, 0));
  CHECK(allclose(nn::functional::mish(x), mish(x), 0, 0));
  CHECK(nn::Mish().to_string() == "Mish()");
  nn::Sequential net(std::make_shared<nn::Linear>(2, 3), std::make_shared<nn::Mish>());
  CHECK(net.to_string() ==
        "Sequential(\n"
        "  (0): Linear(in_features=2, out_features=3, bias=True)\n"
        "  (1): Mish()\n"
        ")");
  torch::nn::Mish handle;
  CHECK(allclose(handle(x), torch::mish(x), 0, 0));
  static_assert(std::is_same_v<torch::nn::MishImpl, nn::Mish>);
}
