// The training loop of an interactive task (models/common/interactive_task.h): reinforcement
// learning, where the data is what the agent does, so there are no batches to shuffle and an
// "epoch" is a fixed number of environment steps (task.steps_per_epoch()). models::train calls
// this for every task whose interactive() is not null; the options are train()'s.
//
// Per environment step: task.interact(batch_size); when it returns a loss, backward, gradient
// clipping, the optimizer's step (learning rate scheduled over environment steps) and
// task.after_update(). Per epoch: the validation metrics (task.evaluate("valid")), a row of
// log.csv, the checkpoints. The headline validation metric reaching task.solved_threshold() for
// the first time is recorded (epoch, environment steps, episodes, time) in the result, the
// checkpoints, and a line of the progress.
//
// The checkpoint directory holds
//   checkpoint.safetensors  model, optimizer, default generator, and the task's state
//                           (task.save_state: e.g. target network, replay buffer, environment,
//                           exploration generator, counters) as "user.task.*" tensors and
//                           metadata, with the loop's epoch, step in the epoch, updates,
//                           episodes, elapsed time, best and first-solved records
//   best.safetensors        the same after the epoch with the best headline validation metric
//   log.csv                 epoch,step,train_loss,episodes,<task status>,valid_<metric>...,
//                           elapsed_seconds   (step = environment steps; train_loss = the mean
//                           loss of the epoch's updates)
//   episodes.csv            episode,step,return,length,elapsed_seconds (one row per finished
//                           training episode)
// A resumed run restores all of it and drops the log rows past the checkpoint's step, so it
// acts, learns and logs exactly as a run that never stopped.
#pragma once

#include "models/common/interactive_task.h"
#include "models/common/training.h"

namespace minidl::models {

// Trains `task` for options.epochs epochs of task.steps_per_epoch() environment steps (resuming
// from checkpoint_dir when options.resume); the result counts steps, updates and episodes.
TrainResult train_interactive(InteractiveTask& task, const TrainOptions& options);

}  // namespace minidl::models
