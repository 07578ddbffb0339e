// Multi-head linear attention (Katharopoulos et al. 2020, "Transformers are RNNs"), phi = elu + 1:
//
//   q = query W_qᵀ + b_q ,  k = key W_kᵀ + b_k ,  v = value W_vᵀ + b_v   (split in heads)
//   head_h,i = phi(q_h,i)ᵀ sum_j phi(k_h,j) v_h,jᵀ / (phi(q_h,i)ᵀ sum_j phi(k_h,j) + eps)
//              (j <= i when causal)
//   out = concat_h(head_h) W_outᵀ + b_out
//
//   query [B, T, E], key and value [B, S, E] (batch_first; [T, B, E] otherwise; or unbatched
//   [T, E]) -> output [B, T, E]. Time O(T E head_dim), no [T, S] matrix is formed.
//
// Weights: linear attention has no softmax matrix, so forward returns weights undefined unless
// need_weights: then the equivalent normalized matrix A_ij = phi(q_i).phi(k_j) / (sum_j' ... +
// eps) is materialized (O(T S) memory: for heat maps on small T), [B, T, S] averaged over heads
// or [B, num_heads, T, S]; output = A v per head exactly.
//
// Parameters: Linear submodules q_proj, k_proj, v_proj, out_proj ([E, E] each, PyTorch's Linear
// initialization), as in fairseq's / Hugging Face's attention layers.
#pragma once

#include <memory>
#include <string>

#include "nn/attention/common.h"
#include "nn/linear.h"
#include "nn/module.h"

namespace minidl::nn {

// Multi-head linear attention of embed_dim features in num_heads heads (formula above).
class LinearAttention : public Module {
 public:
  LinearAttention(int64_t embed_dim, int64_t num_heads, bool causal = false, bool bias = true,
                  bool batch_first = true);

  using Module::forward;
  using Module::operator();
  // key_padding_mask: bool [B, S] (or [S] unbatched), true = padded; may be undefined.
  AttentionOutput forward(const Tensor& query, const Tensor& key, const Tensor& value,
                          const Tensor& key_padding_mask = Tensor(), bool need_weights = false,
                          bool average_attn_weights = true);
  AttentionOutput operator()(const Tensor& query, const Tensor& key, const Tensor& value,
                             const Tensor& key_padding_mask = Tensor(), bool need_weights = false,
                             bool average_attn_weights = true) {
    return forward(query, key, value, key_padding_mask, need_weights, average_attn_weights);
  }
  std::string extra_repr() const override;

  int64_t embed_dim, num_heads, head_dim;
  bool causal, batch_first;
  double eps = 1e-6;
  std::shared_ptr<Linear> q_proj, k_proj, v_proj, out_proj;
};

}  // namespace minidl::nn
