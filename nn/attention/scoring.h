// Pieces shared by the classic (RNN-era) attention modules: Luong global and local attention,
// Bahdanau attention and the dot-product layers (nn/attention/{luong,local,bahdanau,
// dot_product}.*). Each module computes raw scores [B, Tq, Tk] its own way, then:
//
//   weights = masked_softmax(scores, exclude)      over the keys (fully excluded row -> 0)
//   context = weights @ values                     [B, Tq, Tk] @ [B, Tk, Dv] -> [B, Tq, Dv]
//
// and the additive score of Bahdanau (2015) and of Luong's `concat` (2015) is written once:
//
//   additive_scores(qp, kp, v)[b, i, j] = vᵀ tanh(qp[b, i] + kp[b, j])  (+ v_bias)
//   qp [B, Tq, U], kp [B, Tk, U], v [U]  ->  [B, Tq, Tk]
#pragma once

#include <cstdint>

#include "core/tensor.h"
#include "nn/attention/common.h"

namespace minidl::nn::classic_detail {

// The checked inputs of an attention call, with a [B, H] query promoted to [B, 1, H].
struct AttentionInputs {
  Tensor query;             // [B, Tq, Dq]
  Tensor keys;              // [B, Tk, Dk]
  Tensor values;            // [B, Tk, Dv] (the keys when none were given)
  bool single_query;        // the query was [B, Dq]: squeeze Tq from the results
  Tensor key_padding_mask;  // [B, 1, Tk] (true = padded) or undefined
};

// Checks ranks, batch and time sizes, feature dims (query_dim / key_dim; a negative value skips
// that check), dtypes (floating and equal) and the key padding mask; `op` names the module.
// allow_single_query: a [B, Dq] query is accepted too.
AttentionInputs check_attention_inputs(const char* op, const Tensor& query, const Tensor& keys,
                                       const Tensor& values, const Tensor& key_padding_mask,
                                       int64_t query_dim, int64_t key_dim, bool allow_single_query);

// vᵀ tanh(query_proj[b, i] + key_proj[b, j]) + v_bias  ->  [B, Tq, Tk]. v is [U] (or [1, U],
// a Linear(U, 1) weight); v_bias is [1] or undefined. Runs the fused kernel of
// ops/additive_attention.h (no [B, Tq, Tk, U] intermediate, vectorized tanh).
Tensor additive_scores(const Tensor& query_proj, const Tensor& key_proj, const Tensor& v,
                       const Tensor& v_bias = Tensor());

// Either mask, or their union; both are bool and broadcast together (undefined = none).
Tensor mask_union(const Tensor& a, const Tensor& b);

// weights = masked_softmax(scores, exclude, -1), output = weights @ values; when single_query,
// the Tq = 1 dim is squeezed from both.
AttentionOutput attend(const Tensor& scores, const Tensor& values, const Tensor& exclude,
                       bool single_query);

// [Tq, Tk] bool, true where key j > query i (excluded by a causal mask).
Tensor causal_exclude_mask(int64_t queries, int64_t keys);

}  // namespace minidl::nn::classic_detail
