// The attention Q-network: a Transformer encoder block over the state's variables. Each of the
// state's variables (CartPole: x, x_dot, theta, theta_dot) is one token, so self-attention lets
// every variable look at the others (the pole's angle at its angular velocity, the cart's
// position at its velocity) before a Linear head reads out one Q-value per action.
//
//   state s [B, V]
//   tokens     t_v = s_v * w_v + e_v                       [B, V, D]   (w: per-variable linear
//              embedding [V, D]; e: variable-identity embedding [V, D], which is also its bias)
//   attention  h = t + MHA(LN(t))                            nn::MultiheadAttention, self
//   FFN        h = h + W2 relu(W1 LN(h))                     pre-norm, as in GPT / ViT
//   pool       p = mean_v h                                  [B, D]
//   Q head     q = W_q p + b_q                               [B, actions]
//
// Pre-norm and no normalisation after the last residual: Q-values grow to 1 / (1 - gamma) = 100
// for CartPole, and an unnormalised residual stream reaches them through the product of the
// FFN's and the head's weights, where a LayerNorm before the head would leave the head's weights
// alone to grow that far (slowly, at Adam's step size).
#pragma once

#include <memory>

#include "nn/attention/multihead.h"
#include "nn/embedding.h"
#include "nn/linear.h"
#include "nn/module.h"
#include "nn/normalization.h"

namespace minidl::models::rl {

// The network's sizes: V = state_dim variables, one Q-value per action.
struct AttentionQNetworkOptions {
  int64_t state_dim = 4, actions = 2;
  int64_t d_model = 32, heads = 4, dim_feedforward = 64;
};

// Q-values, and the attention weights when asked for.
struct QOutput {
  Tensor q;        // [B, actions]
  Tensor weights;  // [B, V, V] attention weights (averaged over heads), or undefined
};

// The network above: states [B, V] -> Q-values [B, actions].
class AttentionQNetwork : public nn::Module {
 public:
  explicit AttentionQNetwork(const AttentionQNetworkOptions& options);
  using Module::operator();
  // states [B, V] -> Q-values [B, actions]
  Tensor forward(const Tensor& states) override;
  // The same, with the attention weights when `need_weights`.
  QOutput forward_with_attention(const Tensor& states, bool need_weights);

  const AttentionQNetworkOptions& options() const { return options_; }

  Tensor value_weight;                                // [V, D] per-variable embedding
  std::shared_ptr<nn::Embedding> variable_embedding;  // [V, D] variable identity
  std::shared_ptr<nn::LayerNorm> attention_norm, feedforward_norm;
  std::shared_ptr<nn::MultiheadAttention> attention;
  std::shared_ptr<nn::Linear> feedforward1, feedforward2, q_head;

 private:
  AttentionQNetworkOptions options_;
  Tensor variable_ids_;  // [V] int64 0..V-1
};

}  // namespace minidl::models::rl
