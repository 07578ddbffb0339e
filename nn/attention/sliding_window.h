// Multi-head sliding-window self-attention (Longformer's local attention, Beltagy et al. 2020):
//
//   [q | k | v] = x W_inᵀ + b_in ,   split into num_heads heads of head_dim = embed_dim / num_heads
//   head_h = sliding_window_attention(q_h, k_h, v_h, window, causal ? 0 : window)
//            (query i attends to keys i - window .. i + window, or i - window .. i when causal)
//   out = concat_h(head_h) W_outᵀ + b_out
//
//   x [B, T, embed_dim] (batch_first) or [T, B, embed_dim], or unbatched [T, embed_dim]
//   -> output of the same shape; weights (need_weights) in the band layout [B, T, W] averaged over
//   heads (or [B, num_heads, T, W]), W = 2 * window + 1 (window + 1 when causal): column c of
//   row i is key i - window + c (see ops/sliding_window_attention.h; band_to_dense() expands it).
//
// Time and memory O(T * window). Parameters are torch.nn.MultiheadAttention's: in_proj_weight
// [3E, E] (xavier_uniform_), in_proj_bias [3E] (zeros), out_proj (Linear, bias zeros), so a
// PyTorch MHA state_dict loads unchanged. Dropout applies to the band weights in training.
#pragma once

#include <memory>
#include <string>

#include "nn/attention/common.h"
#include "nn/linear.h"
#include "nn/module.h"

namespace minidl::nn {

// Multi-head self-attention of each position over +-window neighbours (window before only, causal).
class SlidingWindowAttention : public Module {
 public:
  SlidingWindowAttention(int64_t embed_dim, int64_t num_heads, int64_t window, bool causal = false,
                         double dropout = 0.0, bool bias = true, bool batch_first = true);

  using Module::operator();
  // key_padding_mask: bool [B, T] (or [T] unbatched), true = padded; may be undefined.
  AttentionOutput forward(const Tensor& x, const Tensor& key_padding_mask,
                          bool need_weights = false, bool average_attn_weights = true);
  AttentionOutput operator()(const Tensor& x, const Tensor& key_padding_mask,
                             bool need_weights = false, bool average_attn_weights = true) {
    return forward(x, key_padding_mask, need_weights, average_attn_weights);
  }
  // The output alone, no mask (so the layer composes in Sequential).
  Tensor forward(const Tensor& x) override { return forward(x, Tensor()).output; }
  std::string extra_repr() const override;
  void reset_parameters();

  int64_t embed_dim, num_heads, head_dim, window;
  bool causal;
  double dropout;
  bool batch_first;
  Tensor in_proj_weight, in_proj_bias;  // [3E, E], [3E] (undefined when bias = false)
  std::shared_ptr<Linear> out_proj;
};

}  // namespace minidl::nn
