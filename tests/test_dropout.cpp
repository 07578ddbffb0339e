// dropout and dropout2d / Dropout2d: eval / p == 0 / p == 1, determinism under a seed, the kept
// fraction and scaling (whole channels for dropout2d), the gradient's mask pattern, gradcheck
// with a fixed generator, and errors.
#include <cmath>

#include "tests/test_util.h"

using namespace minidl;
using minidl::testing::allclose;
using minidl::testing::check_gradients;
using minidl::testing::leaf;
using minidl::testing::strided_leaf;
using minidl::testing::transposed_leaf;

TEST_CASE("dropout in eval mode or with p = 0 returns its input unchanged", "[loss]") {
  Tensor x = leaf({3, 4});
  CHECK(dropout(x, 0.5, /*training=*/false).is_same(x));
  CHECK(dropout(x, 0.0).is_same(x));
}

TEST_CASE("dropout with p = 1 gives zeros and a zero gradient", "[loss]") {
  Tensor x = leaf({3, 4});
  Tensor y = dropout(x, 1.0);
  CHECK(allclose(y, zeros({3, 4}, kFloat64), 0, 0));
  y.sum().backward();
  CHECK(allclose(x.grad(), zeros({3, 4}, kFloat64), 0, 0));
}

TEST_CASE("dropout draws the same mask from the same seed", "[loss]") {
  Tensor x = ones({8, 16});
  manual_seed(123);
  Tensor a = dropout(x, 0.3);
  manual_seed(123);
  Tensor b = dropout(x, 0.3);
  Tensor c = dropout(x, 0.3);  // the generator has moved on
  CHECK(allclose(a, b, 0, 0));
  CHECK_FALSE(allclose(a, c, 0, 0));
  // An explicit generator, and a strided input: the mask follows the logical element order.
  Generator g1(7), g2(7);
  Tensor strided = ones({16, 8}).t();
  CHECK(allclose(dropout(x, 0.3, true, &g1), dropout(strided, 0.3, true, &g2), 0, 0));
}

TEST_CASE("dropout keeps about 1 - p of the elements and scales them by 1 / (1 - p)", "[loss]") {
  manual_seed(5);
  const double p = 0.3;
  Tensor x = rand({200, 500}) + 0.5;  // 100000 elements, none zero
  Tensor y = dropout(x, p);
  std::vector<float> vx = x.to_vector<float>(), vy = y.to_vector<float>();
  int64_t kept = 0;
  bool exact = true;
  for (size_t i = 0; i < vx.size(); ++i) {
    if (vy[i] == 0.0f) continue;
    ++kept;
    exact = exact && vy[i] == vx[i] * static_cast<float>(1.0 / (1.0 - p));
  }
  double fraction = static_cast<double>(kept) / static_cast<double>(vx.size());
  // The standard deviation of the fraction is sqrt(p (1 - p) / n) ~ 0.0015.
  CHECK(fraction == Approx(1.0 - p).margin(0.01));
  CHECK(exact);
}

TEST_CASE("dropout's gradient is the mask scaled by 1 / (1 - p)", "[loss]") {
  manual_seed(6);
  const double p = 0.4;
  Tensor x = transposed_leaf({6, 7});
  Tensor y = dropout(x, p);
  CHECK(std::string(y.grad_fn()->name()) == "DropoutBackward0");
  y.sum().backward();
  std::vector<double> vx = x.detach().to_vector<double>(), vy = y.detach().to_vector<double>();
  std::vector<double> g = x.grad().to_vector<double>();
  for (size_t i = 0; i < g.size(); ++i) {
    INFO("element " << i);
    if (vy[i] == 0.0) {
      CHECK(g[i] == 0.0);
    } else {
      CHECK(g[i] == Approx(1.0 / (1.0 - p)));
      CHECK(vy[i] == Approx(vx[i] / (1.0 - p)));
    }
  }
}

TEST_CASE("gradcheck: dropout with a re-seeded generator", "[loss]") {
  manual_seed(7);
  for (Tensor x : {leaf({4, 5}), transposed_leaf({3, 6}), strided_leaf({2, 3, 4})}) {
    INFO(shape_str(x.shape()));
    check_gradients(
        [](const std::vector<Tensor>& in) {
          Generator gen(42);  // every evaluation draws the same mask
          return dropout(in[0], 0.35, true, &gen);
        },
        {x});
  }
}

TEST_CASE("dropout rejects p outside [0, 1] and non-floating tensors", "[loss]") {
  CHECK_THROWS_WITH(dropout(ones({2}), 1.5), Catch::Contains("dropout") && Catch::Contains("1.5"));
  CHECK_THROWS_WITH(dropout(ones({2}), -0.1, false),
                    Catch::Contains("dropout") && Catch::Contains("-0.1"));
  CHECK_THROWS_WITH(dropout(ones({2, 3}, kInt64), 0.5), Catch::Contains("dropout") &&
                                                            Catch::Contains("int64") &&
                                                            Catch::Contains("[2, 3]"));
}

// ---------------------------------------------------------------- dropout2d, Dropout2d

namespace {

// Whether every [H, W] plane of y ([N, C, H, W] or [C, H, W], from x with no zeros) is either all
// zero or exactly x's plane times `scale`; counts the zeroed planes.
bool planes_dropped_whole(const Tensor& x, const Tensor& y, double scale, int64_t& zeroed) {
  const int64_t plane = x.size(-1) * x.size(-2);
  std::vector<double> vx = x.to_vector<double>(), vy = y.to_vector<double>();
  zeroed = 0;
  for (size_t start = 0; start < vx.size(); start += static_cast<size_t>(plane)) {
    const bool zero = vy[start] == 0.0;
    zeroed += zero ? 1 : 0;
    for (size_t i = start; i < start + static_cast<size_t>(plane); ++i)
      if (vy[i] != (zero ? 0.0 : vx[i] * scale)) return false;
  }
  return true;
}

}  // namespace

TEST_CASE("dropout2d zeroes whole channels and scales the others by 1 / (1 - p)", "[dropout2d]") {
  manual_seed(31);
  const double p = 0.4;
  Tensor x = rand({40, 50, 3, 2}, kFloat64) + 0.5;  // 2000 channels, no zeros
  Tensor y = dropout2d(x, p);
  int64_t zeroed = 0;
  CHECK(planes_dropped_whole(x, y, 1.0 / (1.0 - p), zeroed));
  // sd of the fraction: sqrt(p (1 - p) / 2000) ~ 0.011
  CHECK(static_cast<double>(zeroed) / 2000.0 == Approx(p).margin(0.05));
  // Unbatched [C, H, W]: the channels are the planes of dim 0.
  Tensor u = rand({300, 2, 4}, kFloat64) + 0.5;
  Tensor v = dropout2d(u, 0.5);
  CHECK(v.shape() == u.shape());
  CHECK(planes_dropped_whole(u, v, 2.0, zeroed));
  CHECK(zeroed > 100);
  CHECK(zeroed < 200);
  // A non-contiguous float32 input: the mask follows the logical (n, c) order.
  Tensor t = (rand({2, 6, 3, 5}) + 0.5).transpose(2, 3);
  Tensor ty = dropout2d(t, 0.5);
  CHECK(ty.dtype() == kFloat32);
  CHECK(planes_dropped_whole(t.contiguous(), ty, 2.0, zeroed));
}

TEST_CASE("dropout2d: eval mode and p = 0 are the identity, p = 1 gives zeros", "[dropout2d]") {
  Tensor x = leaf({2, 3, 2, 2});
  CHECK(dropout2d(x, 0.5, /*training=*/false).is_same(x));
  CHECK(dropout2d(x, 0.0).is_same(x));
  Tensor y = dropout2d(x, 1.0);
  CHECK(allclose(y, zeros({2, 3, 2, 2}, kFloat64), 0, 0));
  y.sum().backward();
  CHECK(allclose(x.grad(), zeros({2, 3, 2, 2}, kFloat64), 0, 0));
}

TEST_CASE("dropout2d draws the same channels from the same seed or generator", "[dropout2d]") {
  Tensor x = ones({4, 8, 2, 3});
  manual_seed(99);
  Tensor a = dropout2d(x, 0.3);
  manual_seed(99);
  Tensor b = dropout2d(x, 0.3);
  Tensor c = dropout2d(x, 0.3);
  CHECK(allclose(a, b, 0, 0));
  CHECK_FALSE(allclose(a, c, 0, 0));
  // An explicit generator, and a default generator swapped in by a GeneratorGuard.
  Generator g1(5), g2(5);
  Tensor d = dropout2d(x, 0.3, true, &g1);
  {
    GeneratorGuard guard(g2);
    CHECK(allclose(dropout2d(x, 0.3), d, 0, 0));
  }
  // One draw per channel: 32 draws, so the generators stay in step.
  CHECK(g1.next_u64() == g2.next_u64());
}

TEST_CASE("dropout2d's gradient is the channel mask scaled by 1 / (1 - p)", "[dropout2d]") {
  manual_seed(32);
  Tensor x = transposed_leaf({3, 4, 2, 3});
  Tensor y = dropout2d(x, 0.5);
  y.backward(ones({3, 4, 2, 3}, kFloat64));
  std::vector<double> vy = y.detach().to_vector<double>(), g = x.grad().to_vector<double>();
  const std::vector<double> vx = x.detach().contiguous().to_vector<double>();
  for (size_t i = 0; i < g.size(); ++i) {
    INFO("element " << i);
    const bool kept = vy[i] != 0.0;
    CHECK(g[i] == (kept ? 2.0 : 0.0));
    if (kept) CHECK(vy[i] == Approx(2.0 * vx[i]));
  }
  manual_seed(33);
  for (Tensor in : {leaf({2, 3, 2, 2}), transposed_leaf({3, 2, 3}), strided_leaf({2, 2, 3, 2})}) {
    INFO(shape_str(in.shape()));
    check_gradients(
        [](const std::vector<Tensor>& v) {
          Generator gen(8);  // every evaluation draws the same mask
          return dropout2d(v[0], 0.3, true, &gen);
        },
        {in});
  }
}

TEST_CASE("dropout2d rejects bad p, bad ranks and non-floating tensors", "[dropout2d]") {
  using Catch::Contains;
  CHECK_THROWS_WITH(dropout2d(ones({1, 2, 2, 2}), 1.5), Contains("dropout2d") && Contains("1.5"));
  CHECK_THROWS_WITH(dropout2d(ones({1, 2, 2, 2}), -0.5, false), Contains("-0.5"));
  CHECK_THROWS_WITH(dropout2d(ones({2, 3}), 0.5), Contains("dropout2d") && Contains("[2, 3]"));
  CHECK_THROWS_WITH(dropout2d(ones({1, 2, 3, 4, 5}), 0.5), Contains("[1, 2, 3, 4, 5]"));
  CHECK_THROWS_WITH(dropout2d(ones({1, 2, 2, 2}, kInt64), 0.5),
                    Contains("dropout2d") && Contains("int64"));
  CHECK_THROWS_WITH(nn::Dropout2d(2.0), Contains("Dropout2d") && Contains("2"));
}

TEST_CASE("Dropout2d drops channels in training mode and is the identity in eval mode",
          "[dropout2d]") {
  manual_seed(34);
  nn::Dropout2d drop(0.5);
  CHECK(drop.extra_repr() == "p=0.5, inplace=False");
  CHECK(drop.parameters().empty());
  Tensor x = rand({8, 16, 2, 2}) + 0.5;
  int64_t zeroed = 0;
  CHECK(planes_dropped_whole(x, drop(x), 2.0, zeroed));
  CHECK(zeroed > 20);
  CHECK(zeroed < 108);
  drop.eval();
  CHECK(drop(x).is_same(x));
}
