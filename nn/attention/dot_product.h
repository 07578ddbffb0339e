// Dot-product attention layers of the tutorials:
//
//   DotProductAttention            out = softmax(Q Kᵀ · s) V           no parameters
//                                  (Keras "attention from theory to code" layer; s = 1, or
//                                  1/sqrt(Dk) when scaled)
//   ProjectedDotProductAttention   out = softmax((Q W_qᵀ)(K W_kᵀ)ᵀ · s) (V W_vᵀ)
//                                  learned Linear maps `query`, `key`, `value` (the tutorials'
//                                  single attention head); s = 1/sqrt(embed_dim) when scaled
//
//   q [B, Tq, Dq], k [B, Tk, Dk], v [B, Tk, Dv]  ->  output [B, Tq, Dv or embed_dim],
//                                                    weights [B, Tq, Tk]
//
// Masks (optional, combined): key_padding_mask bool [B, Tk] (true = padded); attn_mask bool
// [Tq, Tk] or [B, Tq, Tk] with true = EXCLUDED (the opposite of ops/attention.h's functional
// convention, the same as nn.MultiheadAttention's); is_causal: query i sees keys j <= i.
// A query with every key excluded gets weights 0 and output 0.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "nn/attention/common.h"
#include "nn/linear.h"
#include "nn/module.h"

namespace minidl::nn {

// softmax(Q Kᵀ s) V without parameters; s = 1, or 1/sqrt(Dk) when `scaled`.
class DotProductAttention : public Module {
 public:
  explicit DotProductAttention(bool scaled = false);

  using Module::forward;
  using Module::operator();
  // q [B, Tq, D], k [B, Tk, D], v [B, Tk, Dv], masks as above -> {output [B, Tq, Dv],
  // weights [B, Tq, Tk]}. Mismatched batch, D or Tk is an error.
  AttentionOutput forward(const Tensor& query, const Tensor& key, const Tensor& value,
                          const Tensor& key_padding_mask = Tensor(),
                          const Tensor& attn_mask = Tensor(), bool is_causal = false);
  AttentionOutput operator()(const Tensor& query, const Tensor& key, const Tensor& value,
                             const Tensor& key_padding_mask = Tensor(),
                             const Tensor& attn_mask = Tensor(), bool is_causal = false) {
    return forward(query, key, value, key_padding_mask, attn_mask, is_causal);
  }
  std::string extra_repr() const override;  // "scaled=False"

  bool scaled;
};

// One learned attention head: Linear query / key / value maps to embed_dim, then dot products.
class ProjectedDotProductAttention : public Module {
 public:
  // kdim, vdim: the feature sizes of key and value (-1: embed_dim).
  explicit ProjectedDotProductAttention(int64_t embed_dim, int64_t kdim = -1, int64_t vdim = -1,
                                        bool scaled = true, bool bias = true);

  using Module::forward;
  using Module::operator();
  // q [B, Tq, embed_dim], k [B, Tk, kdim], v [B, Tk, vdim] -> {output [B, Tq, embed_dim],
  // weights [B, Tq, Tk]}.
  AttentionOutput forward(const Tensor& query, const Tensor& key, const Tensor& value,
                          const Tensor& key_padding_mask = Tensor(),
                          const Tensor& attn_mask = Tensor(), bool is_causal = false);
  AttentionOutput operator()(const Tensor& query, const Tensor& key, const Tensor& value,
                             const Tensor& key_padding_mask = Tensor(),
                             const Tensor& attn_mask = Tensor(), bool is_causal = false) {
    return forward(query, key, value, key_padding_mask, attn_mask, is_causal);
  }
  // "embed_dim=8, kdim=6, vdim=5, scaled=True, bias=True"
  std::string extra_repr() const override;

  int64_t embed_dim, kdim, vdim;
  bool scaled;
  std::shared_ptr<Linear> query, key, value;
};

}  // namespace minidl::nn
