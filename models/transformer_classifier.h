// Tutorial model: the tutorial's TransformerEncoderBlock stack as a word classifier (character
// Embedding + sinusoidal positional encoding, TransformerEncoder, masked mean pooling, Linear).
// Dataset: language identification of words from eight Debian word lists (models/langid_data.h).
//
//   x       = PositionalEncoding(Embedding(ids))                         [B, T, D]
//   h       = TransformerEncoder(x, src_key_padding_mask = padding)      [B, T, D]
//   α       = 1/length on the real characters, 0 on padding              [B, T]
//   logits  = Linear(Σ_t α_t h_t)                                        [B, C]
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "models/langid_task.h"
#include "nn/attention/positional.h"
#include "nn/embedding.h"
#include "nn/linear.h"
#include "nn/transformer.h"

namespace minidl::models {

class TransformerClassifier : public WordClassifier {
 public:
  TransformerClassifier(int64_t vocab_size, int64_t num_classes, int64_t d_model = 64,
                        int64_t nhead = 4, int64_t num_layers = 2, int64_t dim_feedforward = 128,
                        double dropout = 0.1, int64_t max_length = 64);

  // ids [B, T] (T <= max_length); the attention returned is the mean-pooling weights.
  std::pair<Tensor, Tensor> classify(const Tensor& ids,
                                     const std::vector<int64_t>& lengths) override;
  std::string extra_repr() const override;

  int64_t vocab_size, num_classes, d_model, nhead, num_layers, dim_feedforward, max_length;
  std::shared_ptr<nn::Embedding> embedding;
  std::shared_ptr<nn::SinusoidalPositionalEncoding> positional;
  std::shared_ptr<nn::TransformerEncoder> encoder;
  std::shared_ptr<nn::Linear> classifier;  // D -> C
};

// The configuration of `tools/train --model transformer-langid`.
LangIdConfig transformer_langid_config();
std::unique_ptr<Task> make_transformer_langid_task();

}  // namespace minidl::models
