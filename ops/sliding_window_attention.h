// Sliding-window (banded) self-attention, as in Longformer's local attention (Beltagy et al.
// 2020, "Longformer: The Long-Document Transformer") and Mistral's sliding window:
//
//   out_i = sum_{j in band(i)} p_ij v_j ,   p_i. = softmax_j( scale * q_i . k_j )   over
//   band(i) = { j : i - window_left <= j <= i + window_right, 0 <= j < T, key j not padded }
//
//   q [..., T, E]   k [..., T, E]   v [..., T, Ev]   ->   out [..., T, Ev]
//   (q, k and v have the same leading dims "...", e.g. [B, H])
//
// Time and memory are O(T * W) with W = window_left + window_right + 1, never O(T^2): the fused
// kernel computes, per block of queries, only the scores of the keys their bands reach (one
// small GEMM), keeps the W band probabilities per query, and multiplies them with the values
// (another small GEMM). The forward saves the band probabilities [..., T, W]; the backward is its
// own kernel (dq per query block, then dk and dv per key block, gathered from the band: no two
// threads write the same gradient row).
//
// Band layout of the weights [..., T, W]: column c of row i is key j = i - window_left + c.
// Entries whose key lies outside [0, T), or is padded, are 0. window_right = 0 is causal
// attention limited to the window_left previous keys.
//
// key_padding_mask: bool [B, T] with B = the first leading dim (true = padded key); for 2-d
// (unbatched) inputs, bool [T]. A query whose band holds no unpadded key has weights 0, output 0
// and zero gradient (never NaN).
//
// dropout_p > 0 zeroes each band weight with that probability and scales the others by
// 1 / (1 - dropout_p) (a mask drawn from `generator`, the default one when null); the returned
// weights are then the dropped-out ones, as PyTorch's. The module passes 0 in eval mode.
#pragma once

#include <optional>

#include "core/generator.h"
#include "core/tensor.h"

namespace minidl {

// What sliding_window_attention returns.
struct SlidingWindowResult {
  Tensor output;   // [..., T, Ev]
  Tensor weights;  // band weights [..., T, W] when need_weights (detached: for heat maps)
};

// p = masked softmax over the band of scale * q kᵀ ;  out = p v
// ds = p * (dp - sum_c p dp) with dp = dout vᵀ ;  dq = scale ds k ,  dk = scale dsᵀ q ,  dv = pᵀ
// dout
SlidingWindowResult sliding_window_attention(const Tensor& query, const Tensor& key,
                                             const Tensor& value, int64_t window_left,
                                             int64_t window_right,
                                             const Tensor& key_padding_mask = Tensor(),
                                             std::optional<double> scale = std::nullopt,
                                             bool need_weights = false, double dropout_p = 0.0,
                                             Generator* generator = nullptr);

// Expands band weights [..., T, W] (W = window_left + window_right + 1) into the dense
// [..., T, T] map they stand for (zeros outside the band), for heat maps on small T. Not
// differentiable.
Tensor band_to_dense(const Tensor& band_weights, int64_t window_left, int64_t window_right);

}  // namespace minidl
