// Tutorial model: the attention decoder of the PyTorch "Translation with a Sequence to Sequence
// Network and Attention" tutorial, with LSTMs: Embedding + multi-layer LSTM encoder; decoder of
// Embedding, LSTMCell, additive attention and Linear, unrolled step by step with teacher forcing.
// Datasets: CMUdict grapheme-to-phoneme (`translation-g2p`) and FreeDict German -> English
// phrase pairs with BLEU (`translation-deu-eng`).
//
// The model, for a source [B, Ts] and target input [B, Tt] (<bos> + target):
//
//   keys, (h_n, c_n) = LSTM_enc^L(Embedding_src(source))      keys [B, Ts, H], L layers, packed
//   h_0, c_0 = h_n[L-1], c_n[L-1]                              the top layer's final state
//   for t = 1..Tt:                                             (the tutorial's AttnDecoderRNN)
//     context_t, a_t = Attention(query = h_{t-1}, keys)        vᵀ tanh(W1 h + W2 k), [B, H]
//     h_t, c_t = LSTMCell([Embedding_tgt(y_{t-1}); context_t], (h_{t-1}, c_{t-1}))
//   logits = Linear(dropout(h_1..Tt))                          [B, Tt, V], one GEMM at the end
//
// Unlike the Bahdanau model of models/sequence/bahdanau_seq2seq.h, the context enters the recurrent
// cell's input, so the decoder cannot run as one sequence call: it is a loop of cell steps. The
// embedding half of the cell's input projection does not depend on the loop, so it is one GEMM
// for all steps (and a [V, 4H] table when decoding); each step adds context · W_ctxᵀ.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "models/common/task.h"
#include "models/sequence/seq2seq_model.h"
#include "nn/attention/bahdanau.h"
#include "nn/dropout.h"
#include "nn/embedding.h"
#include "nn/linear.h"
#include "nn/rnn.h"

namespace minidl::models {

// The model's sizes (defaults: the registered tasks').
struct TranslationSeq2SeqOptions {
  int64_t embedding_dim = 64, hidden_size = 256, num_layers = 2, attention_units = 128;
  double dropout = 0.1;  // between encoder layers, on embeddings and before the output layer
};

// The model above: source [B, Ts], lengths, target_in [B, Tt] -> (logits [B, Tt, V], weights
// [B, Tt, Ts]).
class TranslationSeq2Seq : public Seq2SeqModel {
 public:
  TranslationSeq2Seq(int64_t source_vocab, int64_t target_vocab,
                     const TranslationSeq2SeqOptions& options = {});

  std::pair<Tensor, Tensor> forward(const Tensor& source, const std::vector<int64_t>& lengths,
                                    const Tensor& target_input) override;
  // State rows: keys [N, Ts, H], W2(keys), padding mask, h, c [N, H]; shared: the [V, 4H]
  // table of embedding projections and W_ctx [4H, H] (the context's columns of the cell's W_ih).
  State start(const Tensor& source, const std::vector<int64_t>& lengths) override;
  std::pair<Tensor, Tensor> step(const Tensor& prev, State& state) override;
  int64_t target_vocab_size() const override { return target_vocab; }
  std::string extra_repr() const override;

  const int64_t source_vocab, target_vocab;
  const TranslationSeq2SeqOptions options;
  std::shared_ptr<nn::Embedding> source_embedding, target_embedding;
  std::shared_ptr<nn::LSTM> encoder;
  std::shared_ptr<nn::BahdanauAttention> attention;
  std::shared_ptr<nn::LSTMCell> cell;
  std::shared_ptr<nn::Linear> output;
  std::shared_ptr<nn::Dropout> dropout;

 private:
  // One decoder step from the projected embedding gates_embedding [N, 4H]: attends with h,
  // adds context · w_contextᵀ, advances h and c and returns the attention [N, Ts].
  Tensor advance(const Tensor& gates_embedding, const Tensor& w_context, const Tensor& keys,
                 const Tensor& projected_keys, const Tensor& padding_mask, Tensor& h, Tensor& c);
  // W_ctx [4H, H]: the columns of the cell's W_ih that multiply the context (a view).
  Tensor context_weight() const;
  State encode(const Tensor& source, const std::vector<int64_t>& lengths);
};

// `translation-g2p`: CMUdict letters -> phonemes (wer, per).
std::unique_ptr<Task> make_translation_g2p_task();
// `translation-deu-eng`: FreeDict German -> English phrases of at most 12 tokens (BLEU).
std::unique_ptr<Task> make_translation_deu_eng_task();

}  // namespace minidl::models
