// The baseline of the GAT and Planetoid papers: a multi-layer perceptron on each node's features
// alone, ignoring the edges -- dropout -> Linear(in, hidden) -> ReLU -> dropout ->
// Linear(hidden, classes). What it misses against the GAT is what the graph contributes.
#pragma once

#include <memory>

#include "models/graph/node_classifier.h"
#include "nn/linear.h"

namespace minidl::models {

// node_logits: features [N, in_features] -> logits [N, classes]; the edges are not read.
class MLPNodeClassifier : public NodeClassifier {
 public:
  MLPNodeClassifier(int64_t in_features, int64_t classes, int64_t hidden = 64,
                    double dropout = 0.5);

  Tensor node_logits(const NodeGraph& graph) override;
  std::string extra_repr() const override;  // "dropout=0.5"

  double dropout;
  std::shared_ptr<nn::Linear> fc1, fc2;
};

}  // namespace minidl::models
