#include "models/graph/graph_datasets.h"

#include "core/factories.h"
#include "models/data/karate_club.h"

namespace minidl::models {

NodeGraph karate_club_graph() {
  std::vector<std::string> names;
  for (int64_t i = 0; i < kKarateMembers; ++i) names.push_back(std::to_string(i));
  const auto& factions = karate_club_factions();
  return make_node_graph(
      names, karate_club_faction_names(), eye(kKarateMembers),
      from_vector(std::vector<int64_t>(factions.begin(), factions.end()), {kKarateMembers}, kInt64),
      karate_club_edges());
}

NodeGraph debian_package_graph(const DebianGraph& graph) {
  const int64_t n = static_cast<int64_t>(graph.packages.size());
  const int64_t words = static_cast<int64_t>(graph.vocabulary.size());
  std::vector<float> features(static_cast<size_t>(n * words), 0.0f);
  for (int64_t i = 0; i < n; ++i) {
    const auto& list = graph.features[i];
    for (int64_t w : list) features[i * words + w] = 1.0f / static_cast<float>(list.size());
  }
  return make_node_graph(graph.packages, graph.sections,
                         from_vector(features, {n, words}, kFloat32),
                         from_vector(graph.labels, {n}, kInt64), graph.edges);
}

}  // namespace minidl::models
