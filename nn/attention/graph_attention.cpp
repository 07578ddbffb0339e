// Graph attention layer and two-layer GAT (formulas at the top of graph_attention.h):
//   e_ij = LeakyReLU(a_dstᵀ W h_i + a_srcᵀ W h_j),  α = softmax_j∈N(i),  h'_i = Σ_j α_ij W h_j
// The dense path is made of ordinary ops (broadcast add, masked_softmax, bmm); the sparse path
// of the O(E) edge kernels of ops/graph_attention.h.
#include "nn/attention/graph_attention.h"

#include <sstream>
#include <vector>

#include "core/autograd.h"
#include "core/factories.h"
#include "nn/activation.h"
#include "nn/init.h"
#include "ops/compare.h"
#include "ops/dropout.h"
#include "ops/elementwise.h"
#include "ops/graph_attention.h"
#include "ops/linalg.h"
#include "ops/shape_ops.h"
#include "ops/softmax.h"

namespace minidl::nn {

namespace {

const char* python_bool(bool b) {
  return b ? "True" : "False";
}

void check_edge_index(const Tensor& edge_index, int64_t num_nodes, const char* op) {
  MINIDL_CHECK(edge_index.defined(), op, "edge_index is undefined");
  MINIDL_CHECK(edge_index.dtype() == kInt64, op,
               "edge_index must be int64, got " << edge_index.dtype() << " of shape "
                                                << shape_str(edge_index.shape()));
  MINIDL_CHECK(edge_index.dim() == 2 && edge_index.size(0) == 2, op,
               "edge_index must have shape [2, E] (row 0 = source, row 1 = target), got "
                   << shape_str(edge_index.shape()));
  if (edge_index.numel() == 0) return;
  const int64_t lo = edge_index.min().item<int64_t>(), hi = edge_index.max().item<int64_t>();
  MINIDL_CHECK(lo >= 0 && hi < num_nodes, op,
               "edge_index " << shape_str(edge_index.shape()) << " holds node index "
                             << (lo < 0 ? lo : hi) << ", out of range for " << num_nodes
                             << " nodes: valid indices are [0, " << num_nodes << ")");
}

}  // namespace

// ---------------------------------------------------------------- GraphAttention

GraphAttention::GraphAttention(int64_t in_features, int64_t out_features, int64_t heads,
                               bool concat, double dropout, double negative_slope, bool bias)
    : Module("GraphAttention"),
      in_features(in_features),
      out_features(out_features),
      heads(heads),
      concat(concat),
      dropout(dropout),
      negative_slope(negative_slope) {
  const char* op = "GraphAttention";
  MINIDL_CHECK(in_features > 0 && out_features > 0, op,
               "in_features and out_features must be positive, got " << in_features << " and "
                                                                     << out_features);
  MINIDL_CHECK(heads > 0, op, "heads must be positive, got " << heads);
  MINIDL_CHECK(dropout >= 0.0 && dropout <= 1.0, op, "dropout must be in [0, 1], got " << dropout);
  lin = register_module("lin", std::make_shared<Linear>(in_features, heads * out_features, false));
  att_src = register_parameter("att_src", zeros({heads, out_features}));
  att_dst = register_parameter("att_dst", zeros({heads, out_features}));
  this->bias = register_parameter(
      "bias", bias ? zeros({concat ? heads * out_features : out_features}) : Tensor());
  reset_parameters();
}

void GraphAttention::reset_parameters() {
  init::xavier_uniform_(lin->weight);
  init::xavier_uniform_(att_src);
  init::xavier_uniform_(att_dst);
  if (bias.defined()) init::zeros_(bias);
}

std::string GraphAttention::extra_repr() const {
  std::ostringstream os;
  os << "in_features=" << in_features << ", out_features=" << out_features << ", heads=" << heads
     << ", concat=" << python_bool(concat) << ", dropout=" << python_float(dropout)
     << ", negative_slope=" << python_float(negative_slope)
     << ", bias=" << python_bool(bias.defined());
  return os.str();
}

void GraphAttention::project(const Tensor& x, const char* op, Tensor& wh, Tensor& score_src,
                             Tensor& score_dst) {
  MINIDL_CHECK(
      x.defined() && x.dim() == 2 && x.size(1) == in_features, op,
      "x must be [num_nodes, in_features = " << in_features << "], got "
                                             << (x.defined() ? shape_str(x.shape()) : "undefined"));
  MINIDL_CHECK(x.dtype() == att_src.dtype(), op,
               "x has dtype " << x.dtype() << " but the parameters are " << att_src.dtype());
  const int64_t N = x.size(0);
  wh = (*lin)(x).view({N, heads, out_features});
  // [a_src·Wh, a_dst·Wh] per head and node as one batched GEMM: [H, N, F] @ [H, F, 2]
  Tensor both = bmm(wh.permute({1, 0, 2}), stack({att_src, att_dst}, -1));  // [H, N, 2]
  score_src = both.select(2, 0).t();                                        // [N, H]
  score_dst = both.select(2, 1).t();
}

Tensor GraphAttention::combine_heads(const Tensor& per_head) {
  const int64_t N = per_head.size(0);
  Tensor out = concat ? per_head.reshape({N, heads * out_features}) : per_head.mean({1});
  return bias.defined() ? out + bias : out;
}

AttentionOutput GraphAttention::forward(const Tensor& x, const Tensor& adj) {
  const char* op = "GraphAttention";
  Tensor wh, score_src, score_dst;
  project(x, op, wh, score_src, score_dst);
  const int64_t N = x.size(0);
  MINIDL_CHECK(adj.defined() && adj.shape() == Shape({N, N}), op,
               "adj must be [num_nodes, num_nodes] = ["
                   << N << ", " << N << "] for x " << shape_str(x.shape()) << ", got "
                   << (adj.defined() ? shape_str(adj.shape()) : "undefined"));
  Tensor no_edge;  // true where adj[i][j] has no edge j -> i
  {
    NoGradGuard no_grad;
    no_edge = adj.dtype() == kBool ? logical_not(adj) : eq(adj, 0.0);
  }
  // scores[h, i, j] = LeakyReLU(a_dst·Wh_i + a_src·Wh_j): [H, N, 1] + [H, 1, N]
  Tensor scores =
      leaky_relu(score_dst.t().unsqueeze(2) + score_src.t().unsqueeze(1), negative_slope);
  Tensor weights = masked_softmax(scores, no_edge, -1);  // rows without a neighbour: 0
  weights = minidl::dropout(weights, dropout, is_training());
  Tensor per_head = bmm(weights, wh.permute({1, 0, 2}));  // [H, N, F]
  return {combine_heads(per_head.permute({1, 0, 2})), weights};
}

AttentionOutput GraphAttention::forward_sparse(const Tensor& x, const Tensor& edge_index) {
  const char* op = "GraphAttention";
  Tensor wh, score_src, score_dst;
  project(x, op, wh, score_src, score_dst);
  const int64_t N = x.size(0);
  check_edge_index(edge_index, N, op);
  Tensor scores = gat_edge_scores(score_src, score_dst, edge_index, negative_slope);  // [E, H]
  Tensor weights = segment_softmax(scores, edge_index.select(0, 1), N);
  weights = minidl::dropout(weights, dropout, is_training());
  Tensor per_head = graph_aggregate(weights, wh, edge_index, N);  // [N, H, F]
  return {combine_heads(per_head), weights};
}

// ---------------------------------------------------------------- GAT

GAT::GAT(int64_t in_features, int64_t hidden, int64_t num_classes, int64_t heads,
         int64_t output_heads, double dropout)
    : Module("GAT"), dropout(dropout) {
  MINIDL_CHECK(dropout >= 0.0 && dropout <= 1.0, "GAT",
               "dropout must be in [0, 1], got " << dropout);
  MINIDL_CHECK(heads > 0 && output_heads > 0, "GAT",
               "heads and output_heads must be positive, got " << heads << " and " << output_heads);
  conv1 = register_module(
      "conv1", std::make_shared<GraphAttention>(in_features, hidden, heads, true, dropout));
  conv2 = register_module("conv2", std::make_shared<GraphAttention>(hidden * heads, num_classes,
                                                                    output_heads, false, dropout));
}

std::string GAT::extra_repr() const {
  return "dropout=" + python_float(dropout);
}

Tensor GAT::forward(const Tensor& x, const Tensor& adj) {
  return forward_with_attention(x, adj).logits;
}

Tensor GAT::forward_sparse(const Tensor& x, const Tensor& edge_index) {
  return forward_sparse_with_attention(x, edge_index).logits;
}

GATOutput GAT::forward_with_attention(const Tensor& x, const Tensor& adj) {
  Tensor h = minidl::dropout(x, dropout, is_training());
  AttentionOutput first = conv1->forward(h, adj);
  h = minidl::dropout(elu(first.output), dropout, is_training());
  AttentionOutput second = conv2->forward(h, adj);
  return {second.output, first.weights, second.weights};
}

GATOutput GAT::forward_sparse_with_attention(const Tensor& x, const Tensor& edge_index) {
  Tensor h = minidl::dropout(x, dropout, is_training());
  AttentionOutput first = conv1->forward_sparse(h, edge_index);
  h = minidl::dropout(elu(first.output), dropout, is_training());
  AttentionOutput second = conv2->forward_sparse(h, edge_index);
  return {second.output, first.weights, second.weights};
}

// ---------------------------------------------------------------- graph helpers

Tensor add_self_loops(const Tensor& edge_index, int64_t num_nodes) {
  const char* op = "add_self_loops";
  MINIDL_CHECK(num_nodes >= 0, op, "num_nodes must be >= 0, got " << num_nodes);
  check_edge_index(edge_index, num_nodes, op);
  Tensor edges = edge_index.contiguous();
  const int64_t E = edges.size(1);
  const int64_t* src = edges.data_ptr<int64_t>();
  const int64_t* dst = src + E;
  std::vector<char> has_loop(num_nodes, 0);
  for (int64_t k = 0; k < E; ++k)
    if (src[k] == dst[k]) has_loop[src[k]] = 1;
  std::vector<int64_t> new_src(src, src + E), new_dst(dst, dst + E);
  for (int64_t i = 0; i < num_nodes; ++i)
    if (!has_loop[i]) new_src.push_back(i), new_dst.push_back(i);
  std::vector<int64_t> all(new_src);
  all.insert(all.end(), new_dst.begin(), new_dst.end());
  return from_vector(all, {2, static_cast<int64_t>(new_src.size())}, kInt64);
}

Tensor adjacency_to_edge_index(const Tensor& adj) {
  const char* op = "adjacency_to_edge_index";
  MINIDL_CHECK(adj.defined() && adj.dim() == 2 && adj.size(0) == adj.size(1), op,
               "adj must be a square [N, N] matrix, got "
                   << (adj.defined() ? shape_str(adj.shape()) : "undefined"));
  const int64_t N = adj.size(0);
  std::vector<double> values = adj.to_vector<double>();
  std::vector<int64_t> src, dst;
  for (int64_t i = 0; i < N; ++i)
    for (int64_t j = 0; j < N; ++j)
      if (values[i * N + j] != 0.0) src.push_back(j), dst.push_back(i);
  const int64_t E = static_cast<int64_t>(src.size());
  src.insert(src.end(), dst.begin(), dst.end());
  return from_vector(src, {2, E}, kInt64);
}

}  // namespace minidl::nn
