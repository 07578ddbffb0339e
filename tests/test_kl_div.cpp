// kl_div (ops/kl_div.h): PyTorch values and gradients for every reduction and log_target both
// ways (a zero target included), a broadcast target, gradchecks on non-contiguous and broadcast
// operands, float32, the KLDivReduction tags, and the error paths.
#include "tests/fixture.h"
#include "tests/test_util.h"

using namespace minidl;
using minidl::testing::allclose;
using minidl::testing::check_against;
using minidl::testing::check_gradients;
using minidl::testing::Fixtures;
using minidl::testing::fresh;
using minidl::testing::leaf;
using minidl::testing::strided_leaf;
using minidl::testing::transposed_leaf;

namespace {

const std::vector<std::pair<std::string, KLDivReduction>> kReductions = {
    {"none", kNone}, {"mean", kMean}, {"sum", kSum}, {"batchmean", kBatchMean}};

}  // namespace

TEST_CASE("kl_div matches PyTorch for every reduction and log_target", "[kl_div]") {
  Fixtures fx("functional.txt");
  for (const auto& [name, reduction] : kReductions) {
    Tensor x = fresh(fx["kl_x"]), t = fresh(fx["kl_t"]);
    // t[1, 2] == 0: loss 0 there, dx = -0, dt NaN (as PyTorch's xlogy gradient).
    check_against(fx, "kl_" + name, kl_div(x, t, reduction), {{"x", x}, {"t", t}});
    Tensor x2 = fresh(fx["kl_x"]), lt = fresh(fx["kl_lt"]);
    check_against(fx, "kl_log_" + name, kl_div(x2, lt, reduction, /*log_target=*/true),
                  {{"x", x2}, {"t", lt}});
  }
  Tensor x = fresh(fx["kl_x"]), tb = fresh(fx["kl_tb"]);
  check_against(fx, "kl_broadcast", kl_div(x, tb, kBatchMean), {{"x", x}, {"t", tb}});
}

TEST_CASE("kl_div in float32 agrees with the float64 fixture", "[kl_div]") {
  Fixtures fx("functional.txt");
  Tensor x = fx["kl_x"].to(kFloat32), t = fx["kl_lt"].to(kFloat32);
  Tensor out = kl_div(x, t, kNone, true);
  CHECK(out.dtype() == kFloat32);
  CHECK(allclose(out, fx["kl_log_none_out"], 1e-5, 1e-6));
}

TEST_CASE("gradcheck: kl_div in input and target", "[kl_div]") {
  manual_seed(5);
  for (const auto& [name, reduction] : kReductions) {
    INFO("reduction " << name);
    // Targets in (0.1, 1.1) keep log t smooth; stored transposed, so non-contiguous.
    Tensor t = (rand({4, 3}, kFloat64) + 0.1).transpose(0, 1).detach().requires_grad_();
    check_gradients(
        [r = reduction](const std::vector<Tensor>& in) { return kl_div(in[0], in[1], r); },
        {transposed_leaf({3, 4}), t});
    check_gradients(
        [r = reduction](const std::vector<Tensor>& in) { return kl_div(in[0], in[1], r, true); },
        {strided_leaf({2, 5}), leaf({2, 5})});
    // Broadcast: target [5] against input [2, 5].
    check_gradients(
        [r = reduction](const std::vector<Tensor>& in) { return kl_div(in[0], in[1], r, true); },
        {leaf({2, 5}), strided_leaf({5})});
  }
}

TEST_CASE("kl_div by hand: zero target, 0-d batchmean, empty mean, tags", "[kl_div]") {
  Tensor x = tensor({-1.0, -2.0}), t = tensor({0.0, 0.5});
  // 0.5 (log 0.5 + 2)
  CHECK(kl_div(x, t, kSum).item<double>() == Approx(0.5 * (std::log(0.5) + 2.0)));
  CHECK(kl_div(x, t, kNone).to_vector<double>()[0] == 0.0);
  Tensor scalar = tensor({-1.0}).reshape({}), scalar_t = tensor({0.25}).reshape({});
  CHECK(kl_div(scalar, scalar_t, kBatchMean).item<double>() ==
        Approx(0.25 * (std::log(0.25) + 1.0)));
  CHECK(std::isnan(kl_div(zeros({0, 3}), zeros({0, 3}), kMean).item<double>()));
  CHECK(KLDivReduction(kSum) == KLDivReduction(KLDivReduction::Sum));
  CHECK(KLDivReduction(kMean) != kBatchMean);
  CHECK(std::string(reduction_name(kBatchMean)) == "batchmean");
  CHECK(std::string(reduction_name(kNone)) == "none");
}

TEST_CASE("kl_div errors name the op and the operands", "[kl_div]") {
  CHECK_THROWS_WITH(kl_div(zeros({2, 3}), zeros({2, 4})),
                    Catch::Contains("kl_div") && Catch::Contains("[2, 3]"));
  CHECK_THROWS_WITH(kl_div(zeros({2}, kFloat64), zeros({2}, kFloat32)),
                    Catch::Contains("kl_div") && Catch::Contains("float32"));
  CHECK_THROWS_WITH(kl_div(zeros({2}, kInt64), zeros({2}, kInt64)),
                    Catch::Contains("kl_div") && Catch::Contains("floating-point"));
  CHECK_THROWS_WITH(kl_div(Tensor(), zeros({2})), Catch::Contains("kl_div"));
}
