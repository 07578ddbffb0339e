// Internal helpers of the multi-head attention modules (MultiheadAttention,
// SlidingWindowAttention, RelativeMultiheadAttention, LinearAttention): the head-count checks,
// torch.nn.MultiheadAttention's packed input projection (its parameter names, layout and
// initialization), and splitting/merging heads in the input's own layout.
//
// Layouts: a module's input is [B, T, E] (batch_first) or [T, B, E], or unbatched [T, E] (a batch
// of one is inserted where the layout puts it). Projections run on the rows as they are laid out
// (one GEMM, no transpose copy); the heads [B, H, T, D] are strided views of the projection, and
// the merged heads come back in the input's layout [.., .., E] for the output projection.
#pragma once

#include <cstdint>
#include <tuple>

#include "core/tensor.h"
#include "nn/module.h"

namespace minidl::nn::detail {

// Checks embed_dim > 0, num_heads > 0 and that num_heads divides embed_dim (errors name
// `module`); returns head_dim = embed_dim / num_heads.
int64_t checked_head_dim(int64_t embed_dim, int64_t num_heads, const char* module);

// Registers torch.nn.MultiheadAttention's packed projection on `module`: in_proj_weight [3E, E]
// (rows W_Q, W_K, W_V) and in_proj_bias [3E] (an undefined tensor without bias).
void register_in_proj(Module& module, int64_t embed_dim, bool bias, Tensor& in_proj_weight,
                      Tensor& in_proj_bias);

// PyTorch's initialization of that projection: xavier_uniform_(weight), zeros_(bias).
void reset_in_proj(const Tensor& in_proj_weight, const Tensor& in_proj_bias);

// The input with a batch dim of size 1 where the layout puts it when it is unbatched ([T, E]).
Tensor with_batch(const Tensor& x, bool batched, bool batch_first);

// packed [X, Y, n * H * D] (n projections side by side; (X, Y) = (B, T) with batch_first, else
// (T, B)) -> the i-th projection's heads [B, H, T, D], a view.
Tensor split_heads(const Tensor& packed, int64_t n, int64_t i, int64_t num_heads, bool batch_first);

// x [X, Y, E] -> q, k, v [B, H, T, D] with [q | k | v] = x Wᵀ + b: one GEMM, the heads are views.
std::tuple<Tensor, Tensor, Tensor> project_packed_qkv(const Tensor& x, const Tensor& in_proj_weight,
                                                      const Tensor& in_proj_bias, int64_t num_heads,
                                                      bool batch_first);

// heads [B, H, T, D] -> [X, Y, H * D] in the input's layout (a copy, contiguous).
Tensor merge_heads(const Tensor& heads, bool batch_first);

// Attention weights [B, H, T, S] as the modules return them: averaged over the heads when
// `average` ([B, T, S]), without the batch dim when the input was unbatched.
Tensor returned_weights(const Tensor& weights, bool average, bool batched);

}  // namespace minidl::nn::detail
