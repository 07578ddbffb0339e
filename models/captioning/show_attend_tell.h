// Tutorial model: Show, Attend and Tell (Xu et al. 2015) as in the PyTorch image-captioning
// tutorial -- a CNN encoder giving a grid of region features, and an LSTMCell decoder that
// attends over the grid at every word. Dataset: mosaics of four Fashion-MNIST images captioned
// by their class names (models/captioning/mosaic_data.h, models/captioning/captioning_task.h).
//
//   images [B, 1, 56, 56]
//   f = CNN(images)                              four conv 3x3 - BatchNorm - ReLU blocks, a 2x2
//                                                max pool after the first two, the last dilated
//                                                by 2: [B, D, 14, 14]
//   f = flatten(f) + positions                   [B, G = 196, D]; learned positions [1, G, D]
//   h_0 = init_h(mean_g f),  c_0 = init_c(mean_g f)            Linear(D, H) each
//   for t = 1..T (teacher forcing: y_0 = <start>, y_t = the reference; greedy: y_t = argmax):
//     context_t, a_t = attention(h_{t-1}, f)     a_t [B, G]: the picture of word t
//     h_t, c_t = LSTMCell([Embedding(y_{t-1}); context_t], (h_{t-1}, c_{t-1}))
//     logits_t = Linear(dropout(h_t))            [B, V]
//
// The attention is a strategy (models/captioning/grid_attention.h): additive (the tutorial's,
// `caption-lstm-attention`) or tanh-dot (`caption-dot-attention`); everything else is shared.
//
// Why the dilated last convolution: each grid cell should see a whole 28x28 image of the mosaic
// when the decoder attends to it (a receptive field of 34 pixels, against 18 without the fourth
// block); with less, the decoder reads a word off part of an image.
//
// Why learned positions: a CNN's features are translation-equivariant, so without them a trouser
// in the top-left quadrant gives the same features as one in the bottom-right (except next to
// the mosaic's border), and "the second word" could not find "the top-right quadrant". The
// tutorial's photos need no such thing; a mosaic read in order does.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "models/captioning/grid_attention.h"
#include "nn/container.h"
#include "nn/dropout.h"
#include "nn/embedding.h"
#include "nn/linear.h"
#include "nn/module.h"
#include "nn/rnn.h"

namespace minidl::models {

// The model's sizes (defaults: the registered tasks').
struct AttentionCaptionerOptions {
  std::string attention = "additive";  // models/captioning/grid_attention.h: additive | tanh-dot
  int64_t vocab_size = 13;             // <pad>, <start>, <end> and the 10 classes
  int64_t image_size = 56;             // square, grey; a multiple of 4 (two 2x2 poolings)
  // The four convolutions' output channels (the last gives the grid features).
  int64_t channels1 = 32, channels2 = 48, channels3 = 64, feature_dim = 96;
  int64_t embedding_dim = 32, hidden_size = 128, attention_units = 64;
  double dropout = 0.1;  // before the output layer
};

// The encoder-decoder above: images [B, 1, S, S] -> word logits and attention maps.
class AttentionCaptioner : public nn::Module {
 public:
  explicit AttentionCaptioner(const AttentionCaptionerOptions& options);

  using nn::Module::forward;
  using nn::Module::operator();
  // images [B, 1, S, S] -> grid features [B, G, D] (positions added).
  Tensor encode(const Tensor& images);
  // Teacher forcing: images [B, 1, S, S], caption_input [B, T] (int64, <start> then the
  // reference) -> (logits [B, T, V], attention weights [B, T, G]).
  std::pair<Tensor, Tensor> forward(const Tensor& images, const Tensor& caption_input);

  // One greedy caption and its attention maps.
  struct Caption {
    std::vector<int64_t> tokens;  // without <end>
    Tensor attention;             // [tokens, grid_h, grid_w]: the weights of each token's step
  };
  // Greedy decoding of a batch (no tape): at most max_length tokens per image, stopping at <end>.
  std::vector<Caption> greedy_decode(const Tensor& images, int64_t max_length);

  int64_t grid_size() const { return options.image_size / 4; }  // grid_h = grid_w
  std::string extra_repr() const override;

  const AttentionCaptionerOptions options;
  std::shared_ptr<nn::Sequential> encoder;
  Tensor positions;  // [1, G, D]
  std::shared_ptr<nn::Embedding> embedding;
  std::shared_ptr<GridAttention> attention;
  std::shared_ptr<nn::Linear> init_h, init_c;
  std::shared_ptr<nn::LSTMCell> cell;
  std::shared_ptr<nn::Linear> output;
  std::shared_ptr<nn::Dropout> dropout;

 private:
  struct DecoderState {
    Tensor features, keys, h, c;
  };
  DecoderState start(const Tensor& images);
  // One step for the previous tokens prev [B]: advances h, c; returns (logits [B, V],
  // attention [B, G]).
  std::pair<Tensor, Tensor> step(const Tensor& prev, DecoderState& state);
};

}  // namespace minidl::models
