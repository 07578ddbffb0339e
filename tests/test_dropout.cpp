// dropout: eval / p == 0 / p == 1, determinism under a seed, the kept fraction and scaling, the
// gradient's mask pattern, gradcheck with a fixed generator, and errors.
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
  CHECK(std::string(y.grad_fn()->name) == "DropoutBackward");
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
