// Scaled dot-product attention (torch.nn.functional.scaled_dot_product_attention):
//
//   out = softmax(q kᵀ * scale + mask) v          scale = 1 / sqrt(E) unless given
//
//   q [..., Tq, E]   k [..., Tk, E]   v [..., Tk, Ev]   ->   out [..., Tq, Ev]
//   (the leading dims "..." of q, k and v broadcast against each other: [B, H] or [B] or none)
//
// Masks (all optional; they combine):
//   attn_mask         broadcastable to [..., Tq, Tk]. Bool: true = this key TAKES PART (PyTorch
//                     2.x functional semantics; nn::MultiheadAttention converts its own, opposite,
//                     convention). Floating: added to the scores (use -inf to exclude).
//   key_padding_mask  bool [B, Tk] (B = the first leading dim), true = padded key, excluded for
//                     every query (nn.MultiheadAttention's convention).
//   is_causal         query i sees keys j <= i (top-left aligned, as PyTorch).
// A query row whose every key is excluded has no distribution: its weights are all 0, its output
// is 0, and no gradient flows through it (PyTorch gives NaN).
//
// Two implementations compute the same function:
//   math   materializes the [..., Tq, Tk] weights (softmax, dropout, two matmuls; autograd records
//          each step) -- needed when the weights are returned.
//   fused  ops/flash_attention.h: tiled online softmax, saves only out and the per-row
//          log-sum-exp, recomputes tiles in backward; O(T) extra memory.
// SdpaBackend::Auto picks fused whenever the weights are not requested and the fused kernel
// supports the call (flash_attention_supported): float32/float64, non-empty, dropout_p == 0
// (dropout runs on the math path: the fused kernel has no dropout), and no floating attn_mask
// that requires grad (its gradient is a [..., Tq, Tk] tensor). Math and Fused force a path;
// Fused with need_weights, or with inputs it does not support, is an error.
// Both paths give the same results (float32: within ~1e-6 relative; L is kept in the inputs'
// dtype, so float64 agrees to rounding).
#pragma once

#include <optional>

#include "core/generator.h"
#include "core/tensor.h"

namespace minidl {

// Which implementation runs (see above): Auto picks fused when it can; Math / Fused force one.
enum class SdpaBackend { Auto, Math, Fused };

// The optional arguments of scaled_dot_product_attention; defaults: no mask, no dropout, 1/sqrt(E).
struct SdpaOptions {
  Tensor attn_mask;         // bool (true = attend) or floating additive, see above
  Tensor key_padding_mask;  // bool [B, Tk], true = padded
  double dropout_p = 0.0;   // dropout on the weights (applied only when > 0)
  bool is_causal = false;
  std::optional<double> scale;  // default 1 / sqrt(E)
  bool need_weights = false;    // return the [..., Tq, Tk] weights (after dropout, as PyTorch)
  SdpaBackend backend = SdpaBackend::Auto;
  Generator* generator = nullptr;  // for dropout; nullptr = default_generator()
};

// What scaled_dot_product_attention(q, k, v, options) returns.
struct SdpaResult {
  Tensor output;   // [..., Tq, Ev]
  Tensor weights;  // [..., Tq, Tk] when need_weights, else undefined
};

// q [..., Tq, E], k [..., Tk, E], v [..., Tk, Ev] -> {out [..., Tq, Ev], weights}; floating
// dtypes. Errors on mismatched E / Tk, a mask not broadcastable to [..., Tq, Tk], Fused refused.
SdpaResult scaled_dot_product_attention(const Tensor& query, const Tensor& key, const Tensor& value,
                                        const SdpaOptions& options);

// PyTorch's signature: scaled_dot_product_attention(q, k, v, attn_mask, dropout_p, is_causal,
// scale), returning the output only (so the fused kernel runs).
Tensor scaled_dot_product_attention(const Tensor& query, const Tensor& key, const Tensor& value,
                                    const Tensor& attn_mask = Tensor(), double dropout_p = 0.0,
                                    bool is_causal = false,
                                    std::optional<double> scale = std::nullopt);

}  // namespace minidl
