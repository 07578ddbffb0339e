// Tutorial model: a small GPT-style causal Transformer language model (token + learned position
// embeddings, pre-norm Transformer blocks with causal fused self-attention and a GELU MLP, a final
// LayerNorm and a linear head; Radford et al. 2018/2019, as in minGPT / nanoGPT).
// Dataset: English prose from Debian's fortunes, one token per character
// (models/language/char_lm_task.h).
//
//   x      = tok_embedding(ids) + pos_embedding(0..T-1)                   [B, T, D]
//   x      = x + SelfAttn(LN1(x), is_causal)   ;   x = x + MLP(LN2(x))    (num_layers times)
//   logits = head(LN(x))                                                  [B, T, V]
//
// The blocks are nn::TransformerEncoderLayer (norm_first, activation "gelu", dropout 0), called
// with is_causal and no mask tensor and need_weights = false, so the attention runs the fused
// FlashAttention kernel (ops/flash_attention.h). Each block is initialized independently;
// embeddings are drawn from N(0, 0.02^2) as GPT-2's.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "models/language/char_lm_task.h"
#include "nn/container.h"
#include "nn/embedding.h"
#include "nn/linear.h"
#include "nn/normalization.h"
#include "nn/transformer.h"

namespace minidl::models {

// The model above: ids [B, T] (T <= context) -> logits [B, T, vocab_size], causal.
class GPTLanguageModel : public CharLanguageModel {
 public:
  GPTLanguageModel(int64_t vocab_size, int64_t context, int64_t d_model = 128, int64_t nhead = 4,
                   int64_t num_layers = 4, int64_t dim_feedforward = 512);

  using nn::Module::forward;
  // ids [B, T] int64, 1 <= T <= context -> logits [B, T, vocab].
  Tensor forward(const Tensor& ids) override { return logits(ids); }
  Tensor logits(const Tensor& ids) override;
  int64_t max_context() const override { return context; }
  std::string extra_repr() const override;

  int64_t vocab_size, context, d_model, nhead, num_layers, dim_feedforward;
  std::shared_ptr<nn::Embedding> tok_embedding, pos_embedding;
  std::shared_ptr<nn::ModuleList> blocks;  // nn::TransformerEncoderLayer each
  std::shared_ptr<nn::LayerNorm> norm;
  std::shared_ptr<nn::Linear> head;  // D -> V
};

// The configuration of `tools/train --model gpt-fortunes`.
CharLMConfig gpt_fortunes_config();
std::unique_ptr<Task> make_gpt_fortunes_task();

}  // namespace minidl::models
