// Multi-head self-attention with relative position representations (Shaw, Uszkoreit, Vaswani
// 2018, "Self-Attention with Relative Position Representations"):
//
//   e_ij = q_i·(k_j + a^K_ij) / sqrt(d)        a^K_ij = relative_key[clip(j - i, -k, k) + k]
//   α_ij = softmax_j(e_ij)                     (masked entries excluded)
//   z_i  = Σ_j α_ij (v_j + a^V_ij)             a^V_ij = relative_value[clip(j - i, -k, k) + k]
//
//   per head h, q = x W_q^h + b_q^h etc. (d = head_dim = embed_dim / num_heads); the heads'
//   z are concatenated and go through out_proj, exactly as torch.nn.MultiheadAttention.
//
//   x [B, T, E] (batch_first) or [T, B, E]  ->  output of x's shape, weights [B, T, T] (averaged
//   over heads) or [B, H, T, T] (average_attn_weights = false)
//
// Parameters (PyTorch MultiheadAttention's names and initialization, plus the two tables):
//   in_proj_weight [3E, E] (xavier_uniform_), in_proj_bias [3E] (zeros), out_proj.weight [E, E],
//   out_proj.bias [E] (zeros), relative_key [2k+1, d], relative_value [2k+1, d] (xavier_uniform_;
//   shared by every head, as in the paper).
//
// No [B, H, T, T, d] tensor is formed: the relative logits are (q relative_keyᵀ) [B, H, T, 2k+1]
// read into [B, H, T, T] at the clipped distance, and the relative values are the weights summed
// into [B, H, T, 2k+1] buckets times relative_value (ops/relative_position.h).
#pragma once

#include <memory>
#include <string>

#include "nn/attention/common.h"
#include "nn/linear.h"
#include "nn/module.h"

namespace minidl::nn {

// Multi-head self-attention with clipped relative positions |j - i| <= max_relative_position.
class RelativeMultiheadAttention : public Module {
 public:
  RelativeMultiheadAttention(int64_t embed_dim, int64_t num_heads, int64_t max_relative_position,
                             double dropout = 0.0, bool bias = true, bool batch_first = true);

  // Self-attention of x over itself.
  //   key_padding_mask  bool [B, T], true = padded key (excluded); may be undefined
  //   attn_mask         [T, T] or [B * num_heads, T, T]: bool (true = excluded, as
  //                     torch.nn.MultiheadAttention) or floating (added to the logits, -inf
  //                     excludes); may be undefined
  //   is_causal         query i sees keys j <= i (combined with attn_mask when both are given)
  //   need_weights      return the weights (after dropout, as PyTorch); else weights undefined
  // A query whose every key is excluded gets weights 0 and z = 0 (so its output is out_proj's
  // bias), with zero gradient through its weights -- never NaN.
  // Dropout (training mode, p > 0) is applied to the weights used for both Σ α v and Σ α a^V.
  using Module::forward;
  using Module::operator();
  // x [B, T, E] (batch_first) or [T, B, E], masks as above -> {output of x's shape, weights
  // [B, T, T] averaged over heads or [B, num_heads, T, T]}.
  AttentionOutput forward(const Tensor& x, const Tensor& key_padding_mask,
                          const Tensor& attn_mask = Tensor(), bool is_causal = false,
                          bool need_weights = true, bool average_attn_weights = true);
  AttentionOutput operator()(const Tensor& x, const Tensor& key_padding_mask,
                             const Tensor& attn_mask = Tensor(), bool is_causal = false,
                             bool need_weights = true, bool average_attn_weights = true) {
    return forward(x, key_padding_mask, attn_mask, is_causal, need_weights, average_attn_weights);
  }
  // The output alone, without masks (for Sequential): forward(x, Tensor()).output.
  Tensor forward(const Tensor& x) override;

  // "embed_dim=8, num_heads=2, max_relative_position=4, dropout=0.0, bias=True, batch_first=True"
  std::string extra_repr() const override;
  void reset_parameters();

  int64_t embed_dim, num_heads, head_dim, max_relative_position;
  double dropout;
  bool batch_first;
  Tensor in_proj_weight, in_proj_bias;  // in_proj_bias undefined when bias = false
  Tensor relative_key, relative_value;  // [2k+1, head_dim]
  std::shared_ptr<Linear> out_proj;
};

}  // namespace minidl::nn
