// circular_pad (ops/circular_pad.h): PyTorch values and gradients for 1-d and 2-d padding and a
// cropping (negative) pad, a gradcheck on a non-contiguous input, and the error paths.
#include "tests/fixture.h"
#include "tests/test_util.h"

using namespace minidl;
using minidl::testing::allclose;
using minidl::testing::check_against;
using minidl::testing::check_gradients;
using minidl::testing::Fixtures;
using minidl::testing::fresh;
using minidl::testing::transposed_leaf;

TEST_CASE("circular_pad matches PyTorch", "[circular_pad]") {
  Fixtures fx("functional.txt");
  Tensor x1 = fresh(fx["circ_x1"]);
  Tensor y1 = circular_pad(x1, {2, 1});
  CHECK(y1.shape() == Shape{2, 3, 8});
  check_against(fx, "circ_1d", y1, {{"x", x1}});
  Tensor x2 = fresh(fx["circ_x2"]);
  check_against(fx, "circ_2d", circular_pad(x2, {1, 2, 0, 3}), {{"x", x2}});
  Tensor x3 = fresh(fx["circ_x2"]);
  check_against(fx, "circ_crop", circular_pad(x3, {-1, 2, 1, -1}), {{"x", x3}});
}

TEST_CASE("circular_pad by hand and in float32", "[circular_pad]") {
  Tensor x = arange(4.0, kFloat32).reshape({1, 1, 4});
  CHECK(allclose(circular_pad(x, {1, 2}),
                 tensor({3.0f, 0.0f, 1.0f, 2.0f, 3.0f, 0.0f, 1.0f}).reshape({1, 1, 7}), 0, 0));
  // A pad as large as the dim wraps exactly once.
  CHECK(circular_pad(x, {4, 0}).shape() == Shape{1, 1, 8});
}

TEST_CASE("gradcheck: circular_pad", "[circular_pad]") {
  manual_seed(4);
  check_gradients(
      [](const std::vector<Tensor>& in) {
        return circular_pad(in[0], {2, 1, 1, 1});
      },
      {transposed_leaf({2, 1, 4, 3})});
}

TEST_CASE("circular_pad errors name the op, the pads and the shape", "[circular_pad]") {
  Tensor x = zeros({1, 2, 3});
  CHECK_THROWS_WITH(circular_pad(x, {4, 0}),
                    Catch::Contains("circular_pad") && Catch::Contains("more than once"));
  CHECK_THROWS_WITH(circular_pad(zeros({2, 3}), {1, 1}),
                    Catch::Contains("circular_pad") && Catch::Contains("[2, 3]"));
  CHECK_THROWS_WITH(circular_pad(x, {1, 1, 1}), Catch::Contains("circular_pad"));
  CHECK_THROWS_WITH(circular_pad(x, {-2, -2}),
                    Catch::Contains("circular_pad") && Catch::Contains("crop"));
}
