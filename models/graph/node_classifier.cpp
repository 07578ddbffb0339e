#include "models/graph/node_classifier.h"

#include "core/error.h"
#include "core/factories.h"

namespace minidl::models {

NodeGraph make_node_graph(std::vector<std::string> names, std::vector<std::string> class_names,
                          Tensor features, Tensor labels,
                          const std::vector<std::pair<int64_t, int64_t>>& edges) {
  const char* op = "make_node_graph";
  const int64_t n = static_cast<int64_t>(names.size());
  MINIDL_CHECK(features.defined() && features.dim() == 2 && features.size(0) == n, op,
               "features must be ["
                   << n << ", F] for " << n << " nodes, got "
                   << (features.defined() ? shape_str(features.shape()) : "undefined"));
  MINIDL_CHECK(labels.defined() && labels.dtype() == kInt64 && labels.shape() == Shape({n}), op,
               "labels must be int64 [" << n << "]");
  std::vector<int64_t> src, dst;
  for (const auto& [a, b] : edges) {
    MINIDL_CHECK(
        a >= 0 && b >= 0 && a < n && b < n && a != b, op,
        "edge {" << a << ", " << b << "} is a self-loop or out of range for " << n << " nodes");
    src.push_back(a), dst.push_back(b);
    src.push_back(b), dst.push_back(a);
  }
  for (int64_t i = 0; i < n; ++i) src.push_back(i), dst.push_back(i);
  const int64_t e = static_cast<int64_t>(src.size());
  src.insert(src.end(), dst.begin(), dst.end());
  NodeGraph graph;
  graph.names = std::move(names);
  graph.class_names = std::move(class_names);
  graph.features = features.to(kFloat32).contiguous();
  graph.labels = labels;
  graph.edge_index = from_vector(src, {2, e}, kInt64);
  return graph;
}

Tensor dense_adjacency(const NodeGraph& graph) {
  const int64_t n = graph.num_nodes();
  const std::vector<int64_t> e = graph.edge_index.to_vector<int64_t>();
  const int64_t count = graph.edge_index.size(1);
  std::vector<bool> adj(static_cast<size_t>(n * n), false);
  for (int64_t k = 0; k < count; ++k) adj[e[count + k] * n + e[k]] = true;  // j -> i at [i][j]
  return from_vector(adj, {n, n}, kBool);
}

}  // namespace minidl::models
