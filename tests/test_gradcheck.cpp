// gradcheck (core/gradcheck.cpp) must catch a wrong backward, not just pass right ones.
#include "tests/test_util.h"

using namespace minidl;
using minidl::testing::leaf;

namespace {
// y = x^2 recorded with a deliberately wrong backward (3x instead of 2x).
Tensor wrong_square(const Tensor& x) {
  Tensor y = x.detach() * x.detach();
  if (needs_grad({x})) {
    SavedTensor saved(x);
    record("WrongSquareBackward0", y, {x},
           [saved](const Tensor& g) { return GradList{g * saved.get() * 3.0}; });
  }
  return y;
}
}  // namespace

TEST_CASE("gradcheck passes a correct op and fails a wrong one", "[gradcheck]") {
  manual_seed(0);
  Tensor x = leaf({3, 2});
  GradcheckResult good =
      gradcheck([](const std::vector<Tensor>& in) { return in[0] * in[0]; }, {x});
  CHECK(good.ok);
  CHECK(good.max_abs_error < 1e-6);
  GradcheckResult bad =
      gradcheck([](const std::vector<Tensor>& in) { return wrong_square(in[0]); }, {x});
  CHECK_FALSE(bad.ok);
  CHECK_THAT(bad.message, Catch::Contains("input 0") && Catch::Contains("analytic"));
}

TEST_CASE("gradcheck perturbs non-contiguous inputs through their strides", "[gradcheck]") {
  manual_seed(1);
  Tensor x = randn({4, 3}, kFloat64).t().detach().requires_grad_();
  CHECK_FALSE(x.is_contiguous());
  CHECK(gradcheck([](const std::vector<Tensor>& in) { return (in[0] * in[0]).sum({1}); }, {x}).ok);
}

TEST_CASE("gradcheck rejects inputs it cannot check", "[gradcheck]") {
  Tensor f32 = ones({2}).requires_grad_();
  auto fn = [](const std::vector<Tensor>& in) { return in[0] * 2.0; };
  CHECK_THROWS_WITH(gradcheck(fn, {f32}),
                    Catch::Contains("gradcheck") && Catch::Contains("float64"));
  CHECK_THROWS_WITH(gradcheck(fn, {ones({2}, kFloat64)}),
                    Catch::Contains("no input requires grad"));
  Tensor overlapping = ones({1}, kFloat64).expand({3}).detach().requires_grad_();
  CHECK_THROWS_WITH(gradcheck(fn, {overlapping}), Catch::Contains("overlapping"));
}
