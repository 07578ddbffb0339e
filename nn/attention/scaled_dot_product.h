// nn::ScaledDotProductAttention: the module form of scaled_dot_product_attention
// (ops/attention.h), with dropout on the weights while training.
//
//   out = dropout(softmax(q kᵀ / sqrt(E) + mask)) v
//   q [..., Tq, E], k [..., Tk, E], v [..., Tk, Ev]  ->  output [..., Tq, Ev],
//                                                        weights [..., Tq, Tk] (need_weights)
//
// "Attention Is All You Need" (Vaswani et al. 2017), eq. 1; PyTorch 2.x
// F.scaled_dot_product_attention. No parameters.
//
// Masks follow ops/attention.h: attn_mask bool (true = this key TAKES PART, as the functional
// form; nn::MultiheadAttention's true = excluded convention is the opposite) or floating
// (added to the scores), broadcastable to [..., Tq, Tk]; key_padding_mask bool [B, Tk] with
// true = padded; is_causal. A query whose every key is excluded gets weights 0 and output 0.
// need_weights = false lets the fused FlashAttention kernel run (no weights are returned then);
// dropout > 0 in training mode always takes the materialized path.
#pragma once

#include <string>

#include "nn/attention/common.h"
#include "nn/module.h"

namespace minidl::nn {

// Parameter-free scaled dot-product attention; dropout on the weights while training.
class ScaledDotProductAttention : public Module {
 public:
  explicit ScaledDotProductAttention(double dropout = 0.0);

  using Module::forward;
  using Module::operator();
  // q [..., Tq, E], k [..., Tk, E], v [..., Tk, Ev] -> {output [..., Tq, Ev], weights [..., Tq, Tk]
  // or undefined when !need_weights}.
  AttentionOutput forward(const Tensor& query, const Tensor& key, const Tensor& value,
                          const Tensor& attn_mask = Tensor(),
                          const Tensor& key_padding_mask = Tensor(), bool need_weights = true,
                          bool is_causal = false);
  AttentionOutput operator()(const Tensor& query, const Tensor& key, const Tensor& value,
                             const Tensor& attn_mask = Tensor(),
                             const Tensor& key_padding_mask = Tensor(), bool need_weights = true,
                             bool is_causal = false) {
    return forward(query, key, value, attn_mask, key_padding_mask, need_weights, is_causal);
  }
  std::string extra_repr() const override;  // "dropout=0.1"

  double dropout;
};

}  // namespace minidl::nn
