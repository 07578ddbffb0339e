// The attention of a captioning decoder over the encoder's grid of image regions, as a strategy
// the decoder (models/captioning/show_attend_tell.h) is built with -- the two tutorials' models
// differ only here:
//
//   additive   (Show, Attend and Tell; the PyTorch captioning tutorial) nn::BahdanauAttention:
//              score_g = vᵀ tanh(W1 h + W2 f_g),  W1 [A, H], W2 [A, D], v [A]
//   tanh-dot   (the "query through a Linear and tanh" tutorial):
//              q = tanh(W_q h + b_q) [A],  k_g = W_k f_g + b_k [A],  score_g = qᵀ k_g
//
//   then weights = softmax_g(score) and context = Σ_g weights_g f_g (the values are the grid
//   features themselves), for the decoder state h [B, H] and features f [B, G, D]
//     -> context [B, D], weights [B, G]
//
// The key side (W2 f, or W_k f) does not depend on the step, so prepare_keys computes it once
// per image and attend() runs at every step.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "nn/attention/bahdanau.h"
#include "nn/attention/common.h"
#include "nn/linear.h"
#include "nn/module.h"

namespace minidl::models {

// The strategy interface (see above): hidden_size H, feature_dim D, units A.
class GridAttention : public nn::Module {
 public:
  GridAttention(const std::string& type_name, int64_t hidden_size, int64_t feature_dim,
                int64_t units);

  // features [B, G, D] -> the projected keys [B, G, units].
  virtual Tensor prepare_keys(const Tensor& features) = 0;
  // h [B, H], keys from prepare_keys, features [B, G, D] -> {context [B, D], weights [B, G]}.
  virtual nn::AttentionOutput attend(const Tensor& h, const Tensor& keys,
                                     const Tensor& features) = 0;
  std::string extra_repr() const override;  // "hidden_size=128, feature_dim=64, units=64"

  const int64_t hidden_size, feature_dim, units;

 protected:
  // Checks features [B, G, feature_dim] (and h [B, hidden_size], keys [B, G, units] when
  // given); errors name the module.
  void check(const Tensor& features, const Tensor& h = Tensor(),
             const Tensor& keys = Tensor()) const;
};

// score_g = vᵀ tanh(W1 h + W2 f_g), through nn::BahdanauAttention.
class AdditiveGridAttention : public GridAttention {
 public:
  AdditiveGridAttention(int64_t hidden_size, int64_t feature_dim, int64_t units);
  Tensor prepare_keys(const Tensor& features) override;
  nn::AttentionOutput attend(const Tensor& h, const Tensor& keys, const Tensor& features) override;

  std::shared_ptr<nn::BahdanauAttention> additive;
};

// score_g = tanh(W_q h + b_q)ᵀ (W_k f_g + b_k).
class TanhDotGridAttention : public GridAttention {
 public:
  TanhDotGridAttention(int64_t hidden_size, int64_t feature_dim, int64_t units);
  Tensor prepare_keys(const Tensor& features) override;
  nn::AttentionOutput attend(const Tensor& h, const Tensor& keys, const Tensor& features) override;

  std::shared_ptr<nn::Linear> query, key;
};

// "additive" or "tanh-dot" (an unknown name is an error listing both).
std::shared_ptr<GridAttention> make_grid_attention(const std::string& kind, int64_t hidden_size,
                                                   int64_t feature_dim, int64_t units);

}  // namespace minidl::models
