// The whole-model workloads of BENCHMARKS.md: W7 (a small vision transformer training step) and
// W9 (a two-layer graph attention network training step on a Cora-sized random graph, in
// minidl's sparse edge-list form; PyTorch's side uses the dense masked N x N form).
#include <algorithm>
#include <cmath>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "minidl.h"
#include "tools/bench_workloads.h"

namespace bench {

// W7: ViT for 28x28x1 images. Conv2d(1 -> 64, kernel 7, stride 7) cuts 16 patches of 7x7 and
// embeds each in 64 dims ([B, 64, 4, 4] -> flatten(2).transpose(1, 2) -> [B, 16, 64]); a learned
// cls token [1, 1, 64] (zeros) expanded to the batch goes in front ([B, 17, 64]), plus a learned
// positional embedding [1, 17, 64] (randn * 0.02); 4 x TransformerEncoderLayer(d_model 64,
// nhead 4, dim_feedforward 128, dropout 0.1, batch_first; post-norm, relu), no final norm;
// Linear(64 -> 10) on the cls token's output. Batch 128, x = randn [128, 1, 28, 28],
// y = randint(0, 10) [128], cross-entropy, Adam(lr 1e-3), train mode (dropout active).
Json run_vit_step(const RunOptions& options) {
  using namespace minidl;
  static constexpr int64_t B = 128, D = 64, patches = 16, classes = 10;
  manual_seed(0);
  // Names as torch_bench.py's ViT (patch, cls, pos, enc, head).
  struct ViT : nn::Module {
    ViT() : Module("ViT") {
      patch = register_module("patch", std::make_shared<nn::Conv2d>(1, D, 7, 7));
      cls = register_parameter("cls", zeros({1, 1, D}));
      pos = register_parameter("pos", randn({1, patches + 1, D}) * 0.02);
      nn::TransformerEncoderLayerOptions layer(D, 4);
      layer.dim_feedforward(128);
      layer.dropout(0.1);
      layer.batch_first(true);
      enc = register_module("enc", std::make_shared<nn::TransformerEncoder>(layer, 4));
      head = register_module("head", std::make_shared<nn::Linear>(D, classes));
    }
    Tensor forward(const Tensor& x) override {
      Tensor tokens = (*patch)(x).flatten(2).transpose(1, 2);            // [B, 16, D]
      tokens = cat({cls.expand({x.size(0), -1, -1}), tokens}, 1) + pos;  // [B, 17, D]
      return (*head)(enc->forward(tokens).select(1, 0));                 // [B, classes]
    }
    std::shared_ptr<nn::Conv2d> patch;
    Tensor cls, pos;
    std::shared_ptr<nn::TransformerEncoder> enc;
    std::shared_ptr<nn::Linear> head;
  };
  auto model = std::make_shared<ViT>();
  Tensor x = randn({B, 1, 28, 28});
  Tensor y = randint(0, classes, {B});
  return run_classifier_step(model, x, y, options);
}

// W9: the two-layer GAT of the paper / pyGAT (nn::GAT): dropout 0.6 on the features ->
// GraphAttention(1433 -> 8 hidden x 8 heads, LeakyReLU 0.2, dropout 0.6 on the attention
// coefficients, concat) -> ELU -> dropout 0.6 -> GraphAttention(64 -> 7 classes, 1 head) ->
// logits [2708, 7]; cross-entropy on the first 140 nodes; Adam(lr 5e-3, weight_decay 5e-4).
// The graph is Cora-sized and random (seeded): features [2708, 1433] binary with P(1) = 0.0127
// (Cora's 18 words per paper), 5278 distinct undirected node pairs (no self pairs) in both
// directions plus one self loop per node: E = 10556 + 2708 = 13264 directed edges, labels
// randint(0, 7) for every node.
// minidl runs the sparse form (forward_sparse: O(E) edge kernels) where PyTorch's side runs the
// dense masked [N, N] form; "form" in the result says so. The pairs are drawn distinct because the
// dense adjacency merges a repeated pair into one edge while the edge list would count it twice:
// this way the two forms compute the same function. Checked: the loss (finite, decreasing), and
// the sparse output against the dense path on the same graph, in eval mode.
Json run_gat_step(const RunOptions& options) {
  using namespace minidl;
  const int64_t N = 2708, F = 1433, hidden = 8, heads = 8, classes = 7, pairs = 5278;
  const int64_t train_nodes = 140;
  manual_seed(0);
  Tensor features = lt(rand({N, F}), 0.0127).to(kFloat32);
  std::vector<int64_t> sources, targets;
  {
    Generator& generator = default_generator();
    std::set<std::pair<int64_t, int64_t>> seen;
    while (static_cast<int64_t>(seen.size()) < pairs) {
      const int64_t a = generator.randint(0, N), b = generator.randint(0, N);
      if (a == b || !seen.insert({std::min(a, b), std::max(a, b)}).second) continue;
      sources.push_back(a);
      targets.push_back(b);
    }
  }
  std::vector<int64_t> edges(sources);  // row 0: sources a then b; row 1: targets b then a
  edges.insert(edges.end(), targets.begin(), targets.end());
  edges.insert(edges.end(), targets.begin(), targets.end());
  edges.insert(edges.end(), sources.begin(), sources.end());
  Tensor edge_index = nn::add_self_loops(from_vector(edges, {2, 2 * pairs}, kInt64), N);
  const int64_t E = edge_index.size(1);
  Tensor labels = randint(0, classes, {N});
  Tensor train_labels = labels.slice(0, 0, train_nodes);

  auto model = std::make_shared<nn::GAT>(F, hidden, classes, heads, /*output_heads=*/1, 0.6);
  optim::Adam optimizer(model->parameters(), optim::AdamOptions(5e-3).weight_decay(5e-4));
  Json res = run_training_step(
      optimizer,
      [&] {
        Tensor logits = model->forward_sparse(features, edge_index);
        return cross_entropy(logits.slice(0, 0, train_nodes), train_labels);
      },
      options);
  res["form"] = "sparse edge list (E=" + std::to_string(E) + ")";
  res["edges_directed_incl_self_loops"] = E;  // the key torch_bench.py reports
  res["peak_rss_mib"] = peak_rss_mib();       // of the timed steps, not of the dense check
  if (res.contains("error")) return res;

  // The dense adjacency of the same edges (adj[i][j] = 1 for edge j -> i).
  std::vector<float> adjacency(N * N, 0.0f);
  const std::vector<int64_t> all_edges = edge_index.to_vector<int64_t>();
  for (int64_t k = 0; k < E; ++k) adjacency[all_edges[E + k] * N + all_edges[k]] = 1.0f;
  Tensor adj = from_vector(adjacency, {N, N}, kFloat32);
  NoGradGuard no_grad;
  model->eval();
  Tensor sparse = model->forward_sparse(features, edge_index);
  Tensor dense = model->forward(features, adj);
  const double diff = (sparse - dense).abs().max().item<double>();
  res["max_abs_diff_vs_dense"] = diff;
  if (!(diff <= 1e-4 * (1.0 + dense.abs().max().item<double>())))
    res["error"] = "sparse GAT differs from the dense path by " + std::to_string(diff);
  return res;
}

}  // namespace bench
