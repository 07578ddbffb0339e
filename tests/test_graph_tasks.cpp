// The node-classification task (models/graph/node_classification_task.h) and its models: GAT on
// Zachary's karate club (sparse and dense give the same function; 2 labels suffice), and the
// Debian-package models on a small synthetic snapshot written here (smoke: training, metrics,
// predict with attention, checkpoint round trip, errors).
#include <filesystem>

#include "core/autograd.h"
#include "models/data/debian_graph.h"
#include "models/graph/gat_node_classifier.h"
#include "models/graph/graph_datasets.h"
#include "models/graph/node_classification_task.h"
#include "nn/optim.h"
#include "tests/task_test_util.h"
#include "tests/test_util.h"

using namespace minidl;
using namespace minidl::models;

namespace {

std::unique_ptr<Task> karate(bool dense, uint64_t seed = 0) {
  auto task = dense ? make_gat_karate_dense_task() : make_gat_karate_task();
  TaskOptions options;
  options.seed = seed;
  task->setup(options);
  return task;
}

// Full-batch training as build/train does it: `epochs` Adam steps; the loss of each.
std::vector<double> fit(Task& task, int epochs, double lr) {
  optim::Adam optimizer(task.model().parameters(), optim::AdamOptions(lr));
  std::vector<double> losses;
  for (int epoch = 0; epoch < epochs; ++epoch) {
    REQUIRE(task.start_epoch(epoch, 1) == 1);
    optimizer.zero_grad();
    Tensor loss = task.batch_loss(0, nullptr);
    losses.push_back(loss.item<double>());
    loss.backward();
    optimizer.step();
  }
  return losses;
}

void set_dropout(Task& task, double p) {
  auto& gat = *dynamic_cast<GATNodeClassifier&>(task.model()).gat;
  gat.dropout = gat.conv1->dropout = gat.conv2->dropout = p;
}

// Three sections of 60 packages: each section's descriptions share two words of its own (and
// one word common to all), its packages form a ring, plus a few edges across sections.
std::string synthetic_snapshot() {
  static const std::string path = [] {
    DebianGraph g;
    g.source = "synthetic (tests/test_graph_tasks.cpp)";
    g.sections = {"games", "sound", "web"};
    g.vocabulary = {"audio", "browser", "chess", "free", "http", "music", "play", "server"};
    const std::vector<std::vector<int64_t>> words = {{2, 6}, {0, 5}, {1, 4}};
    for (int64_t s = 0; s < 3; ++s)
      for (int64_t k = 0; k < 60; ++k) {
        g.packages.push_back(g.sections[s] + "-" + std::to_string(k));
        g.labels.push_back(s);
        std::vector<int64_t> f = {3};  // "free" everywhere
        if (k % 3 != 0) f.push_back(words[s][0]);
        if (k % 3 != 1) f.push_back(words[s][1]);
        std::sort(f.begin(), f.end());
        g.features.push_back(f);
      }
    for (int64_t s = 0; s < 3; ++s)
      for (int64_t k = 0; k < 60; ++k) {
        const int64_t a = s * 60 + k, b = s * 60 + (k + 1) % 60;
        g.edges.emplace_back(std::min(a, b), std::max(a, b));
      }
    g.edges.emplace_back(0, 60);
    g.edges.emplace_back(61, 120);
    std::sort(g.edges.begin(), g.edges.end());
    const std::string p =
        (std::filesystem::temp_directory_path() / "minidl_graph_task_test.txt.gz").string();
    write_debian_graph(p, g);
    return p;
  }();
  return path;
}

std::unique_ptr<Task> debian(bool gat) {
  auto task = gat ? make_gat_debian_packages_task() : make_mlp_debian_packages_task();
  TaskOptions options;
  options.data_path = synthetic_snapshot();
  options.smoke = true;
  task->setup(options);
  return task;
}

}  // namespace

TEST_CASE("gat-karate: the graph, one label per faction, 32+ of 34 members right", "[graph]") {
  auto task = karate(false);
  auto& nodes = dynamic_cast<NodeClassificationTask&>(*task);
  CHECK(nodes.graph().num_nodes() == 34);
  CHECK(nodes.graph().edge_index.shape() == Shape({2, 2 * 78 + 34}));  // both ways + self-loops
  CHECK(nodes.node_split().train.to_vector<int64_t>() == std::vector<int64_t>{0, 33});
  CHECK(nodes.node_split().test.numel() == 32);
  std::vector<double> losses = fit(*task, 200, 0.005);
  CHECK(losses.back() < losses.front() * 0.5);
  Metrics test = task->evaluate("test");
  REQUIRE(test.size() == 3);
  CHECK(test[2].first == "accuracy_all_nodes");
  CHECK(test[2].second >= 32.0 / 34.0);
  CHECK(test[0].second >= 30.0 / 32.0);
  // predict by index: the officer's own faction, with the neighbours he attended to
  Prediction p = task->predict("33");
  CHECK(p.output.find("Officer  (33, true Officer, train node)") == 0);
  CHECK(p.target_tokens.size() == 2);
  CHECK(p.attention.shape() == Shape({2, 12}));  // 17 friends + himself, the 12 strongest shown
  Tensor row = p.attention.select(0, 1);
  CHECK(row.index({0}).item<double>() >= row.index({11}).item<double>());
}

TEST_CASE("gat-karate: dense and sparse GAT give the same losses and predictions", "[graph]") {
  auto sparse = karate(false, 5), dense = karate(true, 5);
  // the same seed builds the same parameters, so the same function: equal eval metrics
  const nn::StateDict ps = sparse->model().named_parameters();
  const nn::StateDict pd = dense->model().named_parameters();
  REQUIRE(ps.size() == pd.size());
  for (size_t i = 0; i < ps.size(); ++i) {
    INFO(ps[i].first);
    CHECK(ps[i].first == pd[i].first);
    CHECK(testing::allclose(ps[i].second, pd[i].second, 0, 0));
  }
  Metrics a = sparse->evaluate("test"), b = dense->evaluate("test");
  for (size_t i = 0; i < a.size(); ++i) CHECK(a[i].second == Approx(b[i].second).margin(1e-6));
  // training without dropout (the two forms draw different attention-dropout masks, [E, heads]
  // vs [heads, N, N]): the same loss at every step and the same predictions
  set_dropout(*sparse, 0.0);
  set_dropout(*dense, 0.0);
  std::vector<double> ls = fit(*sparse, 60, 0.005), ld = fit(*dense, 60, 0.005);
  for (size_t i = 0; i < ls.size(); ++i) {
    INFO("step " << i);
    CHECK(ls[i] == Approx(ld[i]).epsilon(1e-4));
  }
  CHECK(ls.back() < ls.front() * 0.5);
  for (int node = 0; node < 34; ++node)
    CHECK(sparse->predict(std::to_string(node)).output ==
          dense->predict(std::to_string(node)).output);
  Prediction from_sparse = sparse->predict("0"), from_dense = dense->predict("0");
  CHECK(from_sparse.source_tokens == from_dense.source_tokens);
  CHECK(testing::allclose(from_sparse.attention, from_dense.attention, 1e-4, 1e-5));
}

TEST_CASE("gat-debian-packages / mlp-debian-packages smoke on a synthetic snapshot", "[graph]") {
  for (bool gat : {true, false}) {
    INFO((gat ? "gat" : "mlp"));
    auto task = debian(gat);
    auto& nodes = dynamic_cast<NodeClassificationTask&>(*task);
    CHECK(nodes.graph().num_nodes() == 180);
    CHECK(nodes.graph().features.shape() == Shape({180, 8}));
    // 40 labelled per section; the other 60 nodes: 20 validate, 40 test (the small-graph rule)
    CHECK(nodes.node_split().train.numel() == 120);
    CHECK(nodes.node_split().valid.numel() == 20);
    CHECK(nodes.node_split().test.numel() == 40);
    std::vector<double> losses = fit(*task, 40, 0.01);
    CHECK(losses.back() < losses.front() * 0.8);
    CHECK(task->evaluate("test")[0].second > 0.6);  // chance is 1/3
    Prediction p = task->predict("sound-4");
    CHECK(p.output.find("(sound-4, true sound, ") != std::string::npos);
    CHECK(p.attention.defined() == gat);
    if (gat) CHECK(p.source_tokens.size() == 3);  // sound-3, sound-5 and itself
    CHECK(task->example_inputs().size() == 5);

    optim::Adam optimizer(task->model().parameters(), optim::AdamOptions(0.01));
    auto restored = debian(gat);
    minidl::testing::checkpoint_round_trip(*task, optimizer, *restored,
                                           gat ? "gat_debian" : "mlp_debian");
    for (const std::string& input : task->example_inputs())
      CHECK(task->predict(input).output == restored->predict(input).output);
  }
}

TEST_CASE("node classification: errors name the problem", "[graph]") {
  auto task = debian(true);
  CHECK_THROWS_WITH(task->predict("no-such-package"),
                    Catch::Contains("no node named \"no-such-package\""));
  CHECK_THROWS_WITH(task->predict("999"), Catch::Contains("node index 999 out of range [0, 180)"));
  CHECK_THROWS_WITH(task->evaluate("holdout"), Catch::Contains("unknown split 'holdout'"));
  CHECK_THROWS_WITH(task->batch_loss(0, nullptr), Catch::Contains("call start_epoch"));
  task->start_epoch(0, 1);
  CHECK_THROWS_WITH(task->batch_loss(1, nullptr), Catch::Contains("one full-graph batch"));
  auto missing = make_mlp_debian_packages_task();
  TaskOptions options;
  options.data_path = "/nonexistent/graph.txt.gz";
  CHECK_THROWS_WITH(missing->setup(options),
                    Catch::Contains("/nonexistent/graph.txt.gz") && Catch::Contains("cannot open"));
  NodeGraph g = karate_club_graph();
  CHECK_THROWS_WITH(planetoid_split(g, 20, 5, 5, 0), Catch::Contains("leaves no test node"));
}
