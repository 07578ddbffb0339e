// A Task is one model of the tutorials together with its data, loss, metrics and decoding: what
// tools/train trains and tools/predict runs, looked up by name in the registry (models/registry.h).
//
// The tool owns the loop and the optimizer; the task owns everything model-specific:
//
//   auto task = make_task("bahdanau-dates");
//   task->setup(options);                                // data (seeded) and the model
//   for epoch: n = task->start_epoch(epoch, batch_size);  // shuffles, returns batches per epoch
//     for i < n: loss = task->batch_loss(i, &items); loss.backward(); optimizer.step(); ...
//     metrics = task->evaluate("valid");
//   task->predict("3 May 1979")                           // output + attention map
//
// setup() is deterministic for a seed and a data path, so predict can rebuild the vocabulary
// exactly and only the model's parameters need to be in a checkpoint.
//
// A task that learns by interacting with an environment (reinforcement learning) has no data set
// to cut into batches: it derives from InteractiveTask (models/common/interactive_task.h), and
// interactive() returns it, so tools/train runs the interaction loop instead of epochs of batches.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "core/tensor.h"
#include "models/common/evaluation_sums.h"
#include "models/common/shard.h"
#include "nn/module.h"

namespace minidl::models {

class InteractiveTask;

// What Task::setup reads: the data location, the seed of the splits and the model, smoke size.
struct TaskOptions {
  std::string data_path;  // "" = the task's default (a Debian path, or generated in code)
  uint64_t seed = 0;
  bool smoke = false;  // a tiny model on a few examples (the test suite's smoke tests)
};

// What the task trains best with; tools/train's options override each.
struct TrainDefaults {
  int64_t epochs = 10;
  int64_t batch_size = 64;
  double lr = 1e-3;
  std::string optimizer = "adam";  // adam | adamw | sgd | rmsprop
  double clip_grad_norm = 0;       // 0 = no clipping
  // The learning rate over training (models/common/training.h, scheduled_lr): "constant", or
  // "cosine" (decay to 1% of lr by the last step); both ramp up linearly over the first
  // warmup_steps.
  std::string schedule = "constant";
  int64_t warmup_steps = 0;
};

// TrainDefaults in one expression.
inline TrainDefaults train_defaults(const std::string& optimizer, double lr, int64_t epochs,
                                    int64_t batch_size, double clip_grad_norm = 0,
                                    const std::string& schedule = "constant") {
  TrainDefaults defaults;
  defaults.optimizer = optimizer;
  defaults.lr = lr;
  defaults.epochs = epochs;
  defaults.batch_size = batch_size;
  defaults.clip_grad_norm = clip_grad_norm;
  defaults.schedule = schedule;
  return defaults;
}

// One decoded input, with what a heat map needs.
struct Prediction {
  std::string output;
  std::vector<std::string> source_tokens;  // columns of the attention map
  std::vector<std::string> target_tokens;  // rows
  Tensor attention;                        // [target, source] weights, or undefined
  // Image tasks (undefined otherwise): the input image [C, H, W] with pixels in [0, 1], and for
  // each output token (row of target_tokens) its attention over a grid of image regions
  // [target, grid_h, grid_w] (cell (r, c) covers the r-th of grid_h equal bands of rows and the
  // c-th of grid_w bands of columns). tools/predict draws each row over the image
  // (models/common/image_overlay.h) and in the terminal. (The {} initializers keep
  // four-field aggregate initializations of text predictions free of missing-field warnings.)
  Tensor image{};
  Tensor spatial_attention{};
};

// One metric: a name ("exact_match", "loss", "wer", ...) and its value.
using Metrics = std::vector<std::pair<std::string, double>>;

// A trainable model with its data (see above): setup, batch losses per epoch, evaluate, predict.
class Task {
 public:
  virtual ~Task() = default;

  // Loads or generates the data and builds the model.
  virtual void setup(const TaskOptions& options) = 0;
  virtual nn::Module& model() = 0;
  virtual TrainDefaults defaults() const = 0;

  // Shuffles the training split for `epoch` (seeded) and returns its number of batches.
  virtual int64_t start_epoch(int64_t epoch, int64_t batch_size) = 0;
  // The mean loss of batch `index` of the current epoch, recorded on the tape (the caller runs
  // backward and the optimizer); `items` receives the batch's number of examples.
  virtual Tensor batch_loss(int64_t index, int64_t* items) = 0;

  // Metrics on "valid" or "test" (in eval mode, no gradients); the first is the headline one.
  // The default computes them from sums (evaluates_by_sums below):
  // evaluation_metrics(evaluation_sums(split)) -- in a shard, this process's part's metrics.
  virtual Metrics evaluate(const std::string& split);
  // Decodes one input given as text.
  virtual Prediction predict(const std::string& input) = 0;
  // A few inputs worth showing in a report (e.g. held-out examples).
  virtual std::vector<std::string> example_inputs() const = 0;

  // This task as an interactive one (trained by acting in an environment), or nullptr when it
  // trains on epochs of batches.
  virtual InteractiveTask* interactive() { return nullptr; }

  // Data parallelism (models/common/shard.h). After set_shard, a task whose shards_batches() is
  // true computes in batch_loss(i) only this process's part of batch i: the part's mean loss
  // times its weight, with `items` the part's count. A task that cannot cut its batches computes
  // whole batches on every rank -- the same averaged gradient, only no faster. Batch numbering
  // and the epoch's shuffle do not change: they depend on (seed, epoch, batch size) only, so N
  // processes with batch size B take the same steps as one process with B.
  void set_shard(Shard shard) { shard_ = shard; }
  const Shard& shard() const { return shard_; }
  virtual bool shards_batches() const { return false; }
  // Whether, in a shard, every rank still runs the model forward on the whole batch and only the
  // loss is cut (a graph task: a node's output needs its neighbours). Then the ranks draw the
  // same random numbers in the model (dropout masks for the whole batch, as one process draws
  // them); otherwise train() gives each rank a stream of its own for its part.
  virtual bool shard_runs_whole_forward() const { return false; }
  // Sharded evaluation (models/common/evaluation_sums.h). A task whose metrics all follow from
  // sums over the examples of a split returns true from evaluates_by_sums() and implements the
  // two functions after it (and keeps the default evaluate).
  // Under N processes, train() has every rank sum its part of the split, adds the ranks' sums
  // with one all-reduce and computes the whole split's metrics from them: each rank evaluates
  // 1/N of the examples. A task that returns false evaluates the whole split on every rank.
  virtual bool evaluates_by_sums() const { return false; }
  // The sums over this process's part of `split` (shard_evaluation_part of its examples; all of
  // them on one process). Every rank adds the same names in the same order, also for an empty
  // part. The default is an error: the task does not evaluate by sums.
  virtual EvaluationSums evaluation_sums(const std::string& split);
  // The metrics (headline first, as evaluate returns them) of sums over a whole split. The
  // default is an error, like evaluation_sums'.
  virtual Metrics evaluation_metrics(const EvaluationSums& sums) const;

 protected:
  Shard shard_;
};

}  // namespace minidl::models
