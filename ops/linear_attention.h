// Linear attention (Katharopoulos et al. 2020, "Transformers are RNNs: Fast Autoregressive
// Transformers with Linear Attention"), feature map phi(x) = elu(x) + 1 (elementwise, > 0):
//
//   non-causal:  out_i = phi(q_i)ᵀ (sum_j phi(k_j) v_jᵀ) / (phi(q_i)ᵀ sum_j phi(k_j) + eps)
//   causal:      the same with the sums over j <= i only (T == S)
//
//   q [..., T, E]   k [..., S, E]   v [..., S, Ev]   ->   out [..., T, Ev]
//
// Time O(T E Ev), never O(T S): the [T, S] attention matrix is not formed. Non-causal is a
// composition of GEMMs (sum_j phi(k_j) v_jᵀ is one [E, S] x [S, Ev] product), differentiated by
// the tape. Causal runs a fused kernel that carries the running state
// S_i = sum_{j<=i} phi(k_j) v_jᵀ [E, Ev] and z_i = sum_{j<=i} phi(k_j) along time: O(E Ev) extra
// memory per sequence (never the [T, E, Ev] prefix states), with a reverse-time backward.
//
// key_padding_mask: bool [B, S] with B = the first leading dim (true = padded); for 2-d inputs
// bool [S]. Padded keys contribute nothing (phi(k_j) is taken as 0). A query that sees no
// unpadded key gets output 0 (the numerator is 0; the denominator is eps).
#pragma once

#include "core/tensor.h"

namespace minidl {

// See above. In causal mode q, k and v must have the same leading dims and T == S.
Tensor linear_attention(const Tensor& query, const Tensor& key, const Tensor& value,
                        bool causal = false, const Tensor& key_padding_mask = Tensor(),
                        double eps = 1e-6);

// The [..., T, S] attention matrix linear attention is equivalent to (for heat maps on small T):
//   A_ij = phi(q_i) . phi(k_j) / (sum_{j'} phi(q_i) . phi(k_j') + eps)   (j, j' over the visible,
// unpadded keys; 0 elsewhere), so that linear_attention(q, k, v) = A v. O(T S) memory;
// differentiable (a composition of ops).
Tensor linear_attention_weights(const Tensor& query, const Tensor& key, bool causal = false,
                                const Tensor& key_padding_mask = Tensor(), double eps = 1e-6);

}  // namespace minidl
