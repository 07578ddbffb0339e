// The captioner's attention strategies (models/captioning/grid_attention.h): shapes, weights that
// sum to 1, the tanh-dot formula written out, gradients reaching every parameter, and errors.
#include "core/factories.h"
#include "models/captioning/grid_attention.h"
#include "tests/test_util.h"

using namespace minidl;
using namespace minidl::models;

TEST_CASE("grid attention: shapes, normalised weights and gradient flow", "[captioning]") {
  for (const std::string kind : {"additive", "tanh-dot"}) {
    INFO(kind);
    manual_seed(5);
    std::shared_ptr<GridAttention> attention = make_grid_attention(kind, 7, 5, 6);
    Tensor features = randn({2, 9, 5}).requires_grad_();
    Tensor h = randn({2, 7}).requires_grad_();
    Tensor keys = attention->prepare_keys(features);
    CHECK(keys.shape() == Shape({2, 9, 6}));
    nn::AttentionOutput out = attention->attend(h, keys, features);
    REQUIRE(out.output.shape() == Shape({2, 5}));
    REQUIRE(out.weights.shape() == Shape({2, 9}));
    CHECK(testing::allclose(out.weights.sum({1}), ones({2}), 1e-5, 1e-5));
    CHECK(out.weights.min().item<double>() >= 0);
    // The context is the weighted sum of the features.
    CHECK(
        testing::allclose(out.output, (out.weights.unsqueeze(2) * features).sum({1}), 1e-5, 1e-5));

    (out.output * randn({2, 5})).sum().backward();
    CHECK(features.grad().defined());
    CHECK(h.grad().abs().sum().item<double>() > 0);
    for (const auto& [name, parameter] : attention->named_parameters()) {
      INFO(name);
      REQUIRE(parameter.grad().defined());
      CHECK(parameter.grad().abs().sum().item<double>() > 0);
    }
  }
}

TEST_CASE("grid attention: tanh-dot is softmax(k · tanh(W_q h + b_q))", "[captioning]") {
  manual_seed(2);
  TanhDotGridAttention attention(4, 3, 5);
  Tensor features = randn({2, 6, 3}), h = randn({2, 4});
  nn::AttentionOutput out = attention.attend(h, attention.prepare_keys(features), features);
  const Tensor q = (matmul(h, attention.query->weight.t()) + attention.query->bias).tanh();
  const Tensor k = matmul(features, attention.key->weight.t()) + attention.key->bias;
  const Tensor scores = (k * q.unsqueeze(1)).sum({2});  // [2, 6]
  CHECK(testing::allclose(out.weights, softmax(scores, 1), 1e-5, 1e-6));
  CHECK(attention.extra_repr() == "hidden_size=4, feature_dim=3, units=5");
  // The additive strategy is the Bahdanau layer's score.
  AdditiveGridAttention additive(4, 3, 5);
  nn::AttentionOutput a = additive.attend(h, additive.prepare_keys(features), features);
  CHECK(testing::allclose(a.weights, additive.additive->forward(h, features).weights, 1e-6, 1e-7));
}

TEST_CASE("grid attention: errors name the module and the shapes", "[captioning]") {
  TanhDotGridAttention attention(4, 3, 5);
  Tensor features = randn({2, 6, 3});
  Tensor keys = attention.prepare_keys(features);
  CHECK_THROWS_WITH(attention.prepare_keys(randn({2, 6, 4})),
                    Catch::Contains("TanhDotGridAttention") &&
                        Catch::Contains("expected features [B, G, 3], got [2, 6, 4]"));
  CHECK_THROWS_WITH(attention.attend(randn({2, 5}), keys, features),
                    Catch::Contains("expected the decoder state [2, 4], got [2, 5]"));
  CHECK_THROWS_WITH(attention.attend(randn({2, 4}), keys.narrow(1, 0, 5), features),
                    Catch::Contains("expected keys [2, 6, 5] from prepare_keys, got [2, 5, 5]"));
  AdditiveGridAttention additive(4, 3, 5);
  CHECK_THROWS_WITH(additive.prepare_keys(randn({6, 3})),
                    Catch::Contains("AdditiveGridAttention") && Catch::Contains("got [6, 3]"));
  CHECK_THROWS_WITH(make_grid_attention("general", 4, 3, 5),
                    Catch::Contains("unknown attention \"general\" (expected additive or "
                                    "tanh-dot)"));
  CHECK_THROWS_WITH(TanhDotGridAttention(0, 3, 5), Catch::Contains("sizes must be positive"));
}
