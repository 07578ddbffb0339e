// Tutorial model: the Bahdanau-attention encoder-decoder of the Keras tutorials (Embedding, LSTM
// encoder and decoder, additive attention, Dense softmax; RMSprop, categorical cross-entropy).
// Dataset: date normalization (models/date_data.h: human-written dates -> ISO 8601, generated).
//
// The model, for a source [B, Ts] and a target [B, Tt] of token ids (0 = padding):
//
//   keys, (h, c) = LSTM_enc(Embedding_src(source))       keys [B, Ts, H] (padding excluded)
//   out, _       = LSTM_dec(Embedding_tgt(target_in), (h, c))        out [B, Tt, H]
//   context, w   = BahdanauAttention(query = out, keys = values = keys)  [B, Tt, H], [B, Tt, Ts]
//   logits       = Dense([out; context])                              [B, Tt, V]
//
// With score = "dot" the attention is instead the parameter-free softmax(out keysᵀ) keys of the
// Keras "From Theory to Code" seq2seq (models/dot_attention_seq2seq.h); the rest is the same.
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

#include "models/date_data.h"
#include "models/task.h"
#include "nn/attention/bahdanau.h"
#include "nn/attention/dot_product.h"
#include "nn/data.h"
#include "nn/embedding.h"
#include "nn/linear.h"
#include "nn/module.h"
#include "nn/rnn.h"

namespace minidl::models {

class BahdanauSeq2Seq : public nn::Module {
 public:
  // Token ids follow nn::Vocab: 0 = <pad>, decoding starts with <bos> = 1 and stops at <eos> = 2.
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

  using Module::forward;
  using Module::operator();
  // Teacher forcing: (logits [B, Tt, V], attention weights [B, Tt, Ts]) for target_input [B, Tt]
  // (<bos> followed by the target, padded with 0).
  std::pair<Tensor, Tensor> forward(const Tensor& source, const std::vector<int64_t>& lengths,
                                    const Tensor& target_input);

  // One decoded sequence: its tokens (without <eos>), the attention [tokens, Ts] of each output
  // step (rows sum to 1 over the real source positions) and its log-probability (including
  // <eos> when it was emitted).
  struct Decoded {
    std::vector<int64_t> tokens;
    Tensor attention;
    double log_prob = 0;
  };
  // Greedy decoding of a batch (no tape): at most max_length tokens per row.
  std::vector<Decoded> greedy_decode(const Tensor& source, const std::vector<int64_t>& lengths,
                                     int64_t max_length);
  // Beam search for one source sequence (ids without padding): keeps the beam_width best
  // partial outputs by total log-probability; the result is the best finished one. Width 1 is
  // greedy decoding.
  Decoded beam_search(const std::vector<int64_t>& source, int64_t beam_width, int64_t max_length);

  std::string extra_repr() const override;

  int64_t source_vocab, target_vocab, embedding_dim, hidden_size, attention_units;
  std::string score;
  std::shared_ptr<nn::Embedding> source_embedding, target_embedding;
  std::shared_ptr<nn::LSTM> encoder, decoder;
  std::shared_ptr<nn::BahdanauAttention> attention;        // score "additive"
  std::shared_ptr<nn::DotProductAttention> dot_attention;  // score "dot"
  std::shared_ptr<nn::Linear> output;  // Dense over [decoder output; context] -> target vocab

 private:
  // What a decoding step needs: the decoder's weights and the [V, 4H] table
  // Embedding_tgt · W_ih^T + b_ih (the input projection of every possible previous token).
  struct StepWeights {
    Tensor input_table, w_hh, b_hh;
  };
  StepWeights step_weights();
  // The attention of queries [B, H] or [B, Tt, H] over the encoder's keys.
  nn::AttentionOutput attend(const Tensor& queries, const Encoded& encoded);
  // One decoding step for a batch of previous tokens prev [N]: advances h, c [N, H] and returns
  // (logits [N, V], attention weights [N, Ts]).
  std::pair<Tensor, Tensor> step(const StepWeights& weights, const Encoded& encoded,
                                 const Tensor& prev, Tensor& h, Tensor& c);
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

// The task behind `tools/train --model bahdanau-dates` and `make demo`.
class BahdanauDatesTask : public Task {
 public:
  explicit BahdanauDatesTask(BahdanauDatesConfig config = {});

  void setup(const TaskOptions& options) override;
  nn::Module& model() override { return seq2seq(); }
  TrainDefaults defaults() const override;
  int64_t start_epoch(int64_t epoch, int64_t batch_size) override;
  Tensor batch_loss(int64_t index, int64_t* items) override;
  // exact_match (greedy), char_accuracy, loss (teacher forcing).
  Metrics evaluate(const std::string& split) override;
  Prediction predict(const std::string& input) override { return predict(input, 1); }
  // beam_width 1 = greedy decoding.
  Prediction predict(const std::string& input, int64_t beam_width);
  std::vector<std::string> example_inputs() const override;

  BahdanauSeq2Seq& seq2seq();  // the model (after setup)
  const DateSplits& splits() const { return splits_; }
  const BahdanauDatesConfig& config() const { return config_; }

 private:
  // One encoded example: source ids, target ids (without <bos>/<eos>).
  struct Example {
    std::vector<int64_t> source, target;
  };
  struct Batch {
    Tensor source, target_input, target_output;
    std::vector<int64_t> lengths;
  };
  Batch make_batch(const std::vector<const Example*>& examples) const;
  const std::vector<DatePair>& split(const std::string& name) const;

  BahdanauDatesConfig base_config_, config_;  // as constructed; as used (smoke or not)
  TaskOptions options_;
  DateSplits splits_;
  nn::Vocab source_vocab_, target_vocab_;
  std::vector<Example> train_;
  std::shared_ptr<BahdanauSeq2Seq> model_;
  std::vector<int64_t> order_;
  int64_t batch_size_ = 0;
  int64_t max_target_length_ = 0;
};

std::unique_ptr<Task> make_bahdanau_dates_task();

}  // namespace minidl::models
