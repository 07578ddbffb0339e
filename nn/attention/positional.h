// Positional encodings added to token embeddings before a Transformer:
//
//   sinusoidal (Vaswani et al. 2017; the PyTorch "Language Modeling with nn.Transformer"
//   tutorial's PositionalEncoding):
//     pe[pos, 2i]   = sin(pos · exp(-2i · ln(10000) / d))    = sin(pos / 10000^(2i/d))
//     pe[pos, 2i+1] = cos(pos · exp(-2i · ln(10000) / d))
//     out = dropout(x + pe[:T])
//   learned (BERT / fairseq style): out = x + weight[0..T), weight [max_len, d] trained
//
//   x [B, T, d] (batch_first) or [T, B, d]  ->  out of x's shape
//
// Odd d: the last column 2i = d - 1 is a sine and has no cosine partner (the tutorial's code fails
// there with a shape mismatch; here the formula above simply stops at column d - 1).
// The table is computed in float64 and then rounded to the buffer's dtype, so a float32 table is
// the correctly rounded value; the tutorial computes in float32 and its entries at large
// positions differ from ours by up to ~pos · 2^-24 (~3e-4 at pos 5000).
#pragma once

#include <memory>
#include <string>

#include "nn/dropout.h"
#include "nn/module.h"

namespace minidl::nn {

// The [max_len, d_model] sinusoidal table above.
Tensor sinusoidal_position_encoding(int64_t max_len, int64_t d_model, DType dtype = kFloat32);

// The tutorial's PositionalEncoding: out = dropout(x + pe[:T]).
// Buffer `pe` (persistent: in state_dict, as in the tutorial) of shape [1, max_len, d_model] when
// batch_first, or the tutorial's [max_len, 1, d_model] otherwise (so the tutorial's state_dict
// loads into a batch_first = false module unchanged). Dropout is the submodule `dropout`.
class SinusoidalPositionalEncoding : public Module {
 public:
  explicit SinusoidalPositionalEncoding(int64_t d_model, int64_t max_len = 5000,
                                        double dropout = 0.1, bool batch_first = true);
  Tensor forward(const Tensor& x) override;
  std::string extra_repr() const override;  // "d_model=16, max_len=5000, batch_first=True"

  int64_t d_model, max_len;
  bool batch_first;
  Tensor pe;
  std::shared_ptr<Dropout> dropout;
};

// Learned absolute positions: out = x + weight[0..T) (broadcast over the batch).
// The parameter is `weight` [max_len, d_model] held directly (the layout of an nn.Embedding of
// positions, as fairseq's LearnedPositionalEmbedding, so its state_dict key is `weight`),
// initialized N(0, 1) like nn.Embedding.
class LearnedPositionalEmbedding : public Module {
 public:
  LearnedPositionalEmbedding(int64_t max_len, int64_t d_model, bool batch_first = true);
  Tensor forward(const Tensor& x) override;
  std::string extra_repr() const override;  // "max_len=512, d_model=16, batch_first=True"
  void reset_parameters();

  int64_t max_len, d_model;
  bool batch_first;
  Tensor weight;
};

}  // namespace minidl::nn
