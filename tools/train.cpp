// tools/train: trains a model of the registry (models/registry.h) with the loop of
// models/common/training.h, then reports test metrics, speed and example predictions, and draws the
// training curves.
//
//   build/train --list
//   build/train --model bahdanau-dates --epochs 10 --checkpoint-dir runs/dates
//   build/train --model bahdanau-dates --checkpoint-dir runs/dates --resume --epochs 20
//
// Ctrl-C (SIGINT) or SIGTERM stops training after the current batch and writes the checkpoint;
// a second Ctrl-C quits at once. The checkpoint is also written every --checkpoint-every
// seconds, so even a kill -9 loses about a minute of work at most.
//
// Data-parallel (docs/distributed.md; a `make MPI=1` build):
//   mpirun -np 2 build/train --model cnn-fashion-mnist --epochs 2
// Every rank computes its part of each batch (--batch-size is the whole batch, so the run takes
// the steps one process would), the gradients are averaged, and rank 0 alone prints, logs and
// writes checkpoints; evaluation is shared out too. SIGINT to rank 0, or SIGUSR1 to mpirun
// (which passes it to every rank), stops all ranks after the same batch with a checkpoint; a
// checkpoint resumes under any number of processes. An error on one rank stops them all.
#include <signal.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <atomic>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <string>

#include "core/autograd.h"
#include "core/error.h"
#include "models/common/interactive_task.h"
#include "models/common/plot.h"
#include "models/common/training.h"
#include "models/registry.h"
#include "nn/distributed/distributed.h"

using namespace minidl;
using namespace minidl::models;

namespace {

// Set by the first SIGINT/SIGTERM; training stops after the current batch.
std::atomic<bool> stop_requested{false};

extern "C" void on_stop_signal(int) {
  if (stop_requested.exchange(true)) _exit(130);  // the second one: quit now
  static const char message[] =
      "\ntrain: stopping after this batch and saving the checkpoint (Ctrl-C again to quit at "
      "once)\n";
  const ssize_t ignored = write(STDERR_FILENO, message, sizeof message - 1);
  (void)ignored;
}

void install_stop_handlers() {
  struct sigaction action {};
  action.sa_handler = on_stop_signal;
  sigemptyset(&action.sa_mask);
  sigaction(SIGINT, &action, nullptr);
  sigaction(SIGTERM, &action, nullptr);
  sigaction(SIGUSR1, &action, nullptr);  // what mpirun passes on to every rank
}

// A check for options where 0 or less has no meaning (leaving the option out gives the model's
// default), in the user's words.
CLI::Validator positive(const std::string& option) {
  return CLI::Validator(
      [option](std::string& value) -> std::string {
        try {
          size_t used = 0;
          const double number = std::stod(value, &used);
          if (used == value.size() && number > 0) return "";
        } catch (const std::exception&) {
        }
        return option + " must be a positive number, got \"" + value +
               "\" (leave it out to use the model's default)";
      },
      "POSITIVE");
}

void list_models() {
  const auto& tasks = registered_tasks();
  if (tasks.empty()) {
    std::cout << "no models are registered (models/registry.cpp)\n";
    return;
  }
  size_t width = 4;
  for (const TaskInfo& t : tasks) width = std::max(width, t.name.size());
  for (const TaskInfo& t : tasks) {
    std::cout << t.name << std::string(width + 2 - t.name.size(), ' ') << t.tutorial << "\n"
              << std::string(width + 2, ' ') << "data: " << t.dataset << "\n";
  }
}

int run(int argc, char** argv) {
  CLI::App app{"minidl train: trains a model of the tutorials (see --list)"};
  TrainOptions options;
  bool list = false;
  int64_t examples = 5;
  app.add_flag("--list", list, "list every model with its tutorial and dataset");
  app.add_option("--model", options.model, "the model to train (see --list)");
  app.add_option("--epochs", options.epochs, "epochs in total (default: the model's)")
      ->check(positive("--epochs"));
  app.add_option("--batch-size", options.batch_size, "examples per batch (default: the model's)")
      ->check(positive("--batch-size"));
  app.add_option("--lr", options.lr, "learning rate (default: the model's)")
      ->check(positive("--lr"));
  app.add_option("--optimizer", options.optimizer,
                 "adam, adamw, sgd, rmsprop or adagrad (default: the model's)");
  app.add_option("--clip-grad-norm", options.clip_grad_norm,
                 "clip the gradients' norm to this (0: no clipping; default: the model's)");
  app.add_option("--schedule", options.schedule,
                 "learning rate schedule: constant or cosine (default: the model's)");
  app.add_option("--warmup-steps", options.warmup_steps,
                 "linear learning-rate warmup steps (default: the model's)");
  app.add_option("--threads", options.threads,
                 "threads (default: MINIDL_NUM_THREADS, OMP_NUM_THREADS or the CPUs available)");
  auto* seed_option = app.add_option("--seed", options.seed, "random seed of data and model")
                          ->capture_default_str();
  auto* data_option =
      app.add_option("--data", options.data_path, "data path (default: the model's)");
  app.add_option("--checkpoint-dir", options.checkpoint_dir,
                 "where checkpoints, log.csv and curves.png go (default: runs/MODEL)");
  app.add_flag("--resume", options.resume,
               "continue from the checkpoint in --checkpoint-dir (same seed, data, smoke)");
  app.add_option("--time-budget", options.time_budget, "stop training after this many seconds");
  auto* smoke_option = app.add_flag("--smoke", options.smoke, "a tiny model on a few examples");
  app.add_option("--max-steps", options.max_steps, "stop after this many optimizer steps")
      ->check(positive("--max-steps"));
  app.add_option("--checkpoint-every", options.checkpoint_every,
                 "also write the checkpoint inside an epoch every this many seconds (0: only "
                 "at the end of an epoch)")
      ->capture_default_str();
  app.add_option("--bucket-mb", options.bucket_cap_mb,
                 "under mpirun: MiB of gradients averaged in one message (smaller ones start "
                 "while backward runs)")
      ->check(positive("--bucket-mb"))
      ->capture_default_str();
  app.add_option("--examples", examples, "example predictions in the report")
      ->capture_default_str();
  CLI11_PARSE(app, argc, argv);
  // Under mpirun, rank 0 speaks for the run: the others' standard output goes nowhere (their
  // errors still reach stderr).
  const bool lead = distributed::rank() == 0;
  if (!lead && !std::freopen("/dev/null", "w", stdout))
    MINIDL_FAIL("train", "rank " << distributed::rank() << " could not silence its output");

  if (list) {
    list_models();
    return 0;
  }
  if (options.model.empty()) {
    std::string known;
    for (const std::string& name : task_names()) known += (known.empty() ? "" : ", ") + name;
    std::cerr << "train: --model is required; known models: " << (known.empty() ? "(none)" : known)
              << "\n";
    return 2;
  }
  const TaskInfo& info = find_task(options.model);
  if (options.checkpoint_dir.empty()) options.checkpoint_dir = "runs/" + options.model;
  if (options.resume) {
    // What was not given again comes from the checkpoint.
    const CheckpointConfig config = read_checkpoint_config(options.checkpoint_dir);
    MINIDL_CHECK(config.model == options.model, "train",
                 "--resume: " << options.checkpoint_dir << " holds model \"" << config.model
                              << "\", not \"" << options.model << "\"");
    if (seed_option->count() == 0) options.seed = config.task.seed;
    if (data_option->count() == 0) options.data_path = config.task.data_path;
    if (smoke_option->count() == 0) options.smoke = config.task.smoke;
  }
  options.progress = isatty(fileno(stdout)) ? ProgressStyle::kBar : ProgressStyle::kLines;
  validate_options(options);

  std::cout << "minidl train: " << info.name << " -- " << info.tutorial << "\n"
            << "data: " << info.dataset
            << (options.data_path.empty() ? "" : " (" + options.data_path + ")") << "; seed "
            << options.seed << (options.smoke ? "; smoke run" : "")
            << (distributed::world_size() > 1
                    ? "; " + std::to_string(distributed::world_size()) + " processes"
                    : std::string())
            << "\n";
  std::unique_ptr<Task> task = info.make();
  install_stop_handlers();
  options.interrupt = &stop_requested;
  const TrainResult r = train(*task, options);
  if (r.interrupted) {
    std::cout << "\ninterrupted after " << r.steps << " steps; checkpoint: "
              << (std::filesystem::path(options.checkpoint_dir) / "checkpoint.safetensors").string()
              << "\ncontinue with: " << argv[0] << " --model " << options.model
              << " --checkpoint-dir " << options.checkpoint_dir << " --resume\n";
    return 130;
  }

  // The report.
  std::printf("\ntrained %lld steps (%lld epochs%s) in %s, %.0f items/s\n",
              static_cast<long long>(r.steps - r.start_step),
              static_cast<long long>(r.epochs_completed), r.stopped_early ? ", stopped early" : "",
              format_duration(r.train_seconds).c_str(), r.items_per_second);
  if (InteractiveTask* interactive = task->interactive()) {
    std::printf("%lld environment steps, %lld episodes, %lld updates in total\n",
                static_cast<long long>(r.steps), static_cast<long long>(r.episodes),
                static_cast<long long>(r.updates));
    if (r.solved)
      std::printf(
          "first solved (valid %s >= %g) at epoch %.4g: %lld environment steps, %lld "
          "episodes, %s of training\n",
          r.best_metric.c_str(), interactive->solved_threshold(), r.solved_epoch,
          static_cast<long long>(r.solved_steps), static_cast<long long>(r.solved_episodes),
          format_duration(r.solved_seconds).c_str());
    else
      std::printf("not solved (valid headline metric < %g at every epoch)\n",
                  interactive->solved_threshold());
  }
  if (!r.best_metric.empty())
    std::printf("best validation %s %.4f (epoch %.4g)\n", r.best_metric.c_str(), r.best_value,
                r.best_epoch);
  const Metrics test = evaluate_split(*task, "test");
  std::cout << "test: " << format_metrics(test) << "\n";
  if (!lead) return 0;  // the rest only reports (rank 0's job)
  std::vector<std::string> inputs = task->example_inputs();
  if (static_cast<int64_t>(inputs.size()) > examples) inputs.resize(std::max<int64_t>(examples, 0));
  if (!inputs.empty()) std::cout << "examples:\n";
  for (const std::string& input : inputs) {
    NoGradGuard no_grad;
    std::cout << "  " << input << "  ->  " << task->predict(input).output << "\n";
  }

  namespace fs = std::filesystem;
  const std::string dir = options.checkpoint_dir;
  std::cout << "checkpoint: " << (fs::path(dir) / "checkpoint.safetensors").string();
  if (fs::exists(fs::path(dir) / "best.safetensors"))
    std::cout << " (best: " << (fs::path(dir) / "best.safetensors").string() << ")";
  std::cout << "\nlog: " << (fs::path(dir) / "log.csv").string() << "\n";
  const std::string csv = (fs::path(dir) / "log.csv").string();
  const std::string png = (fs::path(dir) / "curves.png").string();
  if (!fs::exists(csv)) {
    std::cout << "curves: none (no epoch was logged)\n";
  } else if (!gnuplot_available()) {
    std::cout << "curves: not drawn, gnuplot is not installed (tools/install_deps.sh)\n";
  } else {
    plot_training_curves(csv, png);
    std::cout << "curves: " << png << "\n";
  }
  std::cout << "predict: " << (fs::path(argv[0]).parent_path() / "predict").string()
            << " --checkpoint " << dir << " --input \"...\"\n";
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  int code = 1;
  try {
    // MPI only under a launcher: a lone process is a world of one anyway.
    if (distributed::launcher_world_size() > 0) distributed::init(argc, argv);
    code = run(argc, argv);
  } catch (const std::exception& e) {
    std::fflush(stdout);
    std::cerr << "\n"
              << (distributed::world_size() > 1
                      ? "rank " + std::to_string(distributed::rank()) + ": "
                      : std::string())
              << (dynamic_cast<const Error*>(&e) ? "" : "train: ") << e.what() << "\n";
    // The other ranks would wait for this one in their next collective.
    if (distributed::world_size() > 1) distributed::abort_all(1, "stopped by the error above");
    return 1;
  }
  distributed::finalize();
  return code;
}
