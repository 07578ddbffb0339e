// Node classification as a Task: a graph whose nodes carry features, a few of them labelled; a
// model (models/graph/node_classifier.h) classifies every node from its features and its
// neighbourhood. Semi-supervised and full batch, as in the GAT paper and the Planetoid (Cora)
// tutorials: each epoch is one batch, the whole graph in one forward, with the cross-entropy on
// the training nodes only; validation and test nodes are classified in the same forward.
//
// Weight decay is an L2 penalty (weight_decay / 2) * Σ θ² added to the training loss: its
// gradient weight_decay * θ is exactly what PyTorch's Adam(weight_decay=...) of the tutorials
// adds (the "loss" metrics of evaluate leave it out).
//
// Metrics: accuracy on the split's nodes (headline), the mean cross-entropy there, and, when the
// config asks for it, the accuracy on all nodes (karate club: 32 unlabelled and all 34).
// predict("vim") or predict("17") classifies a node given by name or index; for an attention
// model the Prediction's attention map has one row per layer and a column for each of the
// neighbours (itself included) it attended to most.
//
// TaskOptions::smoke changes nothing here: the largest graph trains an epoch in a tenth of a
// second, and the smoke tests give a small snapshot as the data path instead.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "models/common/task.h"
#include "models/graph/node_classifier.h"

namespace minidl::models {

// Node indices of the three splits (int64 [n] each).
struct NodeSplit {
  Tensor train, valid, test;
};

// The Planetoid / Cora split (Yang et al. 2016, used by the GAT paper): in a seeded permutation
// of the nodes, the first `per_class` of each class are the training nodes, the next `valid`
// other nodes validate, the next `test` test. Graphs too small for that (smoke tests) get at most
// a third of their other nodes for validation and the rest, up to `test`, for test.
NodeSplit planetoid_split(const NodeGraph& graph, int64_t per_class, int64_t valid, int64_t test,
                          uint64_t seed);

// One registered node-classification task: how to load the graph, split it and build the model.
struct NodeClassificationConfig {
  std::string name;  // the registry name, for messages
  std::function<NodeGraph(const TaskOptions&)> load;
  std::function<NodeSplit(const NodeGraph&, const TaskOptions&)> split;
  std::function<std::shared_ptr<NodeClassifier>(const NodeGraph&, const TaskOptions&)> build;
  TrainDefaults defaults;
  double weight_decay = 5e-4;
  bool report_all_nodes = false;  // add "accuracy_all_nodes" to the metrics
  int64_t shown_neighbours = 12;  // columns of predict's attention map
};

// The Task described above.
class NodeClassificationTask : public Task {
 public:
  explicit NodeClassificationTask(NodeClassificationConfig config);

  void setup(const TaskOptions& options) override;
  nn::Module& model() override;
  TrainDefaults defaults() const override { return config_.defaults; }
  // One batch per epoch (the whole graph); batch_size is not used.
  int64_t start_epoch(int64_t epoch, int64_t batch_size) override;
  Tensor batch_loss(int64_t index, int64_t* items) override;
  // "train", "valid" or "test".
  Metrics evaluate(const std::string& split) override;
  bool shards_batches() const override { return true; }
  bool shard_runs_whole_forward() const override { return true; }
  Prediction predict(const std::string& input) override;
  std::vector<std::string> example_inputs() const override;

  const NodeGraph& graph() const { return graph_; }
  const NodeSplit& node_split() const { return split_; }
  // The model (after setup; before it is an error).
  NodeClassifier& classifier();
  // The node of a name or an index ("vim", "17"); an error if there is none.
  int64_t node_index(const std::string& input) const;

 private:
  const Tensor& split_nodes(const std::string& name) const;

  NodeClassificationConfig config_;
  NodeGraph graph_;
  NodeSplit split_;
  std::shared_ptr<NodeClassifier> model_;
  bool epoch_started_ = false;
};

// The registered models (models/registry.cpp):
//   gat-karate, gat-karate-dense  Zachary's karate club, identity features, one labelled node per
//                                 faction (0 = Mr. Hi, 33 = the officer); sparse / dense GAT
//   gat-debian-packages           the Debian package graph (data/debian_packages_graph.txt.gz),
//                                 40 labelled packages per section, 500 validate, 1,000 test
//   mlp-debian-packages           the MLP baseline on the same features and split
std::unique_ptr<Task> make_gat_karate_task();
std::unique_ptr<Task> make_gat_karate_dense_task();
std::unique_ptr<Task> make_gat_debian_packages_task();
std::unique_ptr<Task> make_mlp_debian_packages_task();

}  // namespace minidl::models
