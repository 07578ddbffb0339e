// Multi-head attention (torch.nn.MultiheadAttention; Vaswani et al. 2017, "Attention Is All You
// Need", section 3.2.2):
//
//   MultiHead(Q, K, V) = Concat(head_1, ..., head_H) W_O + b_O
//   head_i = softmax(Q W_Q,i (K W_K,i)ᵀ / sqrt(head_dim) + mask) V W_V,i
//
//   query [L, B, E] (or [B, L, E] with batch_first, or [L, E] unbatched)
//   key   [S, B, kdim]   value [S, B, vdim]   ->   output like query, [.., L, .., E]
//   weights [B, L, S] (averaged over heads) or [B, H, L, S] (per head)
//
// Parameters have PyTorch 1.13's names and layouts, so its state_dict loads unchanged:
//   kdim == vdim == embed_dim:  in_proj_weight [3E, E] (rows: W_Q, W_K, W_V)
//   otherwise:                  q_proj_weight [E, E], k_proj_weight [E, kdim], v_proj_weight
//                               [E, vdim]
//   in_proj_bias [3E] (with bias), out_proj.weight [E, E], out_proj.bias [E]
//   bias_k, bias_v [1, 1, E] (add_bias_kv): one more learned key and value, appended to the
//                             keys/values of every batch entry
// add_zero_attn appends one more all-zero key and value (per head) after those. Masks get a
// column for each appended key (allowed), so the weights are [.., L, S + 1] or [.., L, S + 2].
// Initialization as PyTorch: xavier_uniform_ on the projection weights, zeros for in_proj_bias
// and out_proj.bias, Linear's default for out_proj.weight, xavier_normal_ for bias_k/bias_v.
//
// The attention itself is scaled_dot_product_attention (ops/attention.h): need_weights = false
// lets it take the fused, O(T)-memory kernel. Self-attention with packed weights projects q, k
// and v with ONE GEMM and splits the heads with views.
//
// Masks (PyTorch's MultiheadAttention conventions, the OPPOSITE of the functional SDPA's bool
// attn_mask, converted here):
//   key_padding_mask  [B, S] ([S] unbatched): bool, true = padded key (ignored); or floating,
//                     added to the scores.
//   attn_mask         [L, S] or [B * num_heads, L, S] ([num_heads, L, S] unbatched): bool,
//                     true = NOT allowed to attend; or floating, added to the scores.
//   is_causal         query i attends to keys j <= i only (combines with attn_mask).
// Difference from PyTorch: a query row whose every key is masked gets all-zero weights and a
// zero attention output (so the module outputs out_proj.bias there) with zero gradient;
// PyTorch gives NaN.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <tuple>

#include "core/arg.h"
#include "nn/attention/common.h"
#include "nn/linear.h"
#include "nn/module.h"

namespace minidl::nn {

// Builder-style constructor arguments, as libtorch's: MultiheadAttentionOptions(64,
// 8).dropout(0.1). kdim and vdim default to embed_dim (0 means embed_dim too). batch_first is
// minidl's (PyTorch's Python module has it; libtorch's options do not).
struct MultiheadAttentionOptions {
  MultiheadAttentionOptions(int64_t embed_dim, int64_t num_heads)
      : embed_dim_(embed_dim), num_heads_(num_heads), kdim_(embed_dim), vdim_(embed_dim) {}
  MINIDL_ARG(int64_t, embed_dim);
  MINIDL_ARG(int64_t, num_heads);
  MINIDL_ARG(double, dropout) = 0.0;  // on the attention weights, in training mode
  MINIDL_ARG(bool, bias) = true;
  MINIDL_ARG(bool, add_bias_kv) = false;    // learned bias_k / bias_v appended to keys / values
  MINIDL_ARG(bool, add_zero_attn) = false;  // a zero key / value appended (per head)
  MINIDL_ARG(int64_t, kdim);
  MINIDL_ARG(int64_t, vdim);
  MINIDL_ARG(bool, batch_first) = false;
};

// torch.nn.MultiheadAttention (see the top of this file); the options or PyTorch's arguments.
class MultiheadAttention : public Module {
 public:
  explicit MultiheadAttention(const MultiheadAttentionOptions& options);
  MultiheadAttention(int64_t embed_dim, int64_t num_heads, double dropout = 0.0, bool bias = true,
                     bool add_bias_kv = false, bool add_zero_attn = false, int64_t kdim = 0,
                     int64_t vdim = 0, bool batch_first = false);

  using Module::forward;
  using Module::operator();
  // Returns (output, weights), as libtorch's: `auto [output, weights] = mha->forward(q, k, v);`.
  // weights are undefined unless need_weights.
  std::tuple<Tensor, Tensor> forward(const Tensor& query, const Tensor& key, const Tensor& value,
                                     const Tensor& key_padding_mask = Tensor(),
                                     bool need_weights = true, const Tensor& attn_mask = Tensor(),
                                     bool average_attn_weights = true, bool is_causal = false);
  std::tuple<Tensor, Tensor> operator()(const Tensor& query, const Tensor& key, const Tensor& value,
                                        const Tensor& key_padding_mask = Tensor(),
                                        bool need_weights = true,
                                        const Tensor& attn_mask = Tensor(),
                                        bool average_attn_weights = true, bool is_causal = false) {
    return forward(query, key, value, key_padding_mask, need_weights, attn_mask,
                   average_attn_weights, is_causal);
  }
  void reset_parameters();

  MultiheadAttentionOptions options;
  int64_t embed_dim, num_heads, head_dim, kdim, vdim;
  bool batch_first;
  double dropout;
  // True when kdim == vdim == embed_dim: one packed in_proj_weight.
  bool qkv_same_embed_dim;
  Tensor in_proj_weight;                               // [3E, E], or undefined
  Tensor q_proj_weight, k_proj_weight, v_proj_weight;  // or undefined (packed)
  Tensor in_proj_bias;                                 // [3E], undefined without bias
  Tensor bias_k, bias_v;                               // [1, 1, E] with add_bias_kv
  std::shared_ptr<Linear> out_proj;
};

}  // namespace minidl::nn
