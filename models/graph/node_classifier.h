// What every node-classification model of models/graph sees: a graph with node features, and
// the interface of a model that maps it to per-node class logits (full batch: the whole graph in
// one forward, as the GAT paper and the Planetoid tutorials train).
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "core/tensor.h"
#include "nn/module.h"

namespace minidl::models {

// A graph with features and labels on its N nodes.
struct NodeGraph {
  std::vector<std::string> names;        // node names ("0".."33", package names)
  std::vector<std::string> class_names;  // label names
  Tensor features;                       // [N, F] float32
  Tensor labels;                         // [N] int64 in [0, classes)
  // [2, E] int64, row 0 = source j, row 1 = target i (nn::GraphAttention's convention): both
  // directions of every undirected edge, and a self-loop per node (as pyGAT and PyG add them).
  Tensor edge_index;
  int64_t num_nodes() const { return features.size(0); }
  int64_t num_classes() const { return static_cast<int64_t>(class_names.size()); }
};

// A NodeGraph from undirected edges {a, b} (a != b, each once): edge_index gets (a, b), (b, a)
// and the self-loops. Errors name the edge out of range.
NodeGraph make_node_graph(std::vector<std::string> names, std::vector<std::string> class_names,
                          Tensor features, Tensor labels,
                          const std::vector<std::pair<int64_t, int64_t>>& edges);

// The dense form of a graph's edge_index: adj [N, N] bool, adj[i][j] = edge j -> i.
Tensor dense_adjacency(const NodeGraph& graph);

// Which neighbours one node attended to: weights[layer][k] on the edge from sources[k].
struct NodeAttention {
  std::vector<std::string> layers;  // e.g. "layer 1 (mean of 8 heads)"
  std::vector<int64_t> sources;     // neighbour node indices (the node itself included)
  std::vector<std::vector<double>> weights;
};

// The interface: a full-batch model over a NodeGraph.
class NodeClassifier : public nn::Module {
 public:
  using nn::Module::Module;
  // Logits [N, classes] for every node of the graph (dropout etc. per train()/eval()).
  virtual Tensor node_logits(const NodeGraph& graph) = 0;
  // The attention on the edges into `node` in eval mode; empty for models without attention.
  virtual NodeAttention node_attention(const NodeGraph& graph, int64_t node) {
    (void)graph, (void)node;
    return {};
  }
};

}  // namespace minidl::models
