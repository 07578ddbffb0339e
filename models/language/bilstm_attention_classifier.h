// Tutorial model: "BiLSTMAttentionNER" -- character Embedding, bidirectional LSTM, attention
// pooling over time, Linear -- used as a word classifier (cross-entropy, Adam).
// Dataset: language identification of words from eight Debian word lists
// (models/data/langid_data.h).
//
//   h        = BiLSTM(Dropout(Embedding(ids)))      [B, T, 2H]   (packed: padding never enters)
//   score_t  = vᵀ tanh(W h_t)                        [B, T]       (W: 2H -> A, v: A -> 1)
//   α        = masked_softmax(score, padding)        [B, T]       (0 on padding)
//   logits   = Linear(Dropout(Σ_t α_t h_t))          [B, C]
// The dropout (one probability, both places) regularizes the larger configuration of the task
// (without it the model overfits after ~5 epochs).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "models/language/langid_task.h"
#include "nn/dropout.h"
#include "nn/embedding.h"
#include "nn/linear.h"
#include "nn/rnn.h"

namespace minidl::models {

// The model above: character ids [B, T] and lengths -> (logits [B, C], attention [B, T]).
class BiLSTMAttentionClassifier : public WordClassifier {
 public:
  BiLSTMAttentionClassifier(int64_t vocab_size, int64_t num_classes, int64_t embedding_dim = 64,
                            int64_t hidden_size = 192, int64_t attention_dim = 64,
                            double dropout = 0.3);

  std::pair<Tensor, Tensor> classify(const Tensor& ids,
                                     const std::vector<int64_t>& lengths) override;
  std::string extra_repr() const override;

  int64_t vocab_size, num_classes, embedding_dim, hidden_size, attention_dim;
  double dropout_p;
  std::shared_ptr<nn::Embedding> embedding;
  std::shared_ptr<nn::LSTM> lstm;
  std::shared_ptr<nn::Linear> attention_projection;  // W: 2H -> A
  std::shared_ptr<nn::Linear> attention_vector;      // v: A -> 1 (no bias)
  std::shared_ptr<nn::Linear> classifier;            // 2H -> C
  std::shared_ptr<nn::Dropout> dropout;              // on the embeddings and the pooled vector
};

// The configuration of `tools/train --model bilstm-attention-langid`.
LangIdConfig bilstm_attention_langid_config();
std::unique_ptr<Task> make_bilstm_attention_langid_task();

}  // namespace minidl::models
