// interpolate (ops/interpolate.cpp) and the Upsample module (nn/upsample.cpp): PyTorch 1.13's
// values and gradients for nearest (its size shortcuts, 1 / scale_factor index mapping,
// recompute_scale_factor), nearest-exact, linear and bilinear with and without align_corners;
// float64 gradchecks on non-contiguous inputs; every error.
#include "nn/upsample.h"
#include "ops/interpolate.h"
#include "tests/fixture.h"
#include "tests/test_util.h"

using namespace minidl;
using minidl::testing::allclose;
using minidl::testing::check_gradients;
using minidl::testing::cos_upstream;
using minidl::testing::Fixtures;
using minidl::testing::leaf;
using minidl::testing::strided_leaf;
using minidl::testing::transposed_leaf;

namespace {

struct InterpolateCase {
  std::string name;
  std::vector<int64_t> size;
  std::vector<double> scale_factor;
  std::string mode;
  std::optional<bool> align_corners;
  bool recompute_scale_factor;
};

// The cases of tools/fixtures/gen_interpolate.py, argument for argument.
const std::vector<InterpolateCase>& cases() {
  static const std::vector<InterpolateCase> all = {
      {"near_up2", {6, 8}, {}, "nearest", std::nullopt, false},
      {"near_size", {7, 4}, {}, "nearest", std::nullopt, false},
      {"near_scale", {}, {1.7}, "nearest", std::nullopt, false},
      {"near_scale_pair", {}, {2.1, 0.7}, "nearest", std::nullopt, false},
      {"near_recompute", {}, {1.7}, "nearest", std::nullopt, true},
      {"near_exact", {7, 3}, {}, "nearest-exact", std::nullopt, false},
      {"near_1d", {8}, {}, "nearest", std::nullopt, false},
      {"near_1d_scale", {}, {0.55}, "nearest", std::nullopt, false},
      {"bil_size", {5, 7}, {}, "bilinear", false, false},
      {"bil_corners", {7, 5}, {}, "bilinear", true, false},
      {"bil_scale", {}, {1.5}, "bilinear", std::nullopt, false},
      {"bil_scale_pair", {}, {0.6, 2.3}, "bilinear", std::nullopt, false},
      {"bil_corners_scale", {}, {2.5}, "bilinear", true, false},
      {"bil_down", {3, 4}, {}, "bilinear", std::nullopt, false},
      {"bil_one", {1, 2}, {}, "bilinear", true, false},
      {"bil_one_false", {1, 2}, {}, "bilinear", false, false},
      {"lin_size", {9}, {}, "linear", std::nullopt, false},
      {"lin_corners_scale", {}, {1.5}, "linear", true, false},
      {"lin_scale", {}, {0.7}, "linear", std::nullopt, false},
  };
  return all;
}

}  // namespace

TEST_CASE("interpolate matches PyTorch 1.13: nearest, nearest-exact, linear, bilinear",
          "[interpolate]") {
  Fixtures fx("interpolate.txt");
  for (const InterpolateCase& c : cases()) {
    INFO(c.name);
    Tensor x = fixture_leaf(fx, c.name + "_x");
    Tensor out =
        interpolate(x, c.size, c.scale_factor, c.mode, c.align_corners, c.recompute_scale_factor);
    REQUIRE(out.shape() == fx[c.name + "_out"].shape());
    CHECK(allclose(out, fx[c.name + "_out"], 1e-12, 1e-12));
    out.backward(cos_upstream(out.shape()));
    CHECK(allclose(x.grad(), fx[c.name + "_dx"], 1e-12, 1e-12));
  }
}

TEST_CASE("interpolate in float32 picks PyTorch's nearest indices and bilinear values",
          "[interpolate]") {
  Fixtures fx("interpolate.txt");
  Tensor x = fx["f32_x"].to(kFloat32);
  Tensor nearest = interpolate(x, {}, {1.3, 0.45});
  CHECK(nearest.dtype() == kFloat32);
  CHECK(allclose(nearest, fx["f32_near_out"], 0, 0));  // copies: exactly PyTorch's picks
  Tensor bilinear = interpolate(x, {}, {1.3, 0.45}, "bilinear");
  CHECK(allclose(bilinear, fx["f32_bil_out"], 1e-6, 1e-6));
}

TEST_CASE("interpolate: 1 / scale_factor, not in / out, maps the indices", "[interpolate]") {
  // 5 -> floor(5 * 1.7) = 8 columns: with 1 / 1.7 the sources are floor(d / 1.7); with 5 / 8
  // (recompute_scale_factor) they are floor(5 d / 8): the two differ at d = 5 and d = 7.
  Tensor x = arange(5.0, kFloat64).view({1, 1, 5});
  CHECK(interpolate(x, {}, {1.7}).to_vector<double>() ==
        std::vector<double>{0, 0, 1, 1, 2, 2, 3, 4});
  CHECK(interpolate(x, {}, {1.7}, "nearest", std::nullopt, true).to_vector<double>() ==
        std::vector<double>{0, 0, 1, 1, 2, 3, 3, 4});
  // align_corners: the corner samples are kept exactly, the rest spaced evenly.
  Tensor corners = interpolate(x, {9}, {}, "linear", true);
  CHECK(allclose(corners, arange(9.0, kFloat64).view({1, 1, 9}) * 0.5, 1e-15, 1e-15));
}

TEST_CASE("interpolate gradients pass gradcheck, including non-contiguous inputs",
          "[interpolate]") {
  manual_seed(21);
  check_gradients(
      [](const std::vector<Tensor>& in) {
        return interpolate(in[0], {5, 7}, {}, "bilinear");
      },
      {transposed_leaf({2, 2, 4, 3})});
  check_gradients(
      [](const std::vector<Tensor>& in) {
        return interpolate(in[0], {}, {0.6, 1.7}, "bilinear", true);
      },
      {strided_leaf({1, 2, 5, 4})});
  check_gradients([](const std::vector<Tensor>& in) { return interpolate(in[0], {}, {1.7}); },
                  {transposed_leaf({1, 3, 4, 5})});
  check_gradients(
      [](const std::vector<Tensor>& in) {
        return interpolate(in[0], {3, 7}, {}, "nearest-exact");
      },
      {strided_leaf({2, 1, 5, 3})});
  check_gradients(
      [](const std::vector<Tensor>& in) {
        return interpolate(in[0].expand({2, 3, 4}), {7}, {}, "linear");
      },
      {leaf({2, 1, 4})});
  check_gradients([](const std::vector<Tensor>& in) { return interpolate(in[0], {3}); },
                  {transposed_leaf({3, 2, 5})});
}

TEST_CASE("interpolate: identity sizes, constants, empty batches, no tape without grad",
          "[interpolate]") {
  manual_seed(22);
  Tensor x = randn({2, 3, 4, 5});
  for (const char* mode : {"nearest", "nearest-exact", "bilinear"})
    CHECK(allclose(interpolate(x, {4, 5}, {}, mode), x, 0, 0));
  // Bilinear weights sum to one: a constant stays constant.
  Tensor c = full({1, 2, 3, 3}, 2.5);
  CHECK(allclose(interpolate(c, {7, 4}, {}, "bilinear"), full({1, 2, 7, 4}, 2.5), 1e-6, 1e-6));
  CHECK(interpolate(zeros({0, 3, 4, 4}), {}, {2.0}).shape() == Shape{0, 3, 8, 8});
  CHECK_FALSE(interpolate(x, {}, {2.0}).requires_grad());
  Tensor l = leaf({1, 1, 2, 2});
  Tensor y = interpolate(l, {4, 4}, {}, "bilinear");
  CHECK(std::string(y.grad_fn()->name()) == "UpsampleBilinear2DBackward1");
  // Upsampling by 2 in nearest mode sends each input its 2x2 block of gradients.
  interpolate(l, {}, {2.0}).sum().backward();
  CHECK(allclose(l.grad(), full({1, 1, 2, 2}, 4.0, kFloat64), 0, 0));
}

TEST_CASE("interpolate errors name the op and the values at fault", "[interpolate]") {
  using Catch::Contains;
  Tensor x = zeros({1, 1, 2, 2});
  CHECK_THROWS_WITH(interpolate(x, {}, {}), Contains("interpolate") && Contains("either size"));
  CHECK_THROWS_WITH(interpolate(x, {3}, {2.0}), Contains("only one of size or scale_factor"));
  CHECK_THROWS_WITH(interpolate(x, {0}), Contains("greater than 0") && Contains("(0, 0)"));
  CHECK_THROWS_WITH(interpolate(x, {}, {0.2}), Contains("greater than 0"));
  CHECK_THROWS_WITH(interpolate(x, {}, {-2.0}), Contains("scale_factor must be positive"));
  CHECK_THROWS_WITH(interpolate(x, {2, 3, 4}),
                    Contains("same number of spatial dimensions") && Contains("(2, 3, 4)"));
  CHECK_THROWS_WITH(interpolate(x, {}, {2.0}, "nearest", true),
                    Contains("align_corners option can only be set"));
  CHECK_THROWS_WITH(interpolate(x, {}, {2.0}, "linear"),
                    Contains("interpolate") && Contains("[1, 1, 2, 2]") &&
                        Contains("linear mode needs 3-D input"));
  CHECK_THROWS_WITH(interpolate(zeros({1, 1, 3}), {}, {2.0}, "bilinear"),
                    Contains("bilinear mode needs 4-D input"));
  CHECK_THROWS_WITH(interpolate(x, {}, {2.0}, "bicubic"), Contains("'bicubic' is not supported"));
  CHECK_THROWS_WITH(interpolate(zeros({2, 2}), {3}), Contains("interpolate") && Contains("[2, 2]"));
  CHECK_THROWS_WITH(interpolate(zeros({1, 1, 2, 2}, kInt64), {3}), Contains("floating"));
  CHECK_THROWS_WITH(interpolate(zeros({1, 1, 0, 2}), {3}), Contains("greater than 0"));
}

TEST_CASE("Upsample forwards to interpolate and prints like PyTorch", "[interpolate]") {
  manual_seed(23);
  Tensor x = randn({1, 2, 3, 4}, kFloat64);
  nn::Upsample up({}, {2.0});
  CHECK(allclose(up(x), interpolate(x, {}, {2.0}), 0, 0));
  nn::Upsample bilinear({5, 7}, {}, "bilinear", true);
  CHECK(allclose(bilinear(x), interpolate(x, {5, 7}, {}, "bilinear", true), 0, 0));
  CHECK(up.extra_repr() == "scale_factor=2.0, mode=nearest");
  CHECK(bilinear.extra_repr() == "size=(5, 7), mode=bilinear");
  CHECK(nn::Upsample({3}).extra_repr() == "size=3, mode=nearest");
  CHECK(nn::Upsample({}, {2.0, 1.5}, "bilinear")
            .to_string()
            .find("Upsample(scale_factor=(2.0, 1.5), mode=bilinear)") != std::string::npos);
  CHECK(up.parameters().empty());
  // No parameters, so train / eval change nothing.
  up.eval();
  CHECK(allclose(up(x), interpolate(x, {}, {2.0}), 0, 0));
  using Catch::Contains;
  CHECK_THROWS_WITH(nn::Upsample({}, {}), Contains("Upsample") && Contains("exactly one"));
  CHECK_THROWS_WITH(nn::Upsample({2}, {2.0}), Contains("Upsample"));
  CHECK_THROWS_WITH(nn::Upsample({2}, {}, "area"), Contains("Upsample") && Contains("'area'"));
  CHECK_THROWS_WITH(nn::Upsample({2}, {}, "linear")(x), Contains("linear mode needs 3-D"));
}
