// silu, hardtanh and relu6 (ops/activation_extra.h) and their modules (nn/activation.h: SiLU,
// Softplus, Hardtanh, ReLU6): PyTorch values and gradients with inputs exactly on the kinks,
// gradchecks on non-contiguous inputs, float32, printing and errors.
#include "tests/fixture.h"
#include "tests/test_util.h"

using namespace minidl;
using minidl::testing::allclose;
using minidl::testing::check_against;
using minidl::testing::check_gradients;
using minidl::testing::Fixtures;
using minidl::testing::fresh;
using minidl::testing::strided_leaf;
using minidl::testing::transposed_leaf;

TEST_CASE("silu, hardtanh and relu6 match PyTorch, kinks included", "[activation_extra]") {
  Fixtures fx("functional.txt");
  Tensor x = fresh(fx["act_x"]);
  check_against(fx, "silu", silu(x), {{"x", x}});
  // x hits -1 and 1 exactly: PyTorch's gradient there is 0.
  Tensor x2 = fresh(fx["act_x"]);
  check_against(fx, "hardtanh", hardtanh(x2), {{"x", x2}});
  Tensor x3 = fresh(fx["act_x"]);
  check_against(fx, "hardtanh_m2_3", hardtanh(x3, -2.0, 2.5), {{"x", x3}});
  Tensor x4 = fresh(fx["act_x"]);
  check_against(fx, "relu6", relu6(x4), {{"x", x4}});
}

TEST_CASE("silu, hardtanh and relu6 in float32; NaN passes through", "[activation_extra]") {
  Fixtures fx("functional.txt");
  Tensor x = fx["act_x"].to(kFloat32);
  CHECK(silu(x).dtype() == kFloat32);
  CHECK(allclose(silu(x), fx["silu_out"], 1e-6, 1e-6));
  CHECK(allclose(relu6(x), fx["relu6_out"], 0, 0));
  CHECK(std::isnan(hardtanh(tensor({std::nan("")})).item<double>()));
}

TEST_CASE("gradcheck: silu, hardtanh, relu6", "[activation_extra]") {
  manual_seed(3);
  check_gradients([](const std::vector<Tensor>& in) { return silu(in[0]); },
                  {transposed_leaf({3, 4}, 3.0)});
  // Random inputs land on a kink with probability 0.
  check_gradients([](const std::vector<Tensor>& in) { return hardtanh(in[0], -0.5, 0.7); },
                  {strided_leaf({3, 4}, 2.0)});
  check_gradients([](const std::vector<Tensor>& in) { return relu6(in[0]); },
                  {transposed_leaf({3, 4}, 5.0)});
}

TEST_CASE("SiLU, Softplus, Hardtanh and ReLU6 modules: values, printing, errors",
          "[activation_extra]") {
  Tensor x = tensor({-3.0, -0.5, 0.0, 2.0, 7.0});
  CHECK(allclose(nn::SiLU()(x), silu(x), 0, 0));
  CHECK(allclose(nn::Softplus(2.0, 5.0)(x), softplus(x, 2.0, 5.0), 0, 0));
  CHECK(allclose(nn::Hardtanh(-2.0, 1.5)(x), tensor({-2.0, -0.5, 0.0, 1.5, 1.5}), 0, 0));
  CHECK(allclose(nn::ReLU6()(x), tensor({0.0, 0.0, 0.0, 2.0, 6.0}), 0, 0));
  CHECK(nn::SiLU().to_string() == "SiLU()");
  CHECK(nn::Softplus().to_string() == "Softplus(beta=1, threshold=20)");
  CHECK(nn::Softplus(0.5, 10).to_string() == "Softplus(beta=0.5, threshold=10)");
  CHECK(nn::Hardtanh().to_string() == "Hardtanh(min_val=-1.0, max_val=1.0)");
  CHECK(nn::ReLU6().to_string() == "ReLU6()");
  CHECK_THROWS_WITH(nn::Hardtanh(1.0, -1.0), Catch::Contains("Hardtanh"));
  CHECK_THROWS_WITH(hardtanh(x, 2.0, 1.0), Catch::Contains("hardtanh") && Catch::Contains("2"));
  CHECK_THROWS_WITH(nn::SiLU()(zeros({2}, kInt64)), Catch::Contains("SiLU"));
  CHECK_THROWS_WITH(silu(zeros({2}, kInt64)), Catch::Contains("silu"));
  CHECK_THROWS_WITH(relu6(Tensor()), Catch::Contains("relu6"));
}
