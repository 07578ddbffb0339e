// What every attention encoder-decoder of models/ shares: teacher-forced training through
// forward(), and step-by-step decoding -- greedy search for a batch and beam search for one
// source -- written once here on top of two model-specific functions:
//
//   state = start(source, lengths)            encodes; the decoder's state before <bos>
//   logits, attention = step(prev, state)     one output step for the previous tokens prev [N]
//
// The state holds tensors with one row per sequence (encoder outputs, masks, h, c, ...), which
// beam search reorders with select(), and tensors shared by all rows (e.g. a precomputed table).
//
// Token ids follow nn::Vocab: 0 = <pad>, decoding starts with <bos> = 1 and stops at <eos> = 2.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "core/tensor.h"
#include "nn/embedding.h"
#include "nn/module.h"
#include "nn/rnn.h"

namespace minidl::models {

// The interface above, with greedy and beam decoding built on start() and step().
class Seq2SeqModel : public nn::Module {
 public:
  using nn::Module::Module;

  // The decoder's state: per-row tensors (reordered by select) and shared ones.
  struct State {
    std::vector<Tensor> rows;    // each [N, ...] (one row per sequence) or undefined
    std::vector<Tensor> shared;  // the same for every row
    // The state of the sequences index [M] (int64 row numbers; repeats allowed).
    State select(const Tensor& index) const;
  };

  using nn::Module::forward;
  using nn::Module::operator();
  // Teacher forcing: (logits [B, Tt, V], attention weights [B, Tt, Ts]) for source [B, Ts]
  // (right-padded with 0, lengths[b] >= 1 real tokens) and target_input [B, Tt] (<bos>
  // followed by the target, padded with 0).
  virtual std::pair<Tensor, Tensor> forward(const Tensor& source,
                                            const std::vector<int64_t>& lengths,
                                            const Tensor& target_input) = 0;
  // Encodes source [B, Ts] and returns the decoder's initial state.
  virtual State start(const Tensor& source, const std::vector<int64_t>& lengths) = 0;
  // One decoding step for the previous tokens prev [N]: advances `state` and returns (logits
  // [N, V], attention weights [N, Ts]).
  virtual std::pair<Tensor, Tensor> step(const Tensor& prev, State& state) = 0;
  virtual int64_t target_vocab_size() const = 0;

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

 protected:
  // Checks source [B, Ts] (int64, non-empty) and lengths (B of them, each in [1, Ts]); returns
  // the key padding mask [B, Ts] (true = padded), undefined when no row is padded. Errors name
  // type_name().
  Tensor check_source(const Tensor& source, const std::vector<int64_t>& lengths) const;
  // Checks target_input [B, Tt] against source [B, Ts].
  void check_target(const Tensor& source, const Tensor& target_input) const;
};

// Runs a batch-first `encoder` over embedded [B, Ts, E] whose row b has lengths[b] real steps:
// through a PackedSequence when some row is padded (so each row's final state is taken at its
// own last step and padding never enters the recurrence), directly otherwise. Returns (outputs
// [B, Ts, D*H], contiguous, 0 at padded steps; (h_n, c_n) [L*D, B, H]).
std::pair<Tensor, nn::LSTM::State> run_encoder(nn::LSTM& encoder, const Tensor& embedded,
                                               const std::vector<int64_t>& lengths);

// What a decoding step of a decoder nn::LSTM (layer 0) fed by `embedding` needs, so a step is
// one table lookup and the fused cell: {the [V, 4H] table embedding · W_ih^T + b_ih (the input
// projection of every possible previous token), W_hh [4H, H], b_hh [4H]}.
std::vector<Tensor> lstm_step_weights(const nn::Embedding& embedding, const nn::LSTM& lstm);

// Mean cross-entropy of logits [B, Tt, V] against targets [B, Tt], padding (0) ignored.
Tensor sequence_loss(const Tensor& logits, const Tensor& targets);

}  // namespace minidl::models
