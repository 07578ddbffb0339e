// The checkpoints of train() (see models/common/training.h): the run's settings in their
// metadata and back, the model's parameters alone, resumability, and temporary files left by
// interrupted writes.
#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <filesystem>

#include "core/autograd.h"
#include "core/error.h"
#include "models/common/training.h"
#include "models/common/training_util.h"
#include "nn/checkpoint.h"

namespace minidl::models {

using detail::number_text;
using detail::parse_double;
using detail::parse_int;
using detail::required_in;

nn::Metadata checkpoint_metadata(const TrainOptions& options, const TrainDefaults& settings) {
  return {{"model", options.model},
          {"seed", std::to_string(options.seed)},
          {"data_path", options.data_path},
          {"smoke", options.smoke ? "1" : "0"},
          {"optimizer", settings.optimizer},
          {"lr", number_text(settings.lr)},
          {"batch_size", std::to_string(settings.batch_size)},
          {"epochs", std::to_string(settings.epochs)},
          {"clip_grad_norm", number_text(settings.clip_grad_norm)},
          {"schedule", settings.schedule},
          {"warmup_steps", std::to_string(settings.warmup_steps)}};
}

CheckpointConfig read_checkpoint_config(const std::string& dir_or_path) {
  const std::string path = nn::checkpoint_path(dir_or_path);
  MINIDL_CHECK(std::filesystem::exists(path), "read_checkpoint_config",
               "no checkpoint at " << path);
  const nn::Metadata metadata = nn::load_safetensors_metadata(path);
  CheckpointConfig config;
  config.model = required_in("read_checkpoint_config", metadata, "user.model", path);
  const std::string& seed = required_in("read_checkpoint_config", metadata, "user.seed", path);
  // Digits only: std::stoull alone would take "-5" (as 2^64 - 5) or " 7".
  bool digits = !seed.empty() && seed.size() <= 20;
  for (char c : seed) digits = digits && c >= '0' && c <= '9';
  try {
    size_t used = 0;
    if (digits) config.task.seed = std::stoull(seed, &used);
    digits = digits && used == seed.size();
  } catch (const std::exception&) {
    digits = false;  // out of range
  }
  MINIDL_CHECK(digits, "read_checkpoint_config",
               path << ": metadata \"user.seed\" is not a non-negative 64-bit integer: \"" << seed
                    << "\" (the file is damaged or was not written by tools/train)");
  config.task.data_path = required_in("read_checkpoint_config", metadata, "user.data_path", path);
  config.task.smoke = required_in("read_checkpoint_config", metadata, "user.smoke", path) == "1";
  return config;
}

void load_model_parameters(nn::Module& model, const std::string& dir_or_path) {
  const std::string path = nn::checkpoint_path(dir_or_path);
  MINIDL_CHECK(std::filesystem::exists(path), "load_model_parameters", "no checkpoint at " << path);
  nn::StateDict state;
  const std::string prefix = "model.";
  for (auto& [name, tensor] : nn::load_safetensors(path))
    if (name.compare(0, prefix.size(), prefix) == 0) {
      // A diverged model would decode garbage (or nothing) without a word: refuse it here.
      MINIDL_CHECK(!has_non_finite(tensor, true), "load_model_parameters",
                   path << " holds NaN or infinite weights in " << name.substr(prefix.size())
                        << " (the training diverged); use best.safetensors or an earlier "
                           "checkpoint, or train again with a smaller --lr");
      state.emplace_back(name.substr(prefix.size()), tensor);
    }
  model.load_state_dict(state);
}

int remove_stale_temp_files(const std::string& dir) {
  namespace fs = std::filesystem;
  int removed = 0;
  std::error_code error;
  if (dir.empty() || !fs::is_directory(dir, error)) return 0;
  for (const fs::directory_entry& entry : fs::directory_iterator(dir, error)) {
    // NAME.tmp.PID, as nn::write_file_atomic names them
    const std::string name = entry.path().filename().string();
    const size_t mark = name.rfind(".tmp.");
    if (mark == std::string::npos || mark + 5 >= name.size()) continue;
    const std::string pid_text = name.substr(mark + 5);
    if (pid_text.find_first_not_of("0123456789") != std::string::npos || pid_text.size() > 9)
      continue;
    const pid_t pid = static_cast<pid_t>(std::stol(pid_text));
    if (pid == ::getpid() || (::kill(pid, 0) == 0 || errno == EPERM)) continue;  // still writing
    if (fs::remove(entry.path(), error)) ++removed;
  }
  return removed;
}

void check_resumable(int64_t epoch, int64_t epochs, const std::string& checkpoint_path) {
  MINIDL_CHECK(epoch < epochs, "train",
               "--resume: the run of " << checkpoint_path << " already finished its " << epochs
                                       << " epochs; to train further, resume with more, e.g. "
                                          "--resume --epochs "
                                       << epochs * 2);
}

TrainDefaults checkpoint_settings(const TrainDefaults& defaults, const std::string& path) {
  const nn::Metadata saved = nn::load_safetensors_metadata(path);
  TrainDefaults base = defaults;
  base.optimizer = required_in("train", saved, "user.optimizer", path);
  base.lr = parse_double(required_in("train", saved, "user.lr", path), "user.lr", path);
  base.batch_size =
      parse_int(required_in("train", saved, "user.batch_size", path), "user.batch_size", path);
  base.epochs = parse_int(required_in("train", saved, "user.epochs", path), "user.epochs", path);
  base.clip_grad_norm = parse_double(required_in("train", saved, "user.clip_grad_norm", path),
                                     "user.clip_grad_norm", path);
  if (saved.count("user.schedule")) base.schedule = saved.at("user.schedule");
  if (saved.count("user.warmup_steps"))
    base.warmup_steps = parse_int(saved.at("user.warmup_steps"), "user.warmup_steps", path);
  return base;
}

}  // namespace minidl::models
