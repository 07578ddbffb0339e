// tools/predict: rebuilds a trained model's task from its checkpoint (the model name, seed, data
// path and smoke flag are in the checkpoint's metadata, so the vocabulary comes out the same),
// loads the parameters, and prints the prediction for each input with its attention map, in the
// terminal as shaded characters and as a PNG heat map. For image models whose prediction carries
// an image and a spatial attention grid per output word (a captioner), it writes one PNG per word
// -- the image with that word's attention laid over it -- and prints each in the terminal.
//
//   build/predict --checkpoint runs/dates --input "3 May 1979"
//   build/predict --checkpoint runs/caption --input test:17 --output overlays/
//   build/predict --model bahdanau-dates --checkpoint runs/dates --best --input "5/3/79" --png
//   a.png
#include <CLI/CLI.hpp>
#include <cctype>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <string>
#include <vector>

#include "core/autograd.h"
#include "core/error.h"
#include "models/common/image_overlay.h"
#include "models/common/plot.h"
#include "models/common/training.h"
#include "models/registry.h"
#include "nn/checkpoint.h"

using namespace minidl;
using namespace minidl::models;
namespace fs = std::filesystem;

namespace {

// `text` usable as a file name: characters other than letters, digits, '-', '_' and '.' become
// '-' ("test:17" -> "test-17", "t-shirt/top" -> "t-shirt-top").
std::string file_safe(const std::string& text) {
  std::string out;
  for (char c : text)
    out +=
        (std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.') ? c : '-';
  return out.empty() ? "input" : out;
}

// The per-word overlays of an image prediction: printed (unless no_map) and written as
// NN-WORD.png into out_dir (unless no_png).
void show_spatial_attention(const Prediction& p, const fs::path& out_dir, bool unicode, bool no_map,
                            bool no_png) {
  const int64_t words = p.spatial_attention.size(0);
  if (!p.source_tokens.empty()) std::cout << "input: " << p.source_tokens[0] << "\n";
  MINIDL_CHECK(p.image.defined() && words == static_cast<int64_t>(p.target_tokens.size()),
               "predict",
               "an image prediction needs the image and one attention grid per output token, got "
                   << words << " grids for " << p.target_tokens.size() << " tokens");
  if (words == 0) return;
  if (!no_png) fs::create_directories(out_dir);
  for (int64_t w = 0; w < words; ++w) {
    const std::string title = std::to_string(w + 1) + ". " + p.target_tokens[w];
    const Tensor map = p.spatial_attention.select(0, w);
    if (!no_map) std::cout << "\n" << terminal_attention_overlay(p.image, map, title, unicode);
    if (!no_png) {
      char number[32];
      std::snprintf(number, sizeof number, "%02lld-", static_cast<long long>(w + 1));
      const fs::path file = out_dir / (number + file_safe(p.target_tokens[w]) + ".png");
      write_png(file.string(), attention_overlay(p.image, map, 4, title));
    }
  }
  if (!no_png) std::cout << "attention overlays (one PNG per word): " << out_dir.string() << "/\n";
}

int run(int argc, char** argv) {
  CLI::App app{"minidl predict: runs a model trained by tools/train on the given inputs"};
  std::string model, checkpoint, png, data, output;
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
  app.add_option("--output", output,
                 "image models: the directory of the per-word attention overlays (default: "
                 "overlay-INPUT beside the checkpoint; a subdirectory per input for several)");
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
    if (p.spatial_attention.defined()) {
      fs::path out_dir =
          output.empty() ? dir / ("overlay-" + file_safe(inputs[i])) : fs::path(output);
      if (!output.empty() && inputs.size() > 1) out_dir /= file_safe(inputs[i]);
      show_spatial_attention(p, out_dir, unicode, no_map, no_png);
      continue;
    }
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
