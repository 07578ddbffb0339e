// Tutorial model: the Bahdanau-attention encoder-decoder of the Keras tutorials (Embedding, LSTM
// encoder and decoder, additive attention, Dense softmax; RMSprop, categorical cross-entropy).
// Datasets: date normalization (models/data/date_data.h: human-written dates -> ISO 8601,
// generated) and CMUdict grapheme-to-phoneme conversion (models/data/g2p_data.h, `bahdanau-g2p`).
//
// The model, for a source [B, Ts] and a target [B, Tt] of token ids (0 = padding):
//
//   keys, (h, c) = LSTM_enc(Embedding_src(source))       keys [B, Ts, H] (padding excluded)
//   out, _       = LSTM_dec(Embedding_tgt(target_in), (h, c))        out [B, Tt, H]
//   context, w   = BahdanauAttention(query = out, keys = values = keys)  [B, Tt, H], [B, Tt, Ts]
//   logits       = Dense([out; context])                              [B, Tt, V]
//
// With score = "dot" the attention is instead the parameter-free softmax(out keysᵀ) keys of the
// Keras "From Theory to Code" seq2seq (models/sequence/dot_attention_seq2seq.h); the rest is the
// same.
//
// The decoder's input does not depend on the attention (the context joins the decoder's output,
// not its input), so under teacher forcing the whole target runs at once: one LSTM call, one
// batched attention, one output GEMM. Decoding (greedy or beam search) runs step by step with
// the fused LSTM cell on a [V, 4H] table of projected target embeddings.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "models/sequence/seq2seq_model.h"
#include "models/sequence/seq2seq_task.h"
#include "nn/attention/bahdanau.h"
#include "nn/attention/dot_product.h"
#include "nn/embedding.h"
#include "nn/linear.h"
#include "nn/module.h"
#include "nn/rnn.h"

namespace minidl::models {

// The model above: source [B, Ts], lengths, target_in [B, Tt] -> (logits [B, Tt, V], weights
// [B, Tt, Ts]); score "additive" or "dot".
class BahdanauSeq2Seq : public Seq2SeqModel {
 public:
  // score: "additive" (BahdanauAttention with attention_units) or "dot" (DotProductAttention,
  // unscaled, no parameters; attention_units unused).
  BahdanauSeq2Seq(int64_t source_vocab, int64_t target_vocab, int64_t embedding_dim = 32,
                  int64_t hidden_size = 128, int64_t attention_units = 128,
                  const std::string& score = "additive");

  // The encoder's result: keys = values [B, Ts, H], W2(keys) [B, Ts, U] (additive only), the mask
  // [B, Ts] (true = padded; undefined when no row is padded) and the final states h, c [1, B, H].
  struct Encoded {
    Tensor keys, projected_keys, padding_mask, h, c;
  };
  // source [B, Ts] int64, right-padded with 0; lengths[b] = the real length of row b (>= 1).
  Encoded encode(const Tensor& source, const std::vector<int64_t>& lengths);

  std::pair<Tensor, Tensor> forward(const Tensor& source, const std::vector<int64_t>& lengths,
                                    const Tensor& target_input) override;
  // State rows: keys, projected keys, padding mask, h [N, H], c [N, H]; shared: the [V, 4H]
  // table Embedding_tgt · W_ih^T + b_ih (the input projection of every possible previous token),
  // W_hh, b_hh. A step runs the fused LSTM cell, then attends with the new h.
  State start(const Tensor& source, const std::vector<int64_t>& lengths) override;
  std::pair<Tensor, Tensor> step(const Tensor& prev, State& state) override;
  int64_t target_vocab_size() const override { return target_vocab; }

  std::string extra_repr() const override;

  int64_t source_vocab, target_vocab, embedding_dim, hidden_size, attention_units;
  std::string score;
  std::shared_ptr<nn::Embedding> source_embedding, target_embedding;
  std::shared_ptr<nn::LSTM> encoder, decoder;
  std::shared_ptr<nn::BahdanauAttention> attention;        // score "additive"
  std::shared_ptr<nn::DotProductAttention> dot_attention;  // score "dot"
  std::shared_ptr<nn::Linear> output;  // Dense over [decoder output; context] -> target vocab

 private:
  // The attention of queries [B, H] or [B, Tt, H] over keys [B, Ts, H].
  nn::AttentionOutput attend(const Tensor& queries, const Tensor& keys,
                             const Tensor& projected_keys, const Tensor& padding_mask);
};

// The sizes of the date task; make_bahdanau_dates_task() uses the defaults.
struct BahdanauDatesConfig {
  std::string name = "bahdanau-dates";  // the task's name (in errors)
  std::string score = "additive";       // the model's attention: "additive" or "dot"
  std::string optimizer = "rmsprop";
  int64_t train_size = 30000, valid_size = 1000, test_size = 1000;
  int64_t embedding_dim = 32, hidden_size = 64, attention_units = 64;
  // TrainDefaults: about 99.9% exact match on the held-out dates after 2-3 epochs, 100% by 5.
  int64_t epochs = 5, batch_size = 64;
  double lr = 2e-3;
  double clip_grad_norm = 0;
  // The smoke configuration (TaskOptions::smoke): this one's model and data made tiny.
  BahdanauDatesConfig smoke() const;
};

// The task behind `tools/train --model bahdanau-dates` and `make demo`: a Seq2SeqTask on the
// date data with this model (metrics exact_match, token_accuracy, loss).
class BahdanauDatesTask : public Seq2SeqTask {
 public:
  explicit BahdanauDatesTask(BahdanauDatesConfig config = {});
  BahdanauSeq2Seq& bahdanau();  // the model (after setup)
  const BahdanauDatesConfig& dates_config() const { return dates_config_; }

 private:
  BahdanauDatesConfig dates_config_;
};

// `bahdanau-dates`: the model on date normalization (exact_match), registered in
// models/registry.cpp.
std::unique_ptr<Task> make_bahdanau_dates_task();
// The same model on CMUdict grapheme-to-phoneme conversion (wer, per): `bahdanau-g2p`.
std::unique_ptr<Task> make_bahdanau_g2p_task();

}  // namespace minidl::models
