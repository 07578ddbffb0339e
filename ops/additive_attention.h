// Fused additive attention score (Bahdanau et al. 2015; Luong's `concat` score):
//
//   scores[b, i, j] = Σ_u v[u] tanh(query_proj[b, i, u] + key_proj[b, j, u])
//
//   query_proj [B, Tq, U], key_proj [B, Tk, U], v [U]  ->  scores [B, Tq, Tk]
//
// The composition tanh(qp[:, :, None] + kp[:, None]) @ v materializes (and saves for backward)
// a [B, Tq, Tk, U] tensor; this kernel keeps nothing but its inputs and recomputes tanh in
// backward, so its memory is O(B·Tq·Tk), and it runs a vectorized tanh (float32: an exp-based
// polynomial, tanh_float in ops/loops.h, absolute error < 2e-7; float64: std::tanh).
// Gradients: with t = tanh(qp[b,i] + kp[b,j]) and g the gradient of scores,
//   d qp[b,i,u] = Σ_j g[b,i,j] v[u] (1 - t²),  d kp[b,j,u] = Σ_i g[b,i,j] v[u] (1 - t²),
//   d v[u] = Σ_{b,i,j} g[b,i,j] t
// Entries whose incoming gradient is exactly 0 (masked keys) are skipped in backward.
#pragma once

#include "core/tensor.h"

namespace minidl {

// query_proj [B, Tq, U], key_proj [B, Tk, U], v [U] -> scores [B, Tq, Tk] (formula above).
Tensor additive_attention_scores(const Tensor& query_proj, const Tensor& key_proj, const Tensor& v);

}  // namespace minidl
