// The interaction loop (see models/common/interactive_training.h).
#include "models/common/interactive_training.h"

#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>

#include "core/error.h"
#include "core/generator.h"
#include "core/parallel.h"
#include "models/common/training_util.h"
#include "nn/checkpoint.h"
#include "nn/clip_grad.h"

namespace minidl::models {

namespace {

namespace fs = std::filesystem;
using detail::Clock;
using detail::csv_number;
using detail::CsvFile;
using detail::evaluate_untouched;
using detail::number_text;
using detail::seconds_since;

const std::string& required(const nn::Metadata& metadata, const std::string& key,
                            const std::string& path) {
  return detail::required_in("train", metadata, key, path);
}
double number_of(const nn::Metadata& metadata, const std::string& key, const std::string& path) {
  return detail::parse_double(required(metadata, key, path), key, path);
}
int64_t integer_of(const nn::Metadata& metadata, const std::string& key, const std::string& path) {
  return detail::parse_int(required(metadata, key, path), key, path);
}

}  // namespace

TrainResult train_interactive(InteractiveTask& task, const TrainOptions& options) {
  validate_options(options);
  if (options.threads > 0) set_num_threads(options.threads);
  std::ostream& out = options.out ? *options.out : std::cout;
  const bool quiet = options.progress == ProgressStyle::kQuiet;
  const bool bar = options.progress == ProgressStyle::kBar;
  bool bar_open = false;
  auto line = [&](const std::string& text) {
    if (quiet) return;
    if (bar_open) out << "\n";
    bar_open = false;
    out << text << "\n" << std::flush;
  };

  setup_task(task, TaskOptions{options.data_path, options.seed, options.smoke});
  TrainResult result;
  const std::string& dir = options.checkpoint_dir;
  const std::string last_path =
      dir.empty() ? "" : (fs::path(dir) / "checkpoint.safetensors").string();
  const std::string best_path = dir.empty() ? "" : (fs::path(dir) / "best.safetensors").string();
  if (options.resume)
    MINIDL_CHECK(fs::exists(last_path), "train", "--resume: no checkpoint at " << last_path);
  const TrainDefaults s = resolve_settings(
      options.resume ? checkpoint_settings(task.defaults(), last_path) : task.defaults(), options);
  result.settings = s;
  nn::Module& model = task.model();
  model.train();
  const std::vector<Tensor> params = model.parameters();
  std::unique_ptr<optim::Optimizer> optimizer = make_optimizer(s.optimizer, params, s.lr);
  const int64_t n = task.steps_per_epoch();
  MINIDL_CHECK(n > 0, "train", "the task's epochs have no environment steps (" << n << ")");
  {
    std::ostringstream text;
    text << "training " << (options.model.empty() ? "the task" : options.model) << ": "
         << model.num_parameters() << " parameters, " << s.optimizer << " (lr " << s.lr
         << "), replay batch " << s.batch_size << ", " << s.epochs << " epochs of " << n
         << " environment steps";
    if (s.clip_grad_norm > 0) text << ", gradient norm clipped at " << s.clip_grad_norm;
    if (s.schedule != "constant") text << ", " << s.schedule << " learning rate";
    if (options.time_budget > 0) text << ", time budget " << format_duration(options.time_budget);
    line(text.str());
  }

  // Where this run starts: fresh, or the checkpoint's epoch and step within it.
  int64_t epoch = 0, in_epoch = 0;
  double elapsed_before = 0;
  if (!dir.empty()) fs::create_directories(dir);
  remove_stale_temp_files(dir);
  if (options.resume) {
    detail::check_resume_matches(options, last_path);
    nn::CheckpointInfo info = nn::load_checkpoint(last_path, model, *optimizer, nullptr);
    for (optim::ParamGroup& group : optimizer->param_groups()) group.set_lr(s.lr);
    const nn::Metadata& m = info.metadata;
    MINIDL_CHECK(integer_of(m, "steps_per_epoch", last_path) == n, "train",
                 "--resume: " << last_path << " has epochs of " << m.at("steps_per_epoch")
                              << " environment steps, the task " << n);
    epoch = integer_of(m, "epoch", last_path);
    in_epoch = integer_of(m, "batch", last_path);
    check_resumable(epoch, s.epochs, last_path);
    result.updates = integer_of(m, "updates", last_path);
    result.episodes = integer_of(m, "episodes", last_path);
    elapsed_before = number_of(m, "elapsed_seconds", last_path);
    result.best_metric = required(m, "best_metric", last_path);
    if (!result.best_metric.empty()) {
      result.best_value = number_of(m, "best_value", last_path);
      result.best_epoch = number_of(m, "best_epoch", last_path);
    }
    result.solved = required(m, "solved", last_path) == "1";
    if (result.solved) {
      result.solved_epoch = number_of(m, "solved_epoch", last_path);
      result.solved_steps = integer_of(m, "solved_steps", last_path);
      result.solved_episodes = integer_of(m, "solved_episodes", last_path);
      result.solved_seconds = number_of(m, "solved_seconds", last_path);
    }
    // The task's own state: "task."-prefixed tensors and metadata.
    nn::StateDict task_tensors;
    nn::Metadata task_metadata;
    const std::string prefix = "task.";
    for (const auto& [name, tensor] : info.tensors)
      if (name.compare(0, prefix.size(), prefix) == 0)
        task_tensors.emplace_back(name.substr(prefix.size()), tensor);
    for (const auto& [key, value] : m)
      if (key.compare(0, prefix.size(), prefix) == 0)
        task_metadata[key.substr(prefix.size())] = value;
    task.load_state(task_tensors, task_metadata);
    line("resumed from " + last_path + ": epoch " + std::to_string(epoch) + ", environment step " +
         std::to_string(epoch * n + in_epoch) + ", " + std::to_string(result.episodes) +
         " episodes, " + std::to_string(result.updates) + " updates");
  }
  int64_t step = epoch * n + in_epoch;
  result.start_step = step;
  CsvFile log(dir.empty() ? "" : (fs::path(dir) / "log.csv").string(), options.resume, step, 1);
  CsvFile episodes_log(dir.empty() ? "" : (fs::path(dir) / "episodes.csv").string(), options.resume,
                       step, 1);

  const nn::Metadata run_metadata = checkpoint_metadata(options, s);
  auto save = [&](const std::string& path, double epoch_done, double elapsed) {
    nn::Metadata meta = run_metadata;
    meta["interactive"] = "1";
    meta["steps_per_epoch"] = std::to_string(n);
    meta["epoch"] = std::to_string(epoch);
    meta["batch"] = std::to_string(in_epoch);
    meta["epochs_completed"] = number_text(epoch_done);
    meta["updates"] = std::to_string(result.updates);
    meta["episodes"] = std::to_string(result.episodes);
    meta["elapsed_seconds"] = number_text(elapsed);
    meta["best_metric"] = result.best_metric;
    meta["best_value"] = number_text(result.best_value);
    meta["best_epoch"] = number_text(result.best_epoch);
    meta["solved"] = result.solved ? "1" : "0";
    meta["solved_epoch"] = number_text(result.solved_epoch);
    meta["solved_steps"] = std::to_string(result.solved_steps);
    meta["solved_episodes"] = std::to_string(result.solved_episodes);
    meta["solved_seconds"] = number_text(result.solved_seconds);
    nn::StateDict task_tensors, tensors;
    nn::Metadata task_metadata;
    task.save_state(task_tensors, task_metadata);
    for (const auto& [name, tensor] : task_tensors) tensors.emplace_back("task." + name, tensor);
    for (const auto& [key, value] : task_metadata) meta["task." + key] = value;
    nn::save_checkpoint(path, model, *optimizer, nullptr, step, meta, tensors);
  };

  const auto start = Clock::now();
  auto last_save = start;
  auto interrupted = [&] {
    return options.interrupt != nullptr && options.interrupt->load(std::memory_order_relaxed);
  };
  auto over_budget = [&] {
    return (options.time_budget > 0 && seconds_since(start) >= options.time_budget) ||
           (options.max_steps > 0 && step >= options.max_steps) || interrupted();
  };
  const int64_t total_steps = s.epochs * n;
  bool stop = false;
  while (epoch < s.epochs && !stop) {
    if (over_budget()) {
      result.interrupted = interrupted();
      break;
    }
    double loss_sum = 0;
    int64_t epoch_updates = 0;
    const int64_t first_in_epoch = in_epoch;
    const auto epoch_start = Clock::now();
    while (in_epoch < n) {
      optimizer->zero_grad();
      InteractionStep interaction = task.interact(s.batch_size);
      if (interaction.loss.defined()) {
        const double value = interaction.loss.item<double>();
        MINIDL_CHECK(std::isfinite(value), "train",
                     "the loss is " << value << " at environment step " << step
                                    << " (try a smaller --lr or --clip-grad-norm)");
        interaction.loss.backward();
        if (s.clip_grad_norm > 0) nn::utils::clip_grad_norm_(params, s.clip_grad_norm);
        const double lr = scheduled_lr(s, step, total_steps);
        for (optim::ParamGroup& group : optimizer->param_groups()) group.set_lr(lr);
        optimizer->step();
        task.after_update();
        result.losses.push_back(value);
        loss_sum += value;
        ++epoch_updates;
        ++result.updates;
      }
      ++step;
      ++in_epoch;
      ++result.items;
      if (interaction.episode_done) {
        ++result.episodes;
        episodes_log.append(
            {"episode", "step", "return", "length", "elapsed_seconds"},
            {std::to_string(result.episodes), std::to_string(step),
             csv_number(interaction.episode_return), std::to_string(interaction.episode_length),
             csv_number(elapsed_before + seconds_since(start))});
      }
      // Progress: a line every ~10% of an epoch (a bar redrawn in place on a terminal).
      const int64_t every = std::max<int64_t>(1, n / 10);
      if (!quiet && (in_epoch % every == 0 || in_epoch == n)) {
        const double seconds = seconds_since(epoch_start);
        const double rate = seconds > 0 ? (in_epoch - first_in_epoch) / seconds : 0;
        char text[200];
        std::snprintf(text, sizeof text,
                      "%sepoch %lld/%lld  step %lld/%lld  episodes %lld  %s  loss %.4f  %.0f "
                      "steps/s  ETA %s%s",
                      bar ? "\r" : "", static_cast<long long>(epoch + 1),
                      static_cast<long long>(s.epochs), static_cast<long long>(step),
                      static_cast<long long>(total_steps), static_cast<long long>(result.episodes),
                      format_metrics(task.status()).c_str(),
                      epoch_updates ? loss_sum / epoch_updates : 0.0, rate,
                      format_duration(rate > 0 ? (total_steps - step) / rate : 0).c_str(),
                      bar ? "   " : "\n");
        out << text << std::flush;
        bar_open = bar;
      }
      if (in_epoch < n && over_budget()) {
        stop = true;
        break;
      }
      // Inside the epoch, the last checkpoint every checkpoint_every seconds (no validation).
      if (in_epoch < n && !dir.empty() && options.checkpoint_every > 0 &&
          seconds_since(last_save) >= options.checkpoint_every) {
        save(last_path, static_cast<double>(epoch) + static_cast<double>(in_epoch) / n,
             elapsed_before + seconds_since(start));
        last_save = Clock::now();
      }
    }
    result.train_seconds += seconds_since(epoch_start);
    const double epoch_done = static_cast<double>(epoch) + static_cast<double>(in_epoch) / n;
    if (in_epoch == n) {
      ++epoch;
      in_epoch = 0;
      ++result.epochs_completed;
    } else if (interrupted()) {  // save at once: no validation, no log row
      result.interrupted = true;
      if (!dir.empty()) save(last_path, epoch_done, elapsed_before + seconds_since(start));
      break;
    }

    EpochRecord record;
    record.epoch = epoch_done;
    record.step = step;
    record.train_loss = epoch_updates ? loss_sum / epoch_updates : 0;
    record.valid = evaluate_untouched(task, "valid");
    record.elapsed_seconds = elapsed_before + seconds_since(start);
    const bool best = detail::record_if_best(result, record.valid, epoch_done);
    if (!record.valid.empty()) {
      const double value = record.valid.front().second;
      if (!result.solved && value >= task.solved_threshold()) {
        result.solved = true;
        result.solved_epoch = epoch_done;
        result.solved_steps = step;
        result.solved_episodes = result.episodes;
        result.solved_seconds = record.elapsed_seconds;
      }
    }
    std::vector<std::string> header = {"epoch", "step", "train_loss", "episodes"};
    std::vector<std::string> row = {csv_number(epoch_done), std::to_string(step),
                                    csv_number(record.train_loss), std::to_string(result.episodes)};
    for (const auto& [name, value] : task.status()) {
      header.push_back(name);
      row.push_back(csv_number(value));
    }
    for (const auto& [name, value] : record.valid) {
      header.push_back("valid_" + name);
      row.push_back(csv_number(value));
    }
    header.push_back("elapsed_seconds");
    char elapsed[32];
    std::snprintf(elapsed, sizeof elapsed, "%.3f", record.elapsed_seconds);
    row.push_back(elapsed);
    log.append(header, row);
    result.records.push_back(record);
    if (!dir.empty()) {
      if (best) save(best_path, epoch_done, record.elapsed_seconds);
      save(last_path, epoch_done, record.elapsed_seconds);
      last_save = Clock::now();
    }
    char text[128];
    std::snprintf(text, sizeof text,
                  "epoch %.4g/%lld  step %lld  episodes %lld  loss %.4f  valid: ", epoch_done,
                  static_cast<long long>(s.epochs), static_cast<long long>(step),
                  static_cast<long long>(result.episodes), record.train_loss);
    line(text + format_metrics(record.valid) + "  (" + format_duration(record.elapsed_seconds) +
         ")" + (best ? "  *best" : ""));
    if (result.solved && result.solved_steps == step)
      line("solved: " + result.best_metric + " reached " + csv_number(task.solved_threshold()) +
           " after " + std::to_string(step) + " environment steps, " +
           std::to_string(result.episodes) + " episodes, " +
           format_duration(result.solved_seconds));
  }
  result.steps = step;
  result.stopped_early = epoch < s.epochs;
  result.items_per_second = result.train_seconds > 0 ? result.items / result.train_seconds : 0;
  return result;
}

}  // namespace minidl::models
