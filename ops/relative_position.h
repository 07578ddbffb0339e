// Relative-position lookups for self-attention with relative position representations
// (Shaw, Uszkoreit, Vaswani 2018, "Self-Attention with Relative Position Representations").
//
// Query i and key j are at clipped relative distance
//
//   r(i, j) = clip(j - i, -k, k) + k   in [0, 2k]        k = max_relative_position >= 0
//
// Shaw's logits q_i·(k_j + a^K_r(i,j)) and values Σ_j α_ij (v_j + a^V_r(i,j)) never need the
// [Tq, Tk, d] tensor of relative embeddings: with a [2k+1, d] table A,
//
//   q_i·a^K_r(i,j)       = (q Aᵀ)[i, r(i,j)]               relative_position_gather
//   Σ_j α_ij a^V_r(i,j)  = Σ_r (Σ_{j: r(i,j)=r} α_ij) A[r]   relative_position_bucket, then @ A
//
// gather reads a [..., Tq, 2k+1] tensor into [..., Tq, Tk]; bucket sums a [..., Tq, Tk] tensor
// into [..., Tq, 2k+1]. They are adjoint to each other, so each is the other's backward. Along a
// row both are three contiguous runs (j <= i - k: bucket 0; |j - i| < k: bucket j - i + k, one
// key each; j >= i + k: bucket 2k), so they cost one pass over [..., Tq, Tk], vectorized.
#pragma once

#include <cstdint>

#include "core/tensor.h"

namespace minidl {

// int64 [Tq, Tk] with entry (i, j) = clip(j - i, -k, k) + k (the index the ops below use).
Tensor relative_position_index(int64_t num_queries, int64_t num_keys,
                               int64_t max_relative_position);

// relative [..., Tq, 2k+1] -> out [..., Tq, Tk]: out[..., i, j] = relative[..., i, r(i, j)]
//   d relative = relative_position_bucket(dout)
Tensor relative_position_gather(const Tensor& relative, int64_t num_keys,
                                int64_t max_relative_position);

// scores + relative_position_gather(relative, Tk, k) in one pass (the fused form used for the
// attention logits): scores [..., Tq, Tk], relative [..., Tq, 2k+1] with the same leading dims.
//   d scores = dout ,  d relative = relative_position_bucket(dout)
Tensor relative_position_gather_add(const Tensor& scores, const Tensor& relative,
                                    int64_t max_relative_position);

// weights [..., Tq, Tk] -> out [..., Tq, 2k+1]:
//   out[..., i, r] = Σ_{j : r(i, j) = r} weights[..., i, j]   (0 for a bucket no key falls into)
//   d weights = relative_position_gather(dout)
Tensor relative_position_bucket(const Tensor& weights, int64_t max_relative_position);

}  // namespace minidl
