// The multimodal attention model (models/multimodal/multimodal_attention.h): output and attention
// shapes with both modalities and with each alone, padding that changes nothing, gradients that
// reach every parameter of both branches, and shape errors.
#include "core/factories.h"
#include "models/multimodal/multimodal_attention.h"
#include "ops/reduction.h"
#include "tests/test_util.h"

using namespace minidl;
using namespace minidl::models;

namespace {

MultimodalAttentionOptions small(bool text, bool image) {
  MultimodalAttentionOptions o;
  o.vocab_size = 12;
  o.use_text = text;
  o.use_image = image;
  o.embedding_dim = 6;
  o.hidden_size = 8;
  o.channels1 = 3;
  o.channels2 = 5;
  o.d_model = 8;
  o.heads = 2;
  o.dim_feedforward = 16;
  o.dropout = 0.0;
  return o;
}

// Two questions of 4 and 2 tokens, right-padded with 0.
Tensor question_ids() {
  return from_vector(std::vector<int64_t>{5, 6, 7, 8, 9, 4, 0, 0}, {2, 4}, kInt64);
}

}  // namespace

TEST_CASE("multimodal attention: shapes, masks and the ablations", "[multimodal]") {
  manual_seed(1);
  Tensor images = randn({2, 1, 28, 28});
  const std::vector<int64_t> lengths = {4, 2};

  MultimodalAttentionVqa full(small(true, true));
  VqaOutput out = full.answer(images, question_ids(), lengths);
  CHECK(out.logits.shape() == Shape({2, 2}));
  // Question tokens x [4 question tokens; 49 image cells]; rows sum to 1, padded keys get 0.
  REQUIRE(out.attention.shape() == Shape({2, 4, 4 + 49}));
  CHECK(testing::allclose(out.attention.sum({2}), ones({2, 4}), 1e-5, 1e-5));
  CHECK(out.attention.index({1, 0, 2}).item<double>() == 0.0);
  CHECK(out.attention.index({1, 0, 3}).item<double>() == 0.0);
  CHECK(out.attention.narrow(2, 4, 49).sum().item<double>() > 0.0);
  // What is behind the padding does not matter.
  Tensor other_padding = from_vector(std::vector<int64_t>{5, 6, 7, 8, 9, 4, 3, 11}, {2, 4}, kInt64);
  CHECK(testing::allclose(full.answer(images, other_padding, lengths).logits, out.logits, 1e-6,
                          1e-6));
  // The image matters to the full model.
  CHECK_FALSE(testing::allclose(full.answer(images * 2.0, question_ids(), lengths).logits,
                                out.logits, 1e-6, 1e-6));

  MultimodalAttentionVqa text_only(small(true, false));
  CHECK(text_only.conv1 == nullptr);
  VqaOutput text_out = text_only.answer(Tensor(), question_ids(), lengths);
  CHECK(text_out.logits.shape() == Shape({2, 2}));
  CHECK(text_out.attention.shape() == Shape({2, 4, 4}));

  MultimodalAttentionVqa image_only(small(false, true));
  CHECK(image_only.lstm == nullptr);
  VqaOutput image_out = image_only.answer(images, Tensor(), {});
  CHECK(image_out.logits.shape() == Shape({2, 2}));
  CHECK(image_out.attention.shape() == Shape({2, 49, 49}));
  CHECK(image_only.named_parameters().size() < full.named_parameters().size());
}

TEST_CASE("multimodal attention: gradients reach both branches", "[multimodal]") {
  manual_seed(2);
  MultimodalAttentionVqa model(small(true, true));
  VqaOutput out = model.answer(randn({2, 1, 28, 28}), question_ids(), {4, 2});
  (out.logits * randn({2, 2})).sum().backward();
  for (const auto& [name, parameter] : model.named_parameters()) {
    INFO(name);
    REQUIRE(parameter.grad().defined());
    CHECK(parameter.grad().abs().sum().item<double>() > 0.0);
  }
}

TEST_CASE("multimodal attention: errors name the shapes at fault", "[multimodal]") {
  MultimodalAttentionVqa model(small(true, true));
  Tensor images = zeros({2, 1, 28, 28});
  CHECK_THROWS_WITH(model.answer(zeros({2, 1, 32, 32}), question_ids(), {4, 2}),
                    Catch::Contains("expected images [2, 1, 28, 28], got [2, 1, 32, 32]"));
  CHECK_THROWS_WITH(model.answer(zeros({3, 1, 28, 28}), question_ids(), {4, 2}),
                    Catch::Contains("expected images [2, 1, 28, 28], got [3, 1, 28, 28]"));
  CHECK_THROWS_WITH(model.answer(images, question_ids(), {4}),
                    Catch::Contains("expected 2 lengths"));
  CHECK_THROWS_WITH(model.answer(images, question_ids(), {4, 5}),
                    Catch::Contains("length 5 of row 1 is out of range [1, 4]"));
  CHECK_THROWS_WITH(model.answer(images, zeros({2, 4}), {4, 2}),
                    Catch::Contains("ids must be non-empty int64 [B, T]"));
  MultimodalAttentionOptions none = small(false, false);
  CHECK_THROWS_WITH(MultimodalAttentionVqa(none), Catch::Contains("needs the text branch"));
  MultimodalAttentionOptions bad_heads = small(true, true);
  bad_heads.heads = 3;
  CHECK_THROWS_WITH(MultimodalAttentionVqa(bad_heads),
                    Catch::Contains("d_model divisible by heads") && Catch::Contains("heads 3"));
}
