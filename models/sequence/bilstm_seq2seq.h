// Tutorial model: the bidirectional-LSTM encoder-decoder with pack_padded_sequence of the
// PyTorch seq2seq tutorials (a BiLSTM encoder over packed sequences, a bridge to the decoder's
// initial state, an LSTM decoder with Luong "general" attention and attentional hidden state).
// Dataset: CMUdict grapheme-to-phoneme conversion (`bilstm-g2p`; wer, per).
//
// The model, for a source [B, Ts] and target input [B, Tt] (<bos> + target):
//
//   keys, (h_n, c_n) = BiLSTM^L(pack_padded_sequence(Embedding_src(source)))   keys [B, Ts, 2H]
//   h_0 = tanh(W_h [h_n fwd; h_n bwd]),  c_0 = W_c0 [c_n fwd; c_n bwd]           top layer, [B, D]
//   out = LSTM_dec(Embedding_tgt(target_input), (h_0, c_0))                     [B, Tt, D], D = 2H
//   context, a = softmax(out W_a keysᵀ) keys                                    Luong "general"
//   h~ = tanh(W_c [context; out]);  logits = Linear(dropout(h~))                 [B, Tt, V]
//
// As in Luong et al.'s model without input feeding, the decoder's input does not depend on the
// attention, so training runs the decoder as one sequence call and attends for all steps at
// once; decoding runs step by step with the fused LSTM cell.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "models/common/task.h"
#include "models/sequence/seq2seq_model.h"
#include "nn/attention/luong.h"
#include "nn/dropout.h"
#include "nn/embedding.h"
#include "nn/linear.h"
#include "nn/rnn.h"

namespace minidl::models {

// The model's sizes (defaults: the registered task's).
struct BiLSTMSeq2SeqOptions {
  int64_t embedding_dim = 64;
  int64_t hidden_size = 128;  // per encoder direction; the decoder has 2 * hidden_size
  int64_t num_layers = 2;     // encoder layers
  double dropout = 0.2;       // between encoder layers, on embeddings and before the output
};

// The model above: source [B, Ts], lengths, target_in [B, Tt] -> (logits [B, Tt, V], weights
// [B, Tt, Ts]).
class BiLSTMSeq2Seq : public Seq2SeqModel {
 public:
  BiLSTMSeq2Seq(int64_t source_vocab, int64_t target_vocab,
                const BiLSTMSeq2SeqOptions& options = {});

  std::pair<Tensor, Tensor> forward(const Tensor& source, const std::vector<int64_t>& lengths,
                                    const Tensor& target_input) override;
  // State rows: keys [N, Ts, 2H], padding mask, h, c [N, 2H]; shared: the [V, 8H] table of
  // projected target embeddings, W_hh, b_hh of the decoder.
  State start(const Tensor& source, const std::vector<int64_t>& lengths) override;
  std::pair<Tensor, Tensor> step(const Tensor& prev, State& state) override;
  int64_t target_vocab_size() const override { return target_vocab; }
  std::string extra_repr() const override;

  const int64_t source_vocab, target_vocab;
  const BiLSTMSeq2SeqOptions options;
  std::shared_ptr<nn::Embedding> source_embedding, target_embedding;
  std::shared_ptr<nn::LSTM> encoder, decoder;
  std::shared_ptr<nn::Linear> bridge_h, bridge_c;
  std::shared_ptr<nn::LuongAttention> attention;
  std::shared_ptr<nn::LuongAttentionalHidden> attentional;
  std::shared_ptr<nn::Linear> output;
  std::shared_ptr<nn::Dropout> dropout;

 private:
  State encode(const Tensor& source, const std::vector<int64_t>& lengths);
  // logits and weights of decoder outputs [B, (Tt,) D] attending over the state's keys.
  std::pair<Tensor, Tensor> attend_and_predict(const Tensor& decoded, const State& state);
};

// `bilstm-g2p`: the model on CMUdict grapheme-to-phoneme (wer, per), registered in
// models/registry.cpp.
std::unique_ptr<Task> make_bilstm_g2p_task();

}  // namespace minidl::models
