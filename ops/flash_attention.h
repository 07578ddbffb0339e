// Fused, memory-efficient scaled dot-product attention: the FlashAttention algorithm (Dao et al.
// 2022, "FlashAttention: Fast and Memory-Efficient Exact Attention with IO-Awareness", Alg. 1
// forward and Alg. 2/4 backward; FlashAttention-2's loop order) on the CPU.
//
//   out = softmax(q kᵀ * scale + mask) v
//   q [..., Tq, E]   k [..., Tk, E]   v [..., Tk, Ev]   ->   out [..., Tq, Ev]
//
// Forward: queries in blocks of Br, keys in blocks of Bc; per tile S = Q_blk K_blkᵀ * scale (GEMM),
// masking, online softmax (running max m, running sum l, rescaled accumulator). Only out and the
// per-row log-sum-exp L = m + log(l) [..., Tq] are kept.
// Backward: D = rowsum(dO * O); per tile P = exp(S - L), dV += Pᵀ dO, dP = dO Vᵀ,
// dS = P * (dP - D), dQ += dS K * scale, dK += dSᵀ Q * scale.
// Extra memory: O(T) plus per-thread tile buffers, never O(Tq * Tk).
//
// Masks as in ops/attention.h (bool attn_mask true = attend, floating attn_mask added,
// key_padding_mask bool [B, Tk] true = padded, is_causal top-left). A query row with every key
// excluded gets L = -inf, output 0 and zero gradient.
// Dropout is not fused: scaled_dot_product_attention takes the math path when dropout_p > 0.
#pragma once

#include "core/tensor.h"
#include "ops/attention.h"

namespace minidl {

// Whether the fused kernel computes these inputs (float32/float64, no dropout).
bool flash_attention_supported(const Tensor& query, const Tensor& key, const Tensor& value,
                               const SdpaOptions& options);

// The fused kernel. Arguments must already satisfy scaled_dot_product_attention's checks.
Tensor flash_attention(const Tensor& query, const Tensor& key, const Tensor& value,
                       const Tensor& attn_mask, const Tensor& key_padding_mask, bool is_causal,
                       double scale);

}  // namespace minidl
