// The graph attention network of Veličković et al. 2018 ("Graph Attention Networks", and the
// pyGAT / PyG tutorials) as a node classifier: nn::GAT, two GraphAttention layers (8 heads of 8
// features concatenated, ELU, dropout 0.6 on inputs and attention; one averaged output head), on
// the sparse edge list (O(E)) or, as an option, the dense adjacency-masked form (O(N²)); both
// compute the same function.
#pragma once

#include <memory>

#include "models/graph/node_classifier.h"
#include "nn/attention/graph_attention.h"

namespace minidl::models {

// The GAT's sizes (the paper's Cora settings by default).
struct GATClassifierOptions {
  int64_t hidden = 8;  // features per head of layer 1
  int64_t heads = 8;
  int64_t output_heads = 1;
  double dropout = 0.6;
  bool dense = false;  // the dense adjacency form instead of the edge list
};

// node_logits: features [N, in_features] and the edges -> logits [N, classes].
class GATNodeClassifier : public NodeClassifier {
 public:
  GATNodeClassifier(int64_t in_features, int64_t classes, GATClassifierOptions options = {});

  Tensor node_logits(const NodeGraph& graph) override;
  // Layer 1's weights averaged over its heads, and layer 2's, on each edge into `node`.
  NodeAttention node_attention(const NodeGraph& graph, int64_t node) override;
  std::string extra_repr() const override;  // "dense=False"

  GATClassifierOptions options;
  std::shared_ptr<nn::GAT> gat;

 private:
  nn::GATOutput run(const NodeGraph& graph);
};

}  // namespace minidl::models
