// The Show-Attend-Tell captioner (models/captioning/show_attend_tell.h) with both attention
// strategies: shapes of the teacher-forced forward and of greedy decoding, attention rows that
// sum to 1, gradients reaching every parameter, and errors.
#include "core/factories.h"
#include "models/captioning/mosaic_data.h"
#include "models/captioning/show_attend_tell.h"
#include "tests/test_util.h"

using namespace minidl;
using namespace minidl::models;

namespace {

AttentionCaptionerOptions small_options(const std::string& attention) {
  AttentionCaptionerOptions options;
  options.attention = attention;
  options.vocab_size = 7;
  options.image_size = 16;  // a 4x4 grid
  options.channels1 = 3;
  options.channels2 = 4;
  options.channels3 = 4;
  options.feature_dim = 5;
  options.embedding_dim = 4;
  options.hidden_size = 6;
  options.attention_units = 5;
  options.dropout = 0;
  return options;
}

}  // namespace

TEST_CASE("show-attend-tell: shapes and gradient flow for both attentions", "[captioning]") {
  for (const std::string attention : {"additive", "tanh-dot"}) {
    INFO(attention);
    manual_seed(1);
    AttentionCaptioner model(small_options(attention));
    CHECK(model.grid_size() == 4);
    CHECK(model.positions.shape() == Shape({1, 16, 5}));
    const Tensor images = rand({2, 1, 16, 16});
    CHECK(model.encode(images).shape() == Shape({2, 16, 5}));
    const Tensor input = tensor<int64_t>({{1, 3, 4}, {1, 6, 5}});
    auto [logits, weights] = model.forward(images, input);
    REQUIRE(logits.shape() == Shape({2, 3, 7}));
    REQUIRE(weights.shape() == Shape({2, 3, 16}));
    CHECK(testing::allclose(weights.sum({2}), ones({2, 3}), 1e-5, 1e-5));

    cross_entropy(logits.reshape({6, 7}), tensor<int64_t>({3, 4, 2, 6, 5, 2})).backward();
    for (const auto& [name, parameter] : model.named_parameters()) {
      INFO(name);
      REQUIRE(parameter.grad().defined());
      CHECK(parameter.grad().abs().sum().item<double>() > 0);
    }

    // Greedy decoding: at most max_length tokens, one 4x4 attention map per token.
    const std::vector<AttentionCaptioner::Caption> captions = model.greedy_decode(images, 3);
    REQUIRE(captions.size() == 2);
    for (const AttentionCaptioner::Caption& caption : captions) {
      CHECK(caption.tokens.size() <= 3);
      REQUIRE(caption.attention.shape() ==
              Shape({static_cast<int64_t>(caption.tokens.size()), 4, 4}));
      for (int64_t t : caption.tokens) CHECK(t != kCaptionEnd);
    }
    CHECK(model.extra_repr().find("attention=" + attention) == 0);
  }
}

TEST_CASE("show-attend-tell: greedy decoding follows the teacher-forced model", "[captioning]") {
  manual_seed(4);
  AttentionCaptioner model(small_options("additive"));
  model.eval();
  const Tensor images = rand({1, 1, 16, 16});
  const AttentionCaptioner::Caption caption = model.greedy_decode(images, 4)[0];
  REQUIRE(!caption.tokens.empty());
  // Feeding the greedy tokens back with teacher forcing gives the same argmax and attention.
  std::vector<int64_t> input = {kCaptionStart};
  input.insert(input.end(), caption.tokens.begin(), caption.tokens.end() - 1);
  const int64_t n = static_cast<int64_t>(input.size());
  auto [logits, weights] = model.forward(images, from_vector(input, {1, n}, kInt64));
  CHECK(argmax(logits.select(0, 0), 1).to_vector<int64_t>() == caption.tokens);
  CHECK(testing::allclose(weights.select(0, 0).reshape({n, 4, 4}), caption.attention, 1e-5, 1e-6));
}

TEST_CASE("show-attend-tell: errors", "[captioning]") {
  AttentionCaptioner model(small_options("tanh-dot"));
  CHECK_THROWS_WITH(model.encode(rand({2, 1, 28, 28})),
                    Catch::Contains("expected images [B, 1, 16, 16], got [2, 1, 28, 28]"));
  CHECK_THROWS_WITH(model.forward(rand({2, 1, 16, 16}), tensor<int64_t>({{1, 3}})),
                    Catch::Contains("caption_input int64 [B, T] with the images' batch size, got "
                                    "[1, 2]"));
  CHECK_THROWS_WITH(model.greedy_decode(rand({1, 1, 16, 16}), 0),
                    Catch::Contains("max_length must be positive, got 0"));
  AttentionCaptionerOptions bad = small_options("additive");
  bad.image_size = 18;
  CHECK_THROWS_WITH(AttentionCaptioner(bad), Catch::Contains("image_size 18"));
  bad = small_options("additive");
  bad.vocab_size = 3;
  CHECK_THROWS_WITH(AttentionCaptioner(bad), Catch::Contains("vocab_size 3"));
  bad = small_options("luong");
  CHECK_THROWS_WITH(AttentionCaptioner(bad), Catch::Contains("unknown attention \"luong\""));
}
