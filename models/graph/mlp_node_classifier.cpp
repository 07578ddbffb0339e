#include "models/graph/mlp_node_classifier.h"

#include "core/error.h"
#include "nn/activation.h"
#include "ops/dropout.h"
#include "ops/elementwise.h"

namespace minidl::models {

MLPNodeClassifier::MLPNodeClassifier(int64_t in_features, int64_t classes, int64_t hidden,
                                     double dropout)
    : NodeClassifier("MLPNodeClassifier"), dropout(dropout) {
  MINIDL_CHECK(dropout >= 0.0 && dropout < 1.0, "MLPNodeClassifier",
               "dropout must be in [0, 1), got " << dropout);
  fc1 = register_module("fc1", std::make_shared<nn::Linear>(in_features, hidden));
  fc2 = register_module("fc2", std::make_shared<nn::Linear>(hidden, classes));
}

std::string MLPNodeClassifier::extra_repr() const {
  return "dropout=" + nn::python_float(dropout);
}

Tensor MLPNodeClassifier::node_logits(const NodeGraph& graph) {
  // [N, F] -> [N, hidden] -> [N, classes]; the edges are not used.
  Tensor h = minidl::dropout(graph.features, dropout, is_training());
  h = minidl::dropout(relu((*fc1)(h)), dropout, is_training());
  return (*fc2)(h);
}

}  // namespace minidl::models
