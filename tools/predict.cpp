// tools/predict: rebuilds a trained model's task from its checkpoint (the model name, seed, data
// path and smoke flag are in the checkpoint's metadata, so the vocabulary comes out the same),
// loads the parameters, and prints the prediction for each input with its attention map, in the
// terminal as shaded characters and as a PNG heat map.
//
//   build/predict --checkpoint runs/dates --input "3 May 1979"
//   build/predict --model bahdanau-dates --checkpoint runs/dates --best --input "5/3/79" --png
//   a.png
#include <CLI/CLI.hpp>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <string>
#include <vector>

#include "core/autograd.h"
#include "core/error.h"
#include "models/common/plot.h"
#include "models/registry.h"
#include "models/common/training.h"
#include "nn/checkpoint.h"

using namespace minidl;
using namespace minidl::models;
namespace fs = std::filesystem;

namespace {

int run(int argc, char** argv) {
  CLI::App app{"minidl predict: runs a model trained by tools/train on the given inputs"};
  std::string model, checkpoint, png, data;
  std::vector<std::string> inputs;
  bool best = false, ascii = false, no_png = false, no_map = false;
  app.add_option("--model", model, "the model (default: the checkpoint's)");
  app.add_option("--checkpoint", checkpoint,
                 "checkpoint directory or file written by tools/train (default: runs/MODEL)");
  app.add_flag("--best", best, "use best.safetensors of the directory instead of the last");
  app.add_option("--input", inputs, "input text (repeatable; default: the model's examples)");
  app.add_option("--png", png,
                 "where the attention heat map goes (default: attention.png beside the "
                 "checkpoint; attention-N.png for several inputs)");
  app.add_flag("--no-png", no_png, "do not write the PNG");
  app.add_flag("--no-map", no_map, "do not print the attention map");
  app.add_flag("--ascii", ascii, "shade with ASCII characters even on a UTF-8 terminal");
  app.add_option("--data", data,
                 "data path, if it moved since training (default: the checkpoint's)");
  CLI11_PARSE(app, argc, argv);

  if (checkpoint.empty()) {
    MINIDL_CHECK(!model.empty(), "predict",
                 "give --checkpoint DIR (or --model NAME for runs/NAME)");
    checkpoint = "runs/" + model;
  }
  if (best) {
    MINIDL_CHECK(fs::is_directory(checkpoint), "predict",
                 "--best needs a checkpoint directory, got " << checkpoint);
    checkpoint = (fs::path(checkpoint) / "best.safetensors").string();
  }
  const std::string path = nn::checkpoint_path(checkpoint);
  CheckpointConfig config = read_checkpoint_config(path);
  if (model.empty()) model = config.model;
  MINIDL_CHECK(model == config.model, "predict",
               path << " holds model \"" << config.model << "\", not \"" << model << "\"");
  if (!data.empty()) config.task.data_path = data;

  const TaskInfo& info = find_task(model);
  std::unique_ptr<Task> task = info.make();
  setup_task(*task, config.task);
  load_model_parameters(task->model(), path);
  task->model().eval();
  std::cout << info.name << " (" << info.tutorial << ") from " << path << "\n";

  if (inputs.empty()) inputs = task->example_inputs();
  const bool unicode = !ascii && terminal_supports_utf8();
  const fs::path dir = fs::path(path).parent_path();
  for (size_t i = 0; i < inputs.size(); ++i) {
    Prediction p;
    {
      NoGradGuard no_grad;
      p = task->predict(inputs[i]);
    }
    std::cout << "\n" << inputs[i] << "  ->  " << p.output << "\n";
    if (!p.attention.defined()) continue;
    if (!no_map)
      std::cout << "\n"
                << terminal_heat_map(p.attention, p.source_tokens, p.target_tokens, unicode);
    if (!no_png) {
      std::string file = png;
      if (file.empty())
        file = (dir / (inputs.size() == 1 ? std::string("attention.png")
                                          : "attention-" + std::to_string(i + 1) + ".png"))
                   .string();
      else if (inputs.size() > 1)
        file = (fs::path(file).parent_path() /
                (fs::path(file).stem().string() + "-" + std::to_string(i + 1) +
                 fs::path(file).extension().string()))
                   .string();
      write_heat_map_png(file, p.attention, p.source_tokens, p.target_tokens);
      std::cout << "attention map: " << file << "\n";
    }
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    return run(argc, argv);
  } catch (const std::exception& e) {
    std::fflush(stdout);
    std::cerr << (dynamic_cast<const Error*>(&e) ? "" : "predict: ") << e.what() << "\n";
    return 1;
  }
}
