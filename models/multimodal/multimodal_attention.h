// Tutorial model: the multimodal attention model -- an LSTM over the question's tokens, a CNN
// over the image, multi-head attention over both, a classifier -- answering yes/no questions
// about Fashion-MNIST images (models/multimodal/vqa_data.h).
//
//   text   = Linear(LSTM(Embedding(ids)))                   [B, T, D]  (packed: no padding read)
//   image  = Linear(CNN(images) as a 7x7 grid) + positions  [B, 49, D]
//            CNN: conv 3x3 (1->C1)-ReLU-max pool-conv 3x3 (C1->C2)-ReLU-max pool, one token per
//            cell of the final 7x7 feature map (its C2 channels)
//   memory = [text; image]                                  [B, T + 49, D]
//   a, w   = MultiheadAttention(query = text, key = value = memory, padded text keys masked)
//   x      = LayerNorm(text + a);  x = LayerNorm(x + FFN(x))         (a post-norm block)
//   q, c   = means over the real question tokens of the queries (text) and of a   [B, D]
//   logits = Linear(ReLU(Linear([mean of x; BatchNorm(q) * BatchNorm(c)])))   [B, 2] (no, yes)
//
// Why the product of batch-normalised means: the balanced data gives neither modality any signal
// of its own -- the answer is an interaction of question and image -- and a sum of the two leaves
// that interaction to be found from a plateau (the first version, without the product, stayed at
// loss ln 2 for a whole epoch; a product of layer-normalised factors, for 600 steps). The
// product puts it within one linear layer's reach, and centring each factor over the batch
// removes the parts every example shares (the common words "is this ... ?", the average image),
// which would otherwise swamp it: with both, learning starts at once (validation accuracy ~0.85
// after 500 steps).
//
// The question tokens are the queries: each word looks at the other words and at the image
// cells, so w [B, T, T + 49] shows which cells a word like "footwear" reads. The ablations drop
// a modality: without the image, memory = text; without the text, memory = image and the image
// tokens are the queries (there are no words to ask), pooled over the 49 cells.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "nn/attention/multihead.h"
#include "nn/conv.h"
#include "nn/dropout.h"
#include "nn/embedding.h"
#include "nn/linear.h"
#include "nn/module.h"
#include "nn/normalization.h"
#include "nn/pooling.h"
#include "nn/rnn.h"

namespace minidl::models {

// The model's sizes; with the text branch vocab_size must be at least 2 (an error otherwise).
struct MultimodalAttentionOptions {
  int64_t vocab_size = 0;  // question words (id 0 = padding)
  bool use_text = true, use_image = true;
  int64_t embedding_dim = 32, hidden_size = 64;  // the LSTM
  int64_t channels1 = 32, channels2 = 64;        // the CNN
  int64_t d_model = 64, heads = 4, dim_feedforward = 128;
  double dropout = 0.1;
};

// What answer() returns.
struct VqaOutput {
  Tensor logits;     // [B, 2]: no, yes
  Tensor attention;  // [B, queries, keys], averaged over the heads
};

// The model above: (images [B, 1, 28, 28], question ids [B, T]) -> logits [B, 2] and attention.
class MultimodalAttentionVqa : public nn::Module {
 public:
  explicit MultimodalAttentionVqa(const MultimodalAttentionOptions& options);

  // images [B, 1, 28, 28] (normalised; ignored without the image branch), ids [B, T] int64
  // right-padded with 0 with lengths[b] in [1, T] real tokens (ignored without the text branch).
  VqaOutput answer(const Tensor& images, const Tensor& ids, const std::vector<int64_t>& lengths);
  std::string extra_repr() const override;

  const MultimodalAttentionOptions& options() const { return options_; }
  static constexpr int64_t kImageSide = 7, kImageTokens = kImageSide * kImageSide;

  // Text branch (null without it).
  std::shared_ptr<nn::Embedding> embedding;
  std::shared_ptr<nn::LSTM> lstm;
  std::shared_ptr<nn::Linear> text_projection;
  // Image branch (null / undefined without it).
  std::shared_ptr<nn::Conv2d> conv1, conv2;
  std::shared_ptr<nn::MaxPool2d> pool;
  std::shared_ptr<nn::Linear> image_projection;
  Tensor image_positions;  // [1, 49, D]
  // Fusion and classifier.
  std::shared_ptr<nn::MultiheadAttention> attention;
  std::shared_ptr<nn::LayerNorm> norm1, norm2;
  std::shared_ptr<nn::BatchNorm1d> question_norm, context_norm;
  std::shared_ptr<nn::Linear> feedforward1, feedforward2, hidden, classifier;
  std::shared_ptr<nn::Dropout> dropout;

 private:
  Tensor encode_text(const Tensor& ids, const std::vector<int64_t>& lengths);  // [B, T, D]
  Tensor encode_image(const Tensor& images);                                   // [B, 49, D]

  MultimodalAttentionOptions options_;
};

}  // namespace minidl::models
