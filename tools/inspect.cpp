// tools/inspect: draws the tape of one training step -- every op the forward recorded, the
// parameters it read, what each op saved for backward -- as a Graphviz graph.
//
//   build/inspect --list
//   build/inspect --net mlp --activation gelu --format svg     (writes mlp-gelu.svg)
//   build/inspect --model bahdanau-dates --out dates.dot
//   MINIDL_TRACE=1 build/inspect --net mlp                     (also prints each entry as it is
//                                                              recorded and as backward runs it)
//
// A model of the registry (models/registry.h) is set up small (its smoke configuration) and one
// batch's loss is computed and back-propagated; a built-in net (--net) is a few layers on random
// inputs, with the activation of --activation. The graph shows the tape after backward, so each
// parameter also shows its gradient's norm. svg and png need Graphviz's `dot`.
#include <sys/stat.h>

#include <CLI/CLI.hpp>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <iostream>
#include <map>
#include <memory>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "core/autograd.h"
#include "core/error.h"
#include "core/factories.h"
#include "core/generator.h"
#include "core/graph_dot.h"
#include "core/trace.h"
#include "models/common/interactive_task.h"
#include "models/registry.h"
#include "nn/conv.h"
#include "nn/linear.h"
#include "nn/module.h"
#include "nn/rnn.h"
#include "ops/activation_extra.h"
#include "ops/elementwise.h"
#include "ops/linalg.h"
#include "ops/loss.h"
#include "ops/mish.h"
#include "ops/pool.h"
#include "ops/softmax.h"

using namespace minidl;

namespace {

// ---------------------------------------------------------------- the built-in nets

using Activation = std::function<Tensor(const Tensor&)>;

// The activations --activation offers. Added a new activation op? Add a line here and see its
// backward node in the graph: build/inspect --net mlp --activation NAME --format svg
const std::vector<std::pair<std::string, Activation>> kActivations = {
    {"relu", [](const Tensor& x) { return relu(x); }},
    {"gelu", [](const Tensor& x) { return gelu(x); }},
    {"gelu_tanh", [](const Tensor& x) { return gelu(x, "tanh"); }},
    {"tanh", [](const Tensor& x) { return tanh(x); }},
    {"sigmoid", [](const Tensor& x) { return sigmoid(x); }},
    {"silu", [](const Tensor& x) { return silu(x); }},
    {"elu", [](const Tensor& x) { return elu(x); }},
    {"leaky_relu", [](const Tensor& x) { return leaky_relu(x, 0.1); }},
    {"softplus", [](const Tensor& x) { return softplus(x); }},
    {"hardtanh", [](const Tensor& x) { return hardtanh(x); }},
    {"relu6", [](const Tensor& x) { return relu6(x); }},
    {"mish", [](const Tensor& x) { return mish(x); }},
};

// A tiny net: its module (for the parameter names) and one step's loss.
struct Net {
  std::shared_ptr<nn::Module> module;
  std::function<Tensor()> loss;
};

// Linear(4, 8) -> activation -> Linear(8, 3), cross-entropy over 2 examples.
struct Mlp : nn::Module {
  explicit Mlp(Activation act) : Module("Mlp"), act(std::move(act)) {
    fc1 = register_module("fc1", std::make_shared<nn::Linear>(4, 8));
    fc2 = register_module("fc2", std::make_shared<nn::Linear>(8, 3));
  }
  Tensor forward(const Tensor& x) override { return fc2->forward(act(fc1->forward(x))); }
  Activation act;
  std::shared_ptr<nn::Linear> fc1, fc2;
};

// Single-head self-attention written out (q k^T / sqrt(d), softmax, times v), then the
// activation and a linear read-out; squared error over 2 sequences of 3 tokens.
struct Attention : nn::Module {
  explicit Attention(Activation act) : Module("Attention"), act(std::move(act)) {
    query = register_module("query", std::make_shared<nn::Linear>(8, 8));
    key = register_module("key", std::make_shared<nn::Linear>(8, 8));
    value = register_module("value", std::make_shared<nn::Linear>(8, 8));
    out = register_module("out", std::make_shared<nn::Linear>(8, 1));
  }
  Tensor forward(const Tensor& x) override {
    Tensor q = query->forward(x), k = key->forward(x), v = value->forward(x);
    Tensor weights = softmax(div(matmul(q, k.transpose(-1, -2)), std::sqrt(8.0)), -1);
    return out->forward(act(matmul(weights, v)));
  }
  Activation act;
  std::shared_ptr<nn::Linear> query, key, value, out;
};

// LSTM(4, 6) over 3 steps of a batch of 2; the last output -> activation -> Linear(6, 3).
struct Lstm : nn::Module {
  explicit Lstm(Activation act) : Module("Lstm"), act(std::move(act)) {
    lstm = register_module("lstm", std::make_shared<nn::LSTM>(4, 6));
    head = register_module("head", std::make_shared<nn::Linear>(6, 3));
  }
  Tensor forward(const Tensor& x) override {
    Tensor outputs = std::get<0>(lstm->forward(x));
    return head->forward(act(outputs.select(0, -1)));
  }
  Activation act;
  std::shared_ptr<nn::LSTM> lstm;
  std::shared_ptr<nn::Linear> head;
};

// Conv2d(1, 4, 3) on 6x6 images -> activation -> 2x2 max pooling -> Linear(16, 3).
struct Conv : nn::Module {
  explicit Conv(Activation act) : Module("Conv"), act(std::move(act)) {
    conv = register_module("conv", std::make_shared<nn::Conv2d>(1, 4, 3));
    head = register_module("head", std::make_shared<nn::Linear>(16, 3));
  }
  Tensor forward(const Tensor& x) override {
    return head->forward(max_pool2d(act(conv->forward(x)), 2).flatten(1));
  }
  Activation act;
  std::shared_ptr<nn::Conv2d> conv;
  std::shared_ptr<nn::Linear> head;
};

const std::vector<std::pair<std::string, std::string>> kNets = {
    {"mlp", "Linear(4, 8) -> activation -> Linear(8, 3), cross-entropy"},
    {"attention",
     "self-attention written out (q k^T / sqrt(d), softmax, @ v) -> activation -> "
     "Linear, squared error"},
    {"lstm", "LSTM(4, 6) over 3 steps -> activation -> Linear(6, 3), cross-entropy"},
    {"conv", "Conv2d(1, 4, 3) -> activation -> max_pool2d -> Linear(16, 3), cross-entropy"},
};

Net make_net(const std::string& name, const Activation& act) {
  Tensor classes = tensor<int64_t>({0, 2}, kInt64);
  if (name == "mlp") {
    auto m = std::make_shared<Mlp>(act);
    Tensor x = randn({2, 4});
    return {m, [m, x, classes] { return cross_entropy(m->forward(x), classes); }};
  }
  if (name == "attention") {
    auto m = std::make_shared<Attention>(act);
    Tensor x = randn({2, 3, 8});
    Tensor target = zeros({2, 3, 1});
    return {m, [m, x, target] { return mse_loss(m->forward(x), target); }};
  }
  if (name == "lstm") {
    auto m = std::make_shared<Lstm>(act);
    Tensor x = randn({3, 2, 4});
    return {m, [m, x, classes] { return cross_entropy(m->forward(x), classes); }};
  }
  auto m = std::make_shared<Conv>(act);
  Tensor x = randn({2, 1, 6, 6});
  return {m, [m, x, classes] { return cross_entropy(m->forward(x), classes); }};
}

// ---------------------------------------------------------------- the tool

template <typename List>
std::string names_of(const List& list) {
  std::string names;
  for (const auto& entry : list) names += (names.empty() ? "" : ", ") + entry.first;
  return names;
}

void list_all() {
  auto row = [](const std::string& name, size_t width, const std::string& what) {
    std::cout << "  " << name << std::string(width + 2 - name.size(), ' ') << what << "\n";
  };
  std::cout << "built-in nets (--net NAME, with --activation NAME):\n";
  for (const auto& [name, what] : kNets) row(name, 9, what);
  std::cout << "activations: " << names_of(kActivations) << "\n\nmodels (--model NAME):\n";
  size_t width = 0;
  for (const auto& t : models::registered_tasks()) width = std::max(width, t.name.size());
  for (const auto& t : models::registered_tasks()) row(t.name, width, t.tutorial);
}

// The full path of `program` on PATH, or "".
std::string find_on_path(const std::string& program) {
  const char* path = std::getenv("PATH");
  if (!path) return "";
  std::stringstream dirs(path);
  std::string dir;
  while (std::getline(dirs, dir, ':')) {
    if (dir.empty()) continue;
    const std::string candidate = dir + "/" + program;
    struct stat info {};
    if (stat(candidate.c_str(), &info) == 0 && S_ISREG(info.st_mode) && (info.st_mode & S_IXUSR))
      return candidate;
  }
  return "";
}

std::string shell_quote(const std::string& s) {
  std::string out = "'";
  for (char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

// One training step's loss of a registered model, and its parameter names.
Tensor model_loss(const std::string& name, int64_t batch_size, uint64_t seed,
                  std::unique_ptr<models::Task>& task) {
  task = models::make_task(name);
  models::TaskOptions options;
  options.smoke = true;
  options.seed = seed;
  task->setup(options);
  task->model().train();
  if (models::InteractiveTask* interactive = task->interactive()) {
    // Act until the first learning update (the replay buffer must fill first).
    for (int step = 0; step < 100000; ++step) {
      models::InteractionStep s = interactive->interact(batch_size);
      if (s.loss.defined()) return s.loss;
    }
    MINIDL_FAIL("inspect", name << " made no learning update in 100000 environment steps");
  }
  task->start_epoch(0, batch_size);
  int64_t items = 0;
  return task->batch_loss(0, &items);
}

int run(int argc, char** argv) {
  CLI::App app{
      "minidl inspect: draws the tape of one training step (forward and backward) as a Graphviz "
      "graph"};
  std::string model, net, activation = "relu", out, format;
  bool list = false;
  int64_t batch_size = 2;
  uint64_t seed = 0;
  app.add_flag("--list", list, "list the models, built-in nets and activations");
  app.add_option("--model", model, "a model of the registry (see --list), in its smoke size");
  app.add_option("--net", net, "a tiny built-in net: mlp, attention, lstm or conv");
  app.add_option("--activation", activation, "the built-in net's activation (see --list)")
      ->capture_default_str();
  app.add_option("--out", out, "the file to write (default: NAME.FORMAT)");
  app.add_option("--format", format,
                 "dot, svg or png (default: from --out's extension, else dot); svg and png run "
                 "Graphviz's dot");
  app.add_option("--batch-size", batch_size, "examples in the model's batch")
      ->capture_default_str();
  app.add_option("--seed", seed, "random seed")->capture_default_str();
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }
  if (list) {
    list_all();
    return 0;
  }
  if (model.empty() == net.empty()) {
    std::cerr << "inspect: give one of --model NAME or --net NAME (--list shows them)\n";
    return 2;
  }
  const auto act = std::find_if(kActivations.begin(), kActivations.end(),
                                [&](const auto& a) { return a.first == activation; });
  if (act == kActivations.end()) {
    std::cerr << "inspect: unknown activation \"" << activation
              << "\"; the activations are: " << names_of(kActivations) << "\n";
    return 2;
  }
  if (!net.empty() &&
      std::none_of(kNets.begin(), kNets.end(), [&](const auto& n) { return n.first == net; })) {
    std::cerr << "inspect: unknown net \"" << net << "\"; the nets are: " << names_of(kNets)
              << "\n";
    return 2;
  }
  if (!model.empty()) {
    const auto names = models::task_names();
    if (std::find(names.begin(), names.end(), model) == names.end()) {
      std::string known;
      for (const std::string& n : names) known += (known.empty() ? "" : ", ") + n;
      std::cerr << "inspect: unknown model \"" << model << "\"; the models are: " << known << "\n";
      return 2;
    }
  }
  if (format.empty()) {
    const std::string ext = std::filesystem::path(out).extension().string();
    format = ext == ".svg" ? "svg" : ext == ".png" ? "png" : "dot";
  }
  if (format != "dot" && format != "svg" && format != "png") {
    std::cerr << "inspect: unknown format \"" << format << "\"; the formats are: dot, svg, png\n";
    return 2;
  }
  const std::string label = model.empty() ? net + "-" + activation : model;
  if (out.empty()) out = label + "." + format;

  // One step, with each entry's saved tensors filed for the graph.
  manual_seed(seed);
  RecordSavedTensorsGuard saved_tensors;
  std::unique_ptr<models::Task> task;
  Net tiny;
  Tensor loss;
  if (model.empty()) {
    tiny = make_net(net, act->second);
    tiny.module->train();
    loss = tiny.loss();
  } else {
    loss = model_loss(model, batch_size, seed, task);
  }
  nn::Module& module = task ? task->model() : *tiny.module;
  loss.backward();

  DotOptions options;
  options.add_names(module.named_parameters());
  options.title = model.empty() ? "net " + net + " with " + activation + ": one training step"
                                : "model " + model + " (smoke size): one training step";
  const TapeSummary summary = summarize_tape(loss, options);

  // The .dot, then the picture.
  const std::string dot_path =
      format == "dot" ? out : std::filesystem::path(out).replace_extension(".dot").string();
  write_dot(dot_path, loss, options);
  std::string written = dot_path;
  if (format != "dot") {
    const std::string dot = find_on_path("dot");
    if (dot.empty()) {
      std::cerr << "inspect: Graphviz's `dot` is not installed, so only " << dot_path
                << " was written. Install it (sudo apt-get install graphviz) and render with:\n"
                << "  dot -T" << format << " " << shell_quote(dot_path) << " -o "
                << shell_quote(out) << "\n";
    } else {
      const std::string command = shell_quote(dot) + " -T" + format + " " + shell_quote(dot_path) +
                                  " -o " + shell_quote(out);
      if (std::system(command.c_str()) != 0) {
        std::cerr << "inspect: `" << command << "` failed; " << dot_path << " is the graph\n";
        return 1;
      }
      written = out + " (and " + dot_path + ")";
    }
  }

  std::cout << "inspect " << label << ": loss " << loss.item<double>() << "\n"
            << "tape: " << summary.entries << " entries, " << summary.edges << " edges, "
            << summary.leaves << " leaves requiring grad (" << summary.parameters
            << " of them parameters), " << summary.saved_tensors << " tensors saved for backward\n"
            << "ops:";
  size_t shown = 0;
  for (const auto& [op, count] : summary.op_counts) {
    if (shown++ == 8) {
      std::cout << " ...";
      break;
    }
    std::cout << " " << op << " x" << count;
  }
  std::cout << "\nwrote " << written << "\n";
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    return run(argc, argv);
  } catch (const std::exception& e) {
    std::cerr << "inspect: " << e.what() << "\n";
    return 1;
  }
}
