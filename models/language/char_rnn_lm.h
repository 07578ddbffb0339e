// Tutorial model: the SimpleRNN character language model (Embedding, a tanh nn::RNN, a Dense
// softmax over the characters, as the Keras / PyTorch char-RNN tutorials).
// Dataset: English prose from Debian's fortunes, one token per character
// (models/language/char_lm_task.h).
//
//   e      = Embedding(ids)                                     [B, T, E]
//   h_t    = tanh(W_ih e_t + b_ih + W_hh h_{t-1} + b_hh)         [B, T, H]   (h_0 = 0 per window)
//   logits = Linear(h)                                          [B, T, V]
//
// Sampling carries the hidden state from character to character (one RNN step each), so the
// generated text has an unbounded context.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <utility>

#include "models/language/char_lm_task.h"
#include "nn/embedding.h"
#include "nn/linear.h"
#include "nn/rnn.h"

namespace minidl::models {

// The model above: ids [B, T] -> logits [B, T, vocab_size]; the RNN state carries while sampling.
class CharRNNLanguageModel : public CharLanguageModel {
 public:
  CharRNNLanguageModel(int64_t vocab_size, int64_t embedding_dim = 64, int64_t hidden_size = 512,
                       int64_t num_layers = 1);

  using nn::Module::forward;
  Tensor forward(const Tensor& ids) override { return logits(ids); }
  // ids [B, T] int64 -> logits [B, T, vocab], from a zero state.
  Tensor logits(const Tensor& ids) override;
  // ids [B, T], h0 [L, B, H] or undefined (zeros) -> (logits [B, T, vocab], h_n [L, B, H]).
  std::pair<Tensor, Tensor> forward_state(const Tensor& ids, const Tensor& h0);
  Tensor start_sampling(const std::vector<int64_t>& prompt) override;
  Tensor continue_sampling(int64_t id) override;
  std::string extra_repr() const override;

  int64_t vocab_size, embedding_dim, hidden_size, num_layers;
  std::shared_ptr<nn::Embedding> embedding;
  std::shared_ptr<nn::RNN> rnn;
  std::shared_ptr<nn::Linear> head;  // H -> V

 private:
  Tensor state_;  // the sampling state [L, 1, H]
};

// The configuration of `tools/train --model char-rnn-fortunes`.
CharLMConfig char_rnn_fortunes_config();
std::unique_ptr<Task> make_char_rnn_fortunes_task();

}  // namespace minidl::models
