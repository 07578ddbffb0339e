// The training loop of tools/train (see models/common/training.h).
#include "models/common/training.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>

#include "core/autograd.h"
#include "core/error.h"
#include "core/factories.h"
#include "core/generator.h"
#include "core/parallel.h"
#include "models/common/interactive_training.h"
#include "models/common/training_util.h"
#include "nn/checkpoint.h"
#include "nn/clip_grad.h"
#include "nn/distributed/data_parallel.h"
#include "nn/distributed/distributed.h"
#include "nn/distributed/sync_batch_norm.h"

namespace minidl::models {

using detail::Clock;
using detail::csv_number;
using detail::evaluate_untouched;
using detail::number_text;
using detail::parse_double;
using detail::parse_int;
using detail::required_in;
using detail::seconds_since;

namespace {

std::string lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

std::string join(const std::vector<std::string>& names) {
  std::string out;
  for (const std::string& n : names) out += (out.empty() ? "" : ", ") + n;
  return out;
}

const std::string& required(const nn::Metadata& metadata, const std::string& key,
                            const std::string& path) {
  return required_in("train", metadata, key, path);
}

// Progress of the batches of one epoch: a bar redrawn in place, or a line every ~10%.
class Progress {
 public:
  Progress(ProgressStyle style, std::ostream& out) : style_(style), out_(out) {}

  void batch(int64_t epoch, int64_t epochs, int64_t done, int64_t total, double loss,
             double items_per_second, double eta) {
    if (style_ == ProgressStyle::kQuiet) return;
    char text[200];
    if (style_ == ProgressStyle::kBar) {
      // Redrawn at most ~10 times a second, and at the end of the epoch.
      const auto now = Clock::now();
      if (done != total && bar_open_ && now - last_draw_ < std::chrono::milliseconds(100)) return;
      last_draw_ = now;
      const int width = 24;
      const int filled = static_cast<int>(width * done / std::max<int64_t>(total, 1));
      std::snprintf(text, sizeof text,
                    "\repoch %lld/%lld [%s%s] %lld/%lld  loss %.4f  %.0f items/s  ETA %s   ",
                    static_cast<long long>(epoch + 1), static_cast<long long>(epochs),
                    std::string(filled, '#').c_str(), std::string(width - filled, '.').c_str(),
                    static_cast<long long>(done), static_cast<long long>(total), loss,
                    items_per_second, format_duration(eta).c_str());
      out_ << text << std::flush;
      bar_open_ = true;
    } else {
      const int64_t every = std::max<int64_t>(1, total / 10);
      if (done % every != 0 && done != total) return;
      std::snprintf(text, sizeof text,
                    "epoch %lld/%lld  batch %lld/%lld  loss %.4f  %.0f items/s  ETA %s\n",
                    static_cast<long long>(epoch + 1), static_cast<long long>(epochs),
                    static_cast<long long>(done), static_cast<long long>(total), loss,
                    items_per_second, format_duration(eta).c_str());
      out_ << text << std::flush;
    }
  }

  // A line of its own (ends a bar being drawn first).
  void line(const std::string& text) {
    if (style_ == ProgressStyle::kQuiet) return;
    if (bar_open_) out_ << "\n";
    bar_open_ = false;
    out_ << text << "\n" << std::flush;
  }

 private:
  ProgressStyle style_;
  std::ostream& out_;
  bool bar_open_ = false;
  Clock::time_point last_draw_;
};

// The CSV log of train(): epoch,step,train_loss,valid_<metric>...,elapsed_seconds (the step in
// column 1, by which a resumed run drops the rows it redoes).
class CsvLog {
 public:
  CsvLog(const std::string& path, bool resume, int64_t resume_step)
      : file_(path, resume, resume_step, 1) {}

  void append(const EpochRecord& r) {
    std::vector<std::string> header = {"epoch", "step", "train_loss"};
    std::vector<std::string> row = {csv_number(r.epoch), std::to_string(r.step),
                                    csv_number(r.train_loss)};
    for (const auto& [name, value] : r.valid) {
      header.push_back("valid_" + name);
      row.push_back(csv_number(value));
    }
    char elapsed[32];
    std::snprintf(elapsed, sizeof elapsed, "%.3f", r.elapsed_seconds);
    header.push_back("elapsed_seconds");
    row.push_back(elapsed);
    file_.append(header, row);
  }

 private:
  detail::CsvFile file_;
};

}  // namespace

const std::vector<std::string>& optimizer_names() {
  static const std::vector<std::string> names = {"adam", "adamw", "sgd", "rmsprop", "adagrad"};
  return names;
}

std::unique_ptr<optim::Optimizer> make_optimizer(const std::string& name,
                                                 std::vector<Tensor> params, double lr) {
  MINIDL_CHECK(std::isfinite(lr) && lr > 0, "make_optimizer",
               "the learning rate must be positive, got " << lr);
  const std::string n = lower(name);
  if (n == "adam") return std::make_unique<optim::Adam>(std::move(params), optim::AdamOptions(lr));
  if (n == "adamw")
    return std::make_unique<optim::AdamW>(std::move(params), optim::AdamWOptions(lr));
  if (n == "sgd") return std::make_unique<optim::SGD>(std::move(params), optim::SGDOptions(lr));
  if (n == "rmsprop")
    return std::make_unique<optim::RMSprop>(std::move(params), optim::RMSpropOptions(lr));
  if (n == "adagrad")
    return std::make_unique<optim::Adagrad>(std::move(params), optim::AdagradOptions(lr));
  MINIDL_FAIL("make_optimizer",
              "unknown optimizer \"" << name << "\"; known: " << join(optimizer_names()));
}

bool lower_is_better(const std::string& metric) {
  // By the words of the name: "loss", "valid_wer", "nats_per_char", "char_error_rate", ...
  static const std::vector<std::string> lower_words = {
      "loss", "wer",  "per", "cer", "error", "errors", "perplexity",
      "ppl",  "nats", "bpc", "mse", "mae",   "rmse"};
  std::stringstream words(lower(metric));
  for (std::string word; std::getline(words, word, '_');)
    if (std::find(lower_words.begin(), lower_words.end(), word) != lower_words.end()) return true;
  return false;
}

void validate_options(const TrainOptions& o) {
  const char* op = "train";
  MINIDL_CHECK(o.epochs >= 0, op, "--epochs must be positive, got " << o.epochs);
  MINIDL_CHECK(o.warmup_steps >= -1, op,
               "--warmup-steps must be non-negative, got " << o.warmup_steps);
  MINIDL_CHECK(o.batch_size >= 0, op, "--batch-size must be positive, got " << o.batch_size);
  MINIDL_CHECK(o.bucket_cap_mb > 0, op, "--bucket-mb must be positive, got " << o.bucket_cap_mb);
  MINIDL_CHECK(std::isfinite(o.lr) && o.lr >= 0, op, "--lr must be positive, got " << o.lr);
  MINIDL_CHECK(std::isfinite(o.clip_grad_norm), op,
               "--clip-grad-norm must be finite, got " << o.clip_grad_norm);
  MINIDL_CHECK(o.threads >= 0, op, "--threads must be positive, got " << o.threads);
  MINIDL_CHECK(std::isfinite(o.time_budget) && o.time_budget >= 0, op,
               "--time-budget must be a non-negative number of seconds, got " << o.time_budget);
  MINIDL_CHECK(o.max_steps >= 0, op, "max_steps must be non-negative, got " << o.max_steps);
  MINIDL_CHECK(
      std::isfinite(o.checkpoint_every) && o.checkpoint_every >= 0, op,
      "--checkpoint-every must be a non-negative number of seconds, got " << o.checkpoint_every);
  MINIDL_CHECK(!o.resume || !o.checkpoint_dir.empty(), op,
               "--resume needs a --checkpoint-dir to resume from");
  if (!o.optimizer.empty()) {
    const auto& names = optimizer_names();
    MINIDL_CHECK(std::find(names.begin(), names.end(), lower(o.optimizer)) != names.end(), op,
                 "unknown optimizer \"" << o.optimizer << "\"; known: " << join(names));
  }
}

TrainDefaults resolve_settings(const TrainDefaults& defaults, const TrainOptions& options) {
  validate_options(options);
  TrainDefaults s = defaults;
  if (options.epochs > 0) s.epochs = options.epochs;
  if (options.batch_size > 0) s.batch_size = options.batch_size;
  if (options.lr > 0) s.lr = options.lr;
  if (!options.optimizer.empty()) s.optimizer = lower(options.optimizer);
  if (options.clip_grad_norm >= 0) s.clip_grad_norm = options.clip_grad_norm;
  if (!options.schedule.empty()) s.schedule = lower(options.schedule);
  if (options.warmup_steps >= 0) s.warmup_steps = options.warmup_steps;
  MINIDL_CHECK(s.schedule == "constant" || s.schedule == "cosine", "train",
               "unknown learning-rate schedule \"" << s.schedule << "\"; known: constant, cosine");
  MINIDL_CHECK(s.warmup_steps >= 0, "train",
               "the warmup steps must be non-negative, got " << s.warmup_steps);
  MINIDL_CHECK(s.epochs > 0, "train", "the number of epochs must be positive, got " << s.epochs);
  MINIDL_CHECK(s.batch_size > 0, "train", "the batch size must be positive, got " << s.batch_size);
  MINIDL_CHECK(s.lr > 0, "train", "the learning rate must be positive, got " << s.lr);
  MINIDL_CHECK(s.clip_grad_norm >= 0, "train",
               "the gradient clipping norm must be non-negative, got " << s.clip_grad_norm);
  return s;
}

double scheduled_lr(const TrainDefaults& settings, int64_t step, int64_t total_steps) {
  const int64_t warmup = settings.warmup_steps;
  if (warmup > 0 && step < warmup)
    return settings.lr * static_cast<double>(step + 1) / static_cast<double>(warmup);
  if (settings.schedule != "cosine") return settings.lr;
  const double span = static_cast<double>(std::max<int64_t>(1, total_steps - 1 - warmup));
  const double progress = std::clamp(static_cast<double>(step - warmup) / span, 0.0, 1.0);
  return settings.lr * (0.01 + 0.99 * 0.5 * (1 + std::cos(M_PI * progress)));
}

void setup_task(Task& task, const TaskOptions& options) {
  manual_seed(options.seed);
  task.setup(options);
}

std::string format_duration(double seconds) {
  char buffer[32];
  if (!std::isfinite(seconds) || seconds < 0) return "?";
  if (seconds < 60) {
    std::snprintf(buffer, sizeof buffer, "%.1fs", seconds);
  } else if (seconds < 3600) {
    const long s = std::lround(seconds);
    std::snprintf(buffer, sizeof buffer, "%ldm%02lds", s / 60, s % 60);
  } else {
    const long m = std::lround(seconds / 60);
    std::snprintf(buffer, sizeof buffer, "%ldh%02ldm", m / 60, m % 60);
  }
  return buffer;
}

std::string format_metrics(const Metrics& metrics) {
  std::string out;
  char buffer[64];
  for (const auto& [name, value] : metrics) {
    std::snprintf(buffer, sizeof buffer, "%.4f", value);
    out += (out.empty() ? "" : "  ") + name + " " + buffer;
  }
  return out;
}

Metrics evaluate_split(Task& task, const std::string& split) {
  return evaluate_untouched(task, split);
}

TrainResult train(Task& task, const TrainOptions& options) {
  // Data parallelism (docs/distributed.md): under mpirun every rank runs this same function on
  // its part of each batch, DistributedDataParallel averages the gradients, and rank 0 alone
  // prints, logs and writes checkpoints. On one process all of this is a no-op.
  const int world = distributed::world_size(), rank = distributed::rank();
  const bool lead = rank == 0;
  MINIDL_CHECK(world == 1 || task.interactive() == nullptr, "train",
               (options.model.empty() ? "this task" : options.model)
                   << " learns by acting in an environment, not from batches of data, so it does "
                      "not train data-parallel; run it as one process (without mpirun)");
  if (InteractiveTask* interactive = task.interactive())
    return train_interactive(*interactive, options);
  validate_options(options);
  if (options.threads > 0) {
    set_num_threads(options.threads);
  } else if (world > 1) {
    // Ranks sharing a machine share its cores.
    set_num_threads(std::max(1, get_num_threads() / distributed::local_world_size()));
  }
  std::ostream& out = options.out ? *options.out : std::cout;
  Progress progress(lead ? options.progress : ProgressStyle::kQuiet, out);

  setup_task(task, TaskOptions{options.data_path, options.seed, options.smoke});
  if (world > 1) task.set_shard(Shard{rank, world});
  TrainResult result;
  const std::string& dir = options.checkpoint_dir;
  const std::string last_path =
      dir.empty() ? "" : (std::filesystem::path(dir) / "checkpoint.safetensors").string();
  const std::string best_path =
      dir.empty() ? "" : (std::filesystem::path(dir) / "best.safetensors").string();
  // A resumed run continues with the checkpoint's settings unless the options override them.
  TrainDefaults base = task.defaults();
  if (options.resume) {
    MINIDL_CHECK(std::filesystem::exists(last_path), "train",
                 "--resume: no checkpoint at " << last_path);
    base = checkpoint_settings(base, last_path);
    const nn::Metadata saved = nn::load_safetensors_metadata(last_path);
    const int64_t saved_batch =
        parse_int(required(saved, "user.batch", last_path), "user.batch", last_path);
    MINIDL_CHECK(
        saved_batch == 0 || options.batch_size <= 0 || options.batch_size == base.batch_size,
        "train",
        "--resume: " << last_path << " stopped in the middle of an epoch of batches of "
                     << base.batch_size << "; resume with that --batch-size, not "
                     << options.batch_size);
  }
  const TrainDefaults s = resolve_settings(base, options);
  result.settings = s;
  nn::Module& model = task.model();
  model.train();
  const std::vector<Tensor> params = model.parameters();
  std::unique_ptr<optim::Optimizer> optimizer = make_optimizer(s.optimizer, params, s.lr);
  const nn::Metadata run_metadata = checkpoint_metadata(options, s);
  {
    std::ostringstream text;
    text << "training " << (options.model.empty() ? "the task" : options.model) << ": "
         << model.num_parameters() << " parameters, " << s.optimizer << " (lr " << s.lr
         << "), batch " << s.batch_size << ", " << s.epochs << " epochs";
    if (s.clip_grad_norm > 0) text << ", gradient norm clipped at " << s.clip_grad_norm;
    if (s.schedule != "constant") text << ", " << s.schedule << " learning rate";
    if (s.warmup_steps > 0) text << " after " << s.warmup_steps << " warmup steps";
    if (options.time_budget > 0) text << ", time budget " << format_duration(options.time_budget);
    if (world > 1)
      text << "; data-parallel over " << world << " processes ("
           << (task.shards_batches() ? "each computes its part of every batch"
                                     : "this task cannot cut its batches: each computes all")
           << ", " << get_num_threads() << (get_num_threads() == 1 ? " thread" : " threads")
           << " each)";
    progress.line(text.str());
  }

  // Where this run starts: fresh, or the checkpoint's epoch, batch and step.
  int64_t epoch = 0, batch = 0, step = 0;
  double elapsed_before = 0;
  if (lead && !dir.empty()) std::filesystem::create_directories(dir);
  if (lead) remove_stale_temp_files(dir);
  if (options.resume) {
    detail::check_resume_matches(options, last_path);
    nn::CheckpointInfo info = nn::load_checkpoint(last_path, model, *optimizer, nullptr);
    // The learning rate given again overrides the checkpoint's (load_checkpoint restored it).
    for (optim::ParamGroup& group : optimizer->param_groups()) group.set_lr(s.lr);
    step = info.step;
    epoch = parse_int(required(info.metadata, "epoch", last_path), "epoch", last_path);
    batch = parse_int(required(info.metadata, "batch", last_path), "batch", last_path);
    elapsed_before =
        parse_double(required(info.metadata, "elapsed_seconds", last_path), "elapsed", last_path);
    result.best_metric = required(info.metadata, "best_metric", last_path);
    if (!result.best_metric.empty()) {
      result.best_value =
          parse_double(required(info.metadata, "best_value", last_path), "best_value", last_path);
      result.best_epoch =
          parse_double(required(info.metadata, "best_epoch", last_path), "best_epoch", last_path);
    }
    check_resumable(epoch, s.epochs, last_path);
    char text[160];
    std::snprintf(text, sizeof text, "resumed from %s: epoch %lld, batch %lld, step %lld",
                  last_path.c_str(), static_cast<long long>(epoch), static_cast<long long>(batch),
                  static_cast<long long>(step));
    progress.line(text);
  }
  result.start_step = step;
  CsvLog log(dir.empty() || !lead ? "" : (std::filesystem::path(dir) / "log.csv").string(),
             options.resume, step);
  // BatchNorm layers normalize by the whole batch's statistics, not by each rank's part's, so N
  // ranks compute what one process computes (and their running statistics stay identical).
  if (world > 1) distributed::convert_sync_batchnorm(model);
  // Every rank starts from rank 0's parameters (the same already: same seed, same checkpoint)
  // and from here on leaves each backward with the gradients averaged over the ranks.
  distributed::DistributedDataParallel ddp(
      model, distributed::DDPOptions().bucket_cap_mb(options.bucket_cap_mb));
  // Randomness inside the model (dropout) must differ between the ranks' parts of a batch, as it
  // does between a batch's examples in one process: rank r > 0 reseeds its default generator
  // from the number rank 0's would draw next, mixed with r. Reproducible, independent across
  // ranks, and rank 0's stream -- the one its checkpoints save -- stays as it was. (Not when
  // every rank runs the whole batch forward: then they all draw what one process would.)
  if (rank > 0 && !task.shard_runs_whole_forward()) {
    Generator next;
    next.set_state(default_generator().get_state());
    default_generator().manual_seed(next.next_u64() ^
                                    (0x9E3779B97F4A7C15ULL * static_cast<uint64_t>(rank)));
  }

  auto save = [&](const std::string& path, double epoch_done, int64_t next_epoch,
                  int64_t next_batch, double elapsed) {
    if (!lead) return;  // the replicas are identical: rank 0's checkpoint is everyone's
    nn::Metadata meta = run_metadata;
    meta["epoch"] = std::to_string(next_epoch);
    meta["batch"] = std::to_string(next_batch);
    meta["epochs_completed"] = number_text(epoch_done);
    meta["elapsed_seconds"] = number_text(elapsed);
    meta["best_metric"] = result.best_metric;
    meta["best_value"] = number_text(result.best_value);
    meta["best_epoch"] = number_text(result.best_epoch);
    nn::save_checkpoint(path, model, *optimizer, nullptr, step, meta);
  };

  const auto start = Clock::now();
  auto last_save = start;
  bool stop = false;
  auto interrupted = [&] {
    return options.interrupt != nullptr && options.interrupt->load(std::memory_order_relaxed);
  };
  auto over_budget = [&] {
    return (options.time_budget > 0 && seconds_since(start) >= options.time_budget) ||
           (options.max_steps > 0 && step >= options.max_steps) || interrupted();
  };
  // Whether any rank says so: every rank must stop at the same batch (a Ctrl-C may reach rank 0
  // only, and each rank's clock runs on its own), or the others would wait for it forever.
  auto any_rank = [&](bool mine) {
    if (world == 1) return mine;
    Tensor vote = from_vector(std::vector<double>{mine ? 1.0 : 0.0}, {1}, kFloat64);
    distributed::all_reduce_sum(vote);
    return vote.item<double>() > 0;
  };
  bool stop_votes = false, interrupt_votes = false;  // this batch's, from every rank
  while (epoch < s.epochs && !stop) {
    if (any_rank(over_budget())) {
      stop = true;
      result.interrupted = any_rank(interrupted());
      break;
    }
    const int64_t n = task.start_epoch(epoch, s.batch_size);
    MINIDL_CHECK(n > 0, "train", "the task has no training batches (epoch " << epoch << ")");
    MINIDL_CHECK(batch < n, "train",
                 "the checkpoint's batch " << batch << " is past the epoch's " << n << " batches");
    double loss_sum = 0;
    int64_t epoch_items = 0, epoch_batches = 0;
    const auto epoch_start = Clock::now();
    int64_t i = batch;
    for (; i < n;) {
      optimizer->zero_grad();
      int64_t items = 0;
      Tensor loss = task.batch_loss(i, &items);
      double value = loss.item<double>();
      if (world > 1) {
        // One small all-reduce per batch: the batch's loss (the mean of the ranks' weighted
        // part losses), its items, and the votes to stop after it -- so every rank reports,
        // checks and decides the same, before any of them starts backward.
        Tensor sync =
            from_vector(std::vector<double>{value, static_cast<double>(items),
                                            over_budget() ? 1.0 : 0.0, interrupted() ? 1.0 : 0.0},
                        {4}, kFloat64);
        distributed::all_reduce_sum(sync);
        const std::vector<double> sums = sync.to_vector<double>();
        value = sums[0] / world;
        items = static_cast<int64_t>(std::llround(sums[1]));
        stop_votes = sums[2] > 0;
        interrupt_votes = sums[3] > 0;
      }
      MINIDL_CHECK(std::isfinite(value), "train",
                   "the loss is " << value << " at epoch " << epoch + 1 << ", batch " << i
                                  << " (try a smaller --lr or --clip-grad-norm)");
      loss.backward();
      ddp.finish();
      if (s.clip_grad_norm > 0) nn::utils::clip_grad_norm_(params, s.clip_grad_norm);
      const double lr = scheduled_lr(s, step, s.epochs * n);
      for (optim::ParamGroup& group : optimizer->param_groups()) group.set_lr(lr);
      optimizer->step();
      result.losses.push_back(value);
      loss_sum += value * static_cast<double>(items);
      epoch_items += items;
      ++epoch_batches;
      ++step;
      ++i;
      const double epoch_seconds = seconds_since(epoch_start);
      const double rate = epoch_seconds > 0 ? epoch_items / epoch_seconds : 0;
      const double eta = epoch_seconds * static_cast<double>(n - i) / epoch_batches;
      progress.batch(epoch, s.epochs, i, n, loss_sum / std::max<int64_t>(epoch_items, 1), rate,
                     eta);
      if (i < n && (world > 1 ? stop_votes || (options.max_steps > 0 && step >= options.max_steps)
                              : over_budget())) {
        stop = true;
        break;
      }
      // Inside the epoch, the last checkpoint every checkpoint_every seconds (no validation).
      if (i < n && !dir.empty() && options.checkpoint_every > 0 &&
          seconds_since(last_save) >= options.checkpoint_every) {
        save(last_path, static_cast<double>(epoch) + static_cast<double>(i) / n, epoch, i,
             elapsed_before + seconds_since(start));
        last_save = Clock::now();
      }
    }
    result.items += epoch_items;
    result.train_seconds += seconds_since(epoch_start);
    const double epoch_done = static_cast<double>(epoch) + static_cast<double>(i) / n;
    if (i == n) {
      ++epoch;
      batch = 0;
      ++result.epochs_completed;
    } else {
      batch = i;
    }
    if (i < n && (world > 1 ? interrupt_votes : interrupted())) {  // save now: no validation
      result.interrupted = true;
      if (!dir.empty())
        save(last_path, epoch_done, epoch, batch, elapsed_before + seconds_since(start));
      break;
    }

    EpochRecord record;
    record.epoch = epoch_done;
    record.step = step;
    record.train_loss = loss_sum / std::max<int64_t>(epoch_items, 1);
    record.valid = evaluate_untouched(task, "valid");
    record.elapsed_seconds = elapsed_before + seconds_since(start);
    const bool best = detail::record_if_best(result, record.valid, epoch_done);
    log.append(record);
    result.records.push_back(record);
    if (!dir.empty()) {
      if (best) save(best_path, epoch_done, epoch, batch, record.elapsed_seconds);
      save(last_path, epoch_done, epoch, batch, record.elapsed_seconds);
      last_save = Clock::now();
    }
    char text[96];
    std::snprintf(
        text, sizeof text, "epoch %.4g/%lld  step %lld  train_loss %.4f  valid: ", epoch_done,
        static_cast<long long>(s.epochs), static_cast<long long>(step), record.train_loss);
    progress.line(text + format_metrics(record.valid) + "  (" +
                  format_duration(record.elapsed_seconds) + ")" + (best ? "  *best" : ""));
  }
  result.steps = step;
  result.stopped_early = epoch < s.epochs;
  result.items_per_second = result.train_seconds > 0 ? result.items / result.train_seconds : 0;
  return result;
}

}  // namespace minidl::models
