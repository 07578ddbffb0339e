// nn::init (nn/init.*): the distributions' bounds, means and spreads with statistical
// tolerances, fans and gains as torch computes them, orthogonality, and errors.
#include <cmath>

#include "nn/init.h"
#include "tests/test_util.h"

using namespace minidl;
using minidl::testing::allclose;
namespace init = minidl::nn::init;

namespace {
double max_abs(const Tensor& t) {
  return t.abs().max().item();
}
}  // namespace

TEST_CASE("calculate_gain and fans follow torch", "[nnlayers]") {
  CHECK(init::calculate_gain("linear") == 1.0);
  CHECK(init::calculate_gain("conv2d") == 1.0);
  CHECK(init::calculate_gain("sigmoid") == 1.0);
  CHECK(init::calculate_gain("tanh") == Approx(5.0 / 3.0));
  CHECK(init::calculate_gain("relu") == Approx(std::sqrt(2.0)));
  CHECK(init::calculate_gain("leaky_relu") == Approx(std::sqrt(2.0 / (1 + 0.01 * 0.01))));
  CHECK(init::calculate_gain("leaky_relu", std::sqrt(5.0)) == Approx(std::sqrt(1.0 / 3.0)));
  CHECK(init::calculate_gain("selu") == 0.75);
  CHECK_THROWS_WITH(init::calculate_gain("swish"),
                    Catch::Contains("calculate_gain") && Catch::Contains("swish"));

  CHECK(init::calculate_fan_in_and_fan_out(zeros({4, 3})) == std::pair<int64_t, int64_t>{3, 4});
  CHECK(init::calculate_fan_in_and_fan_out(zeros({8, 2, 3, 3})) ==
        std::pair<int64_t, int64_t>{18, 72});
  CHECK_THROWS_WITH(init::calculate_fan_in_and_fan_out(zeros({5})),
                    Catch::Contains("fan") && Catch::Contains("[5]"));
}

TEST_CASE("uniform_, normal_, constant_, zeros_, ones_", "[nnlayers]") {
  manual_seed(21);
  Tensor t = empty({200, 100});
  Tensor same = init::uniform_(t, -2.0, 3.0);
  CHECK(same.is_same(t));
  CHECK(t.min().item() >= -2.0);
  CHECK(t.max().item() < 3.0);
  CHECK(t.min().item() < -1.95);
  CHECK(t.max().item() > 2.95);
  CHECK(t.mean().item() == Approx(0.5).margin(0.05));
  CHECK(t.std().item() == Approx(5.0 / std::sqrt(12.0)).epsilon(0.02));

  init::normal_(t, 1.0, 0.5);
  CHECK(t.mean().item() == Approx(1.0).margin(0.01));
  CHECK(t.std().item() == Approx(0.5).epsilon(0.02));

  // In place on a parameter-like leaf that requires grad (allowed: the fill runs without grad).
  Tensor p = empty({3, 2}, kFloat64).requires_grad_();
  init::constant_(p, 0.25);
  CHECK(allclose(p, full({3, 2}, 0.25, kFloat64), 0, 0));
  CHECK(p.requires_grad());
  CHECK(p.is_leaf());
  init::ones_(p);
  CHECK(allclose(p, ones({3, 2}, kFloat64), 0, 0));
  init::zeros_(p);
  CHECK(allclose(p, zeros({3, 2}, kFloat64), 0, 0));
  // Through a non-contiguous view: only the viewed elements change.
  Tensor base = zeros({4, 4});
  init::ones_(base.t().narrow(0, 0, 2));
  CHECK(base.sum().item() == 8.0);
  CHECK(base.select(1, 3).sum().item() == 0.0);

  CHECK_THROWS_WITH(init::uniform_(zeros({2}, kInt64)),
                    Catch::Contains("uniform_") && Catch::Contains("int64"));
  CHECK_THROWS_WITH(init::normal_(Tensor()),
                    Catch::Contains("normal_") && Catch::Contains("undefined"));
  CHECK_THROWS_WITH(init::uniform_(zeros({2}), 1.0, 0.0), Catch::Contains("uniform_"));
  CHECK_THROWS_WITH(init::normal_(zeros({2}), 0.0, -1.0), Catch::Contains("normal_"));
}

TEST_CASE("xavier_uniform_ and xavier_normal_", "[nnlayers]") {
  manual_seed(22);
  Tensor w = empty({300, 200});
  init::xavier_uniform_(w, 2.0);
  const double a = 2.0 * std::sqrt(6.0 / 500.0);
  CHECK(max_abs(w) <= a);
  CHECK(max_abs(w) > 0.99 * a);
  CHECK(std::fabs(w.mean().item()) < 0.01 * a);
  CHECK(w.std().item() == Approx(a / std::sqrt(3.0)).epsilon(0.02));

  Tensor conv = empty({16, 8, 3, 3});  // fan_in 72, fan_out 144
  init::xavier_normal_(conv);
  const double std = std::sqrt(2.0 / (72 + 144));
  CHECK(conv.std().item() == Approx(std).epsilon(0.05));
  CHECK(std::fabs(conv.mean().item()) < 0.1 * std);
  CHECK_THROWS_WITH(init::xavier_uniform_(zeros({3})), Catch::Contains("[3]"));
}

TEST_CASE("kaiming_uniform_ and kaiming_normal_: gain, mode, nonlinearity", "[nnlayers]") {
  manual_seed(23);
  Tensor w = empty({400, 100});
  init::kaiming_uniform_(w);  // leaky_relu with a = 0: gain sqrt(2), bound sqrt(6 / fan_in)
  double bound = std::sqrt(6.0 / 100.0);
  CHECK(max_abs(w) <= bound);
  CHECK(max_abs(w) > 0.99 * bound);
  CHECK(w.std().item() == Approx(bound / std::sqrt(3.0)).epsilon(0.02));

  init::kaiming_uniform_(w, std::sqrt(5.0));  // Linear's default: 1 / sqrt(fan_in)
  bound = 1.0 / std::sqrt(100.0);
  CHECK(max_abs(w) <= bound);
  CHECK(max_abs(w) > 0.99 * bound);

  init::kaiming_uniform_(w, 0.0, "fan_out", "relu");
  bound = std::sqrt(6.0 / 400.0);
  CHECK(max_abs(w) <= bound);
  CHECK(max_abs(w) > 0.99 * bound);

  init::kaiming_normal_(w, 0.0, "fan_in", "tanh");
  CHECK(w.std().item() == Approx(5.0 / 3.0 / std::sqrt(100.0)).epsilon(0.02));
  CHECK(std::fabs(w.mean().item()) < 0.01);
  init::kaiming_normal_(w, 0.0, "fan_out", "relu");
  CHECK(w.std().item() == Approx(std::sqrt(2.0 / 400.0)).epsilon(0.02));

  Tensor empty_weight = empty({0, 3});
  CHECK(init::kaiming_uniform_(empty_weight).numel() == 0);  // a no-op, as in torch
  CHECK_THROWS_WITH(init::kaiming_uniform_(w, 0.0, "fan_avg"),
                    Catch::Contains("kaiming_uniform_") && Catch::Contains("fan_avg"));
  CHECK_THROWS_WITH(init::kaiming_normal_(w, 0.0, "fan_in", "softsign"),
                    Catch::Contains("softsign"));
  CHECK_THROWS_WITH(init::kaiming_normal_(zeros({7})), Catch::Contains("[7]"));
}

TEST_CASE("orthogonal_ gives orthonormal rows or columns, scaled by gain", "[nnlayers]") {
  manual_seed(24);
  // Tall: orthonormal columns.
  Tensor tall = empty({12, 5}, kFloat64);
  init::orthogonal_(tall);
  CHECK(allclose(tall.t().matmul(tall), eye(5, -1, kFloat64), 0, 1e-12));
  // Wide: orthonormal rows.
  Tensor wide = empty({4, 9});
  init::orthogonal_(wide, 2.0);
  CHECK(allclose(wide.matmul(wide.t()), eye(4) * 4.0, 0, 1e-5));
  // Square float32, and a >2-d tensor viewed as [size(0), rest].
  Tensor square = empty({6, 6});
  init::orthogonal_(square);
  CHECK(allclose(square.matmul(square.t()), eye(6), 0, 1e-5));
  CHECK(allclose(square.t().matmul(square), eye(6), 0, 1e-5));
  Tensor conv = empty({3, 2, 2, 2}, kFloat64);
  init::orthogonal_(conv);
  Tensor rows = conv.reshape({3, 8});
  CHECK(allclose(rows.matmul(rows.t()), eye(3, -1, kFloat64), 0, 1e-12));
  // Not just a permutation: entries are spread out.
  CHECK(max_abs(tall) < 0.999);
  // Two draws differ.
  Tensor again = empty({12, 5}, kFloat64);
  init::orthogonal_(again);
  CHECK_FALSE(allclose(again, tall, 0, 1e-3));
  // Works on a leaf requiring grad (a Parameter).
  Tensor p = empty({5, 5}, kFloat64).requires_grad_();
  init::orthogonal_(p);
  CHECK(allclose(p.detach().matmul(p.detach().t()), eye(5, -1, kFloat64), 0, 1e-12));
  CHECK_THROWS_WITH(init::orthogonal_(zeros({5})),
                    Catch::Contains("orthogonal_") && Catch::Contains("[5]"));
  CHECK(init::orthogonal_(empty({0, 4})).numel() == 0);
}
