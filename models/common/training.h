// The training loop of tools/train as a library function (so the test suite can run it on a toy
// task): optimizer by name, epochs of task->batch_loss + backward + step, progress (a live bar on
// a terminal, plain lines otherwise), per-epoch validation, a CSV log, atomic checkpoints (the
// last and the best by the headline metric), resuming, a time budget.
//
//   auto task = models::make_task("bahdanau-dates");
//   models::TrainOptions options;
//   options.checkpoint_dir = "runs/dates";
//   models::TrainResult result = models::train(*task, options);   // also calls task->setup
//
// Data parallelism: run under mpirun (a `make MPI=1` build), train() has every rank compute its
// part of each batch (Task::set_shard; batch_size stays the whole batch, so N processes take the
// same steps as one), averages the gradients with DistributedDataParallel, makes every rank stop
// after the same batch, and leaves printing, the log and the checkpoints to rank 0.
//
// Reproducibility: train() seeds the default generator with options.seed before task->setup,
// the task shuffles each epoch from (seed, epoch), and a checkpoint holds the model, the
// optimizer, the generator, the epoch and the batch within it; so a run resumed from a
// checkpoint computes the same losses, bit for bit, as a run that never stopped.
//
// The checkpoint directory holds
//   checkpoint.safetensors   the last state (written at the end of every epoch, every
//                            checkpoint_every seconds inside one, and when the time budget,
//                            max_steps or an interruption stops training mid-epoch)
//   best.safetensors         the state after the epoch with the best headline validation metric
//                            (written before the last checkpoint, so the metadata of the last
//                            never names a best that best.safetensors does not hold)
//   log.csv                  epoch,step,train_loss,valid_<metric>...,elapsed_seconds
// and the checkpoints' metadata ("user.*", see checkpoint_metadata) records the model name, the
// seed, the data path and smoke flag, so tools/predict can rebuild the same task.
#pragma once

#include <atomic>
#include <cstdint>
#include <iosfwd>
#include <memory>
#include <string>
#include <vector>

#include "models/common/task.h"
#include "nn/optim.h"
#include "nn/safetensors.h"

namespace minidl::models {

enum class ProgressStyle {
  kQuiet,  // nothing
  kLines,  // a plain line every ~10% of an epoch and one per epoch (logs, pipes)
  kBar,    // a bar redrawn in place with '\r' (terminals)
};

// tools/train's command line: what train() runs and where it writes (see the fields).
struct TrainOptions {
  std::string model;  // registry name, stored in the checkpoints (informational for train())
  // Zero / empty / negative = the task's TrainDefaults (when resuming: the checkpoint's).
  int64_t epochs = 0;
  int64_t batch_size = 0;
  double lr = 0;
  std::string optimizer;       // adam | adamw | sgd | rmsprop | adagrad
  double clip_grad_norm = -1;  // 0 = no clipping
  std::string schedule;        // constant | cosine
  int64_t warmup_steps = -1;
  int threads = 0;  // > 0: set_num_threads(threads) (core/parallel.h)
  // The task's setup.
  uint64_t seed = 0;
  std::string data_path;
  bool smoke = false;
  // Output ("" = no checkpoints, no log).
  std::string checkpoint_dir;
  bool resume = false;     // continue from checkpoint_dir/checkpoint.safetensors
  double time_budget = 0;  // wall seconds of this run (validation included), checked after every
                           // batch; 0 = none
  int64_t max_steps = 0;   // stop after this many optimizer steps in total (environment steps
                           // for an interactive task); 0 = none
  ProgressStyle progress = ProgressStyle::kQuiet;
  std::ostream* out = nullptr;  // where progress goes (nullptr = std::cout)
  // The last checkpoint is also written inside an epoch once this many seconds have passed since
  // the previous one, so a crash or a kill loses at most about that much work (0 = only at the
  // end of an epoch). Such a checkpoint has no validation and adds no log row.
  double checkpoint_every = 60;
  // Data-parallel runs: the DistributedDataParallel bucket size in MiB. Smaller than PyTorch's
  // 25 by default: the tutorial models' gradients are 1-4 MiB, so 25 would make one bucket that
  // can only start when backward ends; with 1 the last layers' buckets travel while backward
  // computes the first layers' (what that saves across machines: docs/distributed.md).
  double bucket_cap_mb = 1;
  // When set (by a signal handler, another thread), training stops after the current batch,
  // writes the last checkpoint and returns with TrainResult::interrupted.
  const std::atomic<bool>* interrupt = nullptr;
};

// One row of the CSV log.
struct EpochRecord {
  double epoch = 0;       // completed epochs (fractional when a budget stopped an epoch)
  int64_t step = 0;       // optimizer steps so far
  double train_loss = 0;  // the item-weighted mean batch loss of that epoch (of the part of it
                          // trained in this run, when resumed mid-epoch)
  Metrics valid;
  double elapsed_seconds = 0;  // training time so far, across resumed runs
};

// What train() / train_interactive() did in this run, and the best validation seen.
struct TrainResult {
  TrainDefaults settings;            // what was used (defaults overridden by the options)
  std::vector<double> losses;        // every batch loss of this run, in order
  std::vector<EpochRecord> records;  // the rows this run appended to the log
  int64_t start_step = 0;            // the step this run started from (0 unless resumed)
  int64_t steps = 0;                 // total optimizer steps at the end
  int64_t epochs_completed = 0;
  bool stopped_early = false;  // by the time budget, max_steps or an interruption
  bool interrupted = false;    // by options.interrupt (the last checkpoint holds where)
  int64_t items = 0;           // examples trained on in this run
  double train_seconds = 0;    // wall time of this run's training (validation excluded)
  double items_per_second = 0;
  std::string best_metric;  // headline metric name ("" if never validated)
  double best_value = 0;
  double best_epoch = 0;
  // Interactive tasks (models/common/interactive_training.h): `steps` counts environment steps,
  // `items` the environment steps of this run, `losses` the learning updates' losses.
  int64_t updates = 0;   // optimizer steps in total
  int64_t episodes = 0;  // episodes finished in total
  // When the headline validation metric first reached task.solved_threshold(): the epoch, the
  // environment steps, the episodes and the training time (across resumed runs) by then.
  bool solved = false;
  double solved_epoch = 0;
  int64_t solved_steps = 0, solved_episodes = 0;
  double solved_seconds = 0;
};

// The optimizer names make_optimizer knows.
const std::vector<std::string>& optimizer_names();
// An optimizer of this name over `params`, with PyTorch's defaults except the learning rate;
// an unknown name is an error listing the known ones.
std::unique_ptr<optim::Optimizer> make_optimizer(const std::string& name,
                                                 std::vector<Tensor> params, double lr);

// The learning rate of optimizer step `step` (0-based) of `total_steps` under settings.schedule:
// lr * min(1, (step + 1) / warmup_steps) during the warmup, then lr ("constant") or
// lr * (0.01 + 0.99 * (1 + cos(pi * progress)) / 2) ("cosine"), progress going from 0 after the
// warmup to 1 at the last step.
double scheduled_lr(const TrainDefaults& settings, int64_t step, int64_t total_steps);

// Whether a smaller value of this metric is better: one of the '_'-separated words of its name is
// loss, wer, per, cer, error(s), perplexity, ppl, nats, bpc, mse, mae or rmse ("valid_loss",
// "nats_per_char", "wer"); else larger is better ("exact_match", "accuracy", "bleu").
bool lower_is_better(const std::string& metric);

// `defaults` with the settings a checkpoint of train() was trained with (its "user.*" metadata),
// which a resumed run keeps unless options override them.
TrainDefaults checkpoint_settings(const TrainDefaults& defaults, const std::string& path);

// The task's defaults overridden by the options; every value is checked (an error names the
// option and the value).
TrainDefaults resolve_settings(const TrainDefaults& defaults, const TrainOptions& options);
// Checks the options that do not depend on the task (an error names the option and the value).
void validate_options(const TrainOptions& options);

// The run description stored as "user.*" metadata in every checkpoint, and back.
nn::Metadata checkpoint_metadata(const TrainOptions& options, const TrainDefaults& settings);
// The registry name and task options a checkpoint was trained with.
struct CheckpointConfig {
  std::string model;
  TaskOptions task;
};
// Reads the model name and the task options from a checkpoint (a directory or a file).
CheckpointConfig read_checkpoint_config(const std::string& dir_or_path);

// Removes the temporary files that atomic writes interrupted by a kill left in `dir`
// ("NAME.tmp.PID" of a process that no longer runs); returns how many.
int remove_stale_temp_files(const std::string& dir);
// Refuses to resume a run that already did all of its `epochs`, saying how to train further.
void check_resumable(int64_t epoch, int64_t epochs, const std::string& checkpoint_path);

// Seeds the default generator and calls task.setup (what train() and tools/predict both do).
void setup_task(Task& task, const TaskOptions& options);
// Loads only the model's parameters from a checkpoint written by train().
void load_model_parameters(nn::Module& model, const std::string& dir_or_path);

// task.evaluate(split) as train() validates: the default generator left as it was, the model
// back in training mode, and in a data-parallel run (every rank calls it) the split shared out
// over the ranks when the task supports that, the metrics being the whole split's either way.
Metrics evaluate_split(Task& task, const std::string& split);

// Runs the whole training (setup included); see the file comment. An interactive task
// (task.interactive() != nullptr) is trained by train_interactive instead.
TrainResult train(Task& task, const TrainOptions& options);

// "1h02m", "3m05s", "12.3s".
std::string format_duration(double seconds);
// "exact_match 0.9930  loss 0.0412".
std::string format_metrics(const Metrics& metrics);

}  // namespace minidl::models
