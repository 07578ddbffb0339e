// Edge-wise kernels of graph attention (GAT, Veličković et al. 2018; the sparse form of PyG's
// GATConv), each O(E) time and memory -- no [N, N] matrix is ever built:
//
//   gat_edge_scores  e[k, h] = LeakyReLU(score_src[j, h] + score_dst[i, h])   edge k: j -> i
//   segment_softmax  α[k, h] = exp(e[k, h]) / Σ_{k': i(k') = i(k)} exp(e[k', h])
//   graph_aggregate  out[i, h, :] = Σ_{k: i(k) = i} α[k, h] · values[j(k), h, :]
//
// Edges: edge_index [2, E] int64, row 0 = source j, row 1 = target i (PyG's convention, messages
// flow j -> i). Every index is range-checked before any element is touched. Duplicate edges are
// separate edges (each gets its own weight). A node with no incoming edge takes part in no
// softmax and aggregates nothing: its output row is 0.
//
// The kernels group edges by node with a counting sort (a CSR of the edge list, O(E + N), stable
// so sums run in edge order and results are deterministic), then work node by node in parallel:
// no atomics, no races. They are fused rather than built from index_select / scatter_add
// (ops/index_ops.h): gathering W h_j per edge would materialize an [E, H, F] tensor (1 GB at
// E = 1M, H * F = 256) and scatter_add wants an index as large as its source. Their backward
// kernels (beside each forward) are not themselves differentiable (no double backward).
#pragma once

#include <cstdint>

#include "core/tensor.h"

namespace minidl {

// scores [E, ...] floating (trailing dims are independent columns, e.g. heads), index [E] int64
// in [0, num_nodes): softmax over the entries that share an index (a node's incoming edges), per
// column. Entries at -inf get 0; a segment whose entries are all -inf is all 0 (not NaN), with
// zero gradient. Result: scores' shape (as PyG's torch_geometric.utils.softmax).
// y = exp(x - max_seg) / Σ_seg exp(x - max_seg) ;  dx = y * (dy - Σ_seg dy * y)
Tensor segment_softmax(const Tensor& scores, const Tensor& index, int64_t num_nodes);

// score_src [Ns, H], score_dst [Nt, H] (the per-node halves aᵀ W h of GAT's score, floating, one
// dtype), edge_index [2, E] with sources in [0, Ns) and targets in [0, Nt) -> e [E, H]:
// e[k] = leaky_relu(score_src[j(k)] + score_dst[i(k)], negative_slope). The concatenation
// [W h_i ; W h_j] of the paper is never formed: aᵀ [W h_i ; W h_j] = a_dstᵀ W h_i + a_srcᵀ W h_j.
// p = s_src[j] + s_dst[i], e = p > 0 ? p : slope * p ;  dp = de * (p > 0 ? 1 : slope),
// ds_src[j] = Σ_{k: j(k) = j} dp[k] ,  ds_dst[i] = Σ_{k: i(k) = i} dp[k]
Tensor gat_edge_scores(const Tensor& score_src, const Tensor& score_dst, const Tensor& edge_index,
                       double negative_slope = 0.2);

// alpha [E, H] and values [Ns, H, C] (one floating dtype), edge_index [2, E] with sources in
// [0, Ns) and targets in [0, num_nodes) -> out [num_nodes, H, C], the weighted sum of each
// node's incoming messages (a sparse-dense matmul per head).
// out[i] = Σ_{k: i(k) = i} α[k] v[j(k)] ;  dα[k, h] = <dout[i(k), h], v[j(k), h]> ,
// dv[j] = Σ_{k: j(k) = j} α[k] dout[i(k)]
Tensor graph_aggregate(const Tensor& alpha, const Tensor& values, const Tensor& edge_index,
                       int64_t num_nodes);

}  // namespace minidl
