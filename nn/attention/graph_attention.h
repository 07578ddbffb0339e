// Graph attention (GAT, Veličković et al. 2018, "Graph Attention Networks"; the pyGAT tutorial
// code and PyG's GATConv):
//
//   W h_j                        shared linear map, `lin` [heads * out, in] (no bias)
//   e_ij = LeakyReLU(a_dstᵀ W h_i + a_srcᵀ W h_j)      per head, for each edge j -> i
//   α_ij = softmax_j(e_ij) over the neighbours j of i   (dropout on α while training)
//   h'_i = Σ_j α_ij W h_j                                per head; heads concatenated
//                                                        (concat) or averaged, then + bias
//
// The paper's a [2F'] (pyGAT: a [2 * out, 1]) is split as a = [a1; a2] = [att_dst; att_src]:
// a1 multiplies the target W h_i, a2 the neighbour W h_j, so aᵀ[W h_i ; W h_j] is the sum of two
// per-node projections and the [N, N, 2F'] concatenation is never formed.
//
// Parameters (PyG's GATConv names; att_* are [heads, out] here, PyG's are [1, heads, out]):
//   lin.weight [heads * out_features, in_features]   xavier_uniform (glorot)
//   att_src, att_dst [heads, out_features]            xavier_uniform (glorot)
//   bias [heads * out_features] (concat) or [out_features]   zeros
//
// Two forward paths compute the same function on the same graph:
//   dense   forward(x [N, in], adj [N, N]) with adj[i][j] nonzero / true = edge j -> i (pyGAT's
//           `adj > 0`); O(N²) time and memory; weights [heads, N, N].
//   sparse  forward_sparse(x [N, in], edge_index [2, E] int64, row 0 = source j, row 1 = target
//           i, as PyG); O(E) time and memory (ops/graph_attention.h); weights [E, heads].
// Both return the weights after dropout (equal to the softmax in eval mode or with dropout 0).
// Self-loops are not added implicitly: set adj's diagonal or call add_self_loops (pyGAT and PyG
// add them). A node with no incoming edge gets weights 0 and output = bias (masked_softmax);
// pyGAT's `where(adj > 0, e, -9e15)` would instead spread uniform weights over ALL nodes.
// Duplicate edges in edge_index count separately (the dense adjacency cannot express them).
//
//   GAT   the two-layer network of the paper / pyGAT: dropout(x) -> GraphAttention(in, hidden,
//         heads, concat) -> ELU -> dropout -> GraphAttention(hidden * heads, num_classes,
//         output_heads, averaged) -> logits (log_softmax is left to the loss). pyGAT applies ELU
//         to the logits too; the paper (and this module) does not.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "nn/attention/common.h"
#include "nn/linear.h"
#include "nn/module.h"

namespace minidl::nn {

// One GAT layer (GATConv): `heads` attention heads of out_features each, over a graph's edges.
class GraphAttention : public Module {
 public:
  GraphAttention(int64_t in_features, int64_t out_features, int64_t heads = 1, bool concat = true,
                 double dropout = 0.0, double negative_slope = 0.2, bool bias = true);

  using Module::forward;
  using Module::operator();
  // Dense: x [N, in_features], adj [N, N] (any dtype; nonzero / true = edge j -> i) ->
  // {output [N, heads * out_features] (concat) or [N, out_features], weights [heads, N, N]}.
  AttentionOutput forward(const Tensor& x, const Tensor& adj);
  AttentionOutput operator()(const Tensor& x, const Tensor& adj) { return forward(x, adj); }
  // Sparse: x [N, in_features], edge_index [2, E] int64 -> {output as above, weights [E, heads]}.
  AttentionOutput forward_sparse(const Tensor& x, const Tensor& edge_index);

  // "in_features=16, out_features=8, heads=8, concat=True, dropout=0.6, negative_slope=0.2,
  // bias=True"
  std::string extra_repr() const override;
  void reset_parameters();

  int64_t in_features, out_features, heads;
  bool concat;
  double dropout, negative_slope;
  std::shared_ptr<Linear> lin;
  Tensor att_src, att_dst, bias;  // bias undefined when constructed with bias = false

 private:
  // W x as [N, heads, out] and the per-node score halves a_srcᵀ W x, a_dstᵀ W x as [N, heads].
  void project(const Tensor& x, const char* op, Tensor& wh, Tensor& score_src, Tensor& score_dst);
  Tensor combine_heads(const Tensor& per_head);  // [N, heads, out] -> concat / mean, + bias
};

using GATConv = GraphAttention;

// What GAT's *_with_attention forwards return: the logits and each layer's attention weights
// (after dropout), dense [heads, N, N] or sparse [E, heads] as GraphAttention gives them.
struct GATOutput {
  Tensor logits;                  // [N, num_classes]
  Tensor attention1, attention2;  // layer 1 (heads), layer 2 (output_heads)
};

// The two-layer GAT (see the top of this file). Works on a dense adjacency (forward) or an edge
// list (forward_sparse); returns logits [N, num_classes].
class GAT : public Module {
 public:
  GAT(int64_t in_features, int64_t hidden, int64_t num_classes, int64_t heads,
      int64_t output_heads = 1, double dropout = 0.6);

  using Module::forward;
  using Module::operator();
  // x [N, in_features], adj [N, N] -> logits [N, num_classes]; forward_sparse takes edge_index
  // [2, E] int64 (row 0 = source, row 1 = target) instead of adj.
  Tensor forward(const Tensor& x, const Tensor& adj);
  Tensor operator()(const Tensor& x, const Tensor& adj) { return forward(x, adj); }
  Tensor forward_sparse(const Tensor& x, const Tensor& edge_index);
  // The same forwards, also returning both layers' attention weights (which neighbours each
  // node attended to).
  GATOutput forward_with_attention(const Tensor& x, const Tensor& adj);
  GATOutput forward_sparse_with_attention(const Tensor& x, const Tensor& edge_index);
  std::string extra_repr() const override;  // "dropout=0.6"

  double dropout;
  std::shared_ptr<GraphAttention> conv1, conv2;
};

// ---- graph helpers (not differentiable)

// edge_index [2, E] with a self-loop (i, i) appended for every node in [0, num_nodes) that does
// not already have one (so it matches a dense adjacency with its diagonal set; PyG's
// add_self_loops appends one for every node regardless).
Tensor add_self_loops(const Tensor& edge_index, int64_t num_nodes);

// The edges of a dense adjacency [N, N] (adj[i][j] nonzero / true = edge j -> i) as an
// edge_index [2, E] (row 0 = source j, row 1 = target i), in row-major order of adj.
Tensor adjacency_to_edge_index(const Tensor& adj);

}  // namespace minidl::nn
