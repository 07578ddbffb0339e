// margin_ranking_loss (ops/ranking_loss.h): PyTorch values and gradients for every reduction
// (a tie on the hinge included) and a broadcast input, gradchecks on non-contiguous and
// broadcast operands, float32, and the error paths.
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

TEST_CASE("margin_ranking_loss matches PyTorch for every reduction", "[ranking_loss]") {
  Fixtures fx("functional.txt");
  for (const auto& [name, reduction] : std::vector<std::pair<std::string, Reduction>>{
           {"none", kNone}, {"mean", kMean}, {"sum", kSum}}) {
    // A non-contiguous input2 with the same values.
    Tensor x1 = fresh(fx["rank_x1"]), y = fresh(fx["rank_y"]);
    Tensor x2 = fx["rank_x2"].t().contiguous().t().detach().requires_grad_();
    check_against(fx, "rank_" + name, margin_ranking_loss(x1, x2, y, 0.5, reduction),
                  {{"x1", x1}, {"x2", x2}, {"y", y}});
  }
  Tensor b = fresh(fx["rank_b"]), x2 = fresh(fx["rank_x2"]), y = fresh(fx["rank_y"]);
  check_against(fx, "rank_broadcast", margin_ranking_loss(b, x2, y),
                {{"x1", b}, {"x2", x2}, {"y", y}});
}

TEST_CASE("margin_ranking_loss by hand and in float32", "[ranking_loss]") {
  // max(0, -1 (1 - 3) + 0) = 2 and max(0, 1 (2 - 0) + 0) = 2; the tie's hinge is active.
  Tensor x1 = tensor({1.0, 2.0, 5.0}, kFloat32), x2 = tensor({3.0, 0.0, 5.0}, kFloat32);
  Tensor y = tensor({1.0, -1.0, 1.0}, kFloat32);
  Tensor out = margin_ranking_loss(x1, x2, y, 0.0, kNone);
  CHECK(out.dtype() == kFloat32);
  CHECK(allclose(out, tensor({2.0f, 2.0f, 0.0f}), 0, 0));
  CHECK(margin_ranking_loss(x1, x2, y, 1.0).item<float>() == Approx(7.0 / 3.0));
  CHECK(std::isnan(margin_ranking_loss(zeros({0}), zeros({0}), zeros({0})).item<float>()));
}

TEST_CASE("gradcheck: margin_ranking_loss in all three operands", "[ranking_loss]") {
  manual_seed(12);
  for (Reduction reduction : {kNone, kMean, kSum}) {
    check_gradients(
        [reduction](const std::vector<Tensor>& in) {
          return margin_ranking_loss(in[0], in[1], in[2], 0.3, reduction);
        },
        {transposed_leaf({3, 4}), strided_leaf({3, 4}), leaf({3, 4})});
    // Broadcast: [3, 1] and [1, 4] against a [3, 4] target.
    check_gradients(
        [reduction](const std::vector<Tensor>& in) {
          return margin_ranking_loss(in[0], in[1], in[2], 0.1, reduction);
        },
        {leaf({3, 1}), leaf({1, 4}), strided_leaf({3, 4})});
  }
}

TEST_CASE("margin_ranking_loss errors name the op and the shapes", "[ranking_loss]") {
  CHECK_THROWS_WITH(margin_ranking_loss(zeros({3}), zeros({3, 4}), zeros({3, 4})),
                    Catch::Contains("margin_ranking_loss") && Catch::Contains("[3]"));
  CHECK_THROWS_WITH(margin_ranking_loss(zeros({3}), zeros({4}), zeros({3})),
                    Catch::Contains("margin_ranking_loss"));
  CHECK_THROWS_WITH(margin_ranking_loss(zeros({3}, kFloat64), zeros({3}), zeros({3})),
                    Catch::Contains("margin_ranking_loss") && Catch::Contains("float64"));
  CHECK_THROWS_WITH(margin_ranking_loss(zeros({3}, kInt64), zeros({3}, kInt64), zeros({3}, kInt64)),
                    Catch::Contains("margin_ranking_loss") && Catch::Contains("floating-point"));
  CHECK_THROWS_WITH(margin_ranking_loss(Tensor(), zeros({3}), zeros({3})),
                    Catch::Contains("margin_ranking_loss"));
}
