#include "models/graph/gat_node_classifier.h"

#include <algorithm>

#include "core/autograd.h"
#include "core/error.h"
#include "ops/reduction.h"

namespace minidl::models {

GATNodeClassifier::GATNodeClassifier(int64_t in_features, int64_t classes,
                                     GATClassifierOptions options)
    : NodeClassifier("GATNodeClassifier"), options(options) {
  gat = register_module(
      "gat", std::make_shared<nn::GAT>(in_features, options.hidden, classes, options.heads,
                                       options.output_heads, options.dropout));
}

std::string GATNodeClassifier::extra_repr() const {
  return std::string("dense=") + (options.dense ? "True" : "False");
}

nn::GATOutput GATNodeClassifier::run(const NodeGraph& graph) {
  return options.dense ? gat->forward_with_attention(graph.features, dense_adjacency(graph))
                       : gat->forward_sparse_with_attention(graph.features, graph.edge_index);
}

Tensor GATNodeClassifier::node_logits(const NodeGraph& graph) {
  return run(graph).logits;
}

NodeAttention GATNodeClassifier::node_attention(const NodeGraph& graph, int64_t node) {
  MINIDL_CHECK(node >= 0 && node < graph.num_nodes(), "GATNodeClassifier",
               "node " << node << " out of range for " << graph.num_nodes() << " nodes");
  NoGradGuard no_grad;
  const bool was_training = is_training();
  eval();
  nn::GATOutput out = run(graph);
  if (was_training) train();
  NodeAttention attention;
  attention.layers = {"layer 1 (mean of " + std::to_string(options.heads) + " heads)",
                      options.output_heads == 1
                          ? std::string("layer 2")
                          : "layer 2 (mean of " + std::to_string(options.output_heads) + " heads)"};
  const std::vector<int64_t> edges = graph.edge_index.to_vector<int64_t>();
  const int64_t count = graph.edge_index.size(1);
  std::vector<int64_t> into;  // the edges j -> node
  for (int64_t k = 0; k < count; ++k)
    if (edges[count + k] == node) into.push_back(k);
  std::vector<Tensor> layers;
  if (options.dense) {
    // [heads, N, N] -> row `node`, mean over heads: [N]
    layers = {out.attention1.select(1, node).mean({0}), out.attention2.select(1, node).mean({0})};
  } else {
    layers = {out.attention1.mean({1}), out.attention2.mean({1})};  // [E]
  }
  std::vector<std::vector<double>> per_layer;
  for (const Tensor& t : layers) per_layer.push_back(t.to_vector<double>());
  for (int64_t k : into) attention.sources.push_back(edges[k]);
  attention.weights.resize(2);
  for (size_t l = 0; l < 2; ++l)
    for (size_t m = 0; m < into.size(); ++m)
      attention.weights[l].push_back(options.dense ? per_layer[l][attention.sources[m]]
                                                   : per_layer[l][into[m]]);
  return attention;
}

}  // namespace minidl::models
