// Training checkpoints: the model, the optimizer's state, the scheduler's progress, the step
// counter and the default random generator, in one file, so that training resumed from it makes
// exactly the same updates (bit for bit) as training that never stopped.
//
//   nn::save_checkpoint("run/", model, optimizer, &scheduler, step);   //
//   run/checkpoint.safetensors
//   ...
//   nn::CheckpointInfo info = nn::load_checkpoint("run/", model, optimizer, &scheduler);
//   for (int64_t step = info.step; step < total; ++step) ...
//
// The format: one safetensors file (nn/safetensors.h), readable by any safetensors reader,
// written atomically (temporary file + fsync + rename: a crash leaves the previous checkpoint).
//   tensors   "model.<name>"        model.state_dict(): parameters and buffers, dotted names
//             "optimizer.<key>"     the optimizer's state tensors, e.g. "optimizer.state.3.exp_avg"
//   metadata  "format"              "minidl.checkpoint"
//             "version"             "1"
//             "step"                the step counter (decimal integer)
//             "rng_state"           default_generator().get_state()
//             "optimizer"           optimizer.name(), e.g. "Adam" (checked on loading)
//             "optimizer.<key>"     each number of optimizer.state_dict(), e.g.
//                                   "optimizer.param_groups.0.lr", "optimizer.state.3.step"
//             "scheduler"           "1" if the checkpoint holds a scheduler's state, else "0"
//             "scheduler.<key>"     each number of scheduler->state_dict()
//             "user.<key>"          the caller's extra metadata
//   tensors   "user.<name>"         the caller's extra tensors (e.g. a replay buffer, a target
//                                   network: what a reinforcement-learning run needs to resume)
// Numbers are written with 17 significant digits ("%.17g"), which round-trips every double
// exactly (inf and nan included).
//
// Loading checks the whole file first (a truncated or corrupt file, a file that is not a
// checkpoint, a malformed number or generator state are errors naming the file), then restores
// model, optimizer, scheduler and generator. A model whose architecture differs is an error that
// names the missing, unexpected or mis-shaped key; if any part fails to load, the model and the
// optimizer are put back as they were, and the scheduler and the generator are not touched.
// ReduceLROnPlateau (not an LRScheduler) is not covered: save its state_dict() as user metadata.
#pragma once

#include <cstdint>
#include <string>

#include "nn/module.h"
#include "nn/optim.h"
#include "nn/safetensors.h"
#include "nn/scheduler.h"

namespace minidl::nn {

// What load_checkpoint returns besides the restored objects.
struct CheckpointInfo {
  int64_t step = 0;   // the step counter given to save_checkpoint
  Metadata metadata;  // the `extra` metadata given to save_checkpoint ("user." prefix removed)
  StateDict tensors;  // the `extra_tensors` given to save_checkpoint ("user." prefix removed)
};

// The file a checkpoint location names: `<dir>/checkpoint.safetensors` when dir_or_path is an
// existing directory or ends with '/', else dir_or_path itself.
std::string checkpoint_path(const std::string& dir_or_path);

// Writes a checkpoint (scheduler may be null) and returns the path of the file written.
// `extra` is stored as string metadata (e.g. the epoch, a validation loss, the run's config),
// `extra_tensors` as tensors; load_checkpoint hands both back in CheckpointInfo.
std::string save_checkpoint(const std::string& dir_or_path, const Module& model,
                            const optim::Optimizer& optimizer, const optim::LRScheduler* scheduler,
                            int64_t step, const Metadata& extra = {},
                            const StateDict& extra_tensors = {});

// Restores a checkpoint written by save_checkpoint into objects constructed like the saved ones
// (same architecture, same optimizer kind and parameter groups, same scheduler kind). A scheduler
// must be given exactly when the checkpoint holds one.
CheckpointInfo load_checkpoint(const std::string& dir_or_path, Module& model,
                               optim::Optimizer& optimizer, optim::LRScheduler* scheduler);

}  // namespace minidl::nn
